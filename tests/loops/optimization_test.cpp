// Automatic and manual optimization: every training_step result form, the 1.x optimizer_idx
// loop and manual optimization training a two-optimizer GAN-style module, the optimizer hook
// overrides, batch transfer hooks, and the compile-time hook inventory.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

struct LinearData {
  torch::Tensor x = torch::linspace(-1, 1, 64).reshape({32, 2});
  torch::Tensor y = (2 * x.select(1, 0) - x.select(1, 1)).unsqueeze(1);
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 8}}; }
};

template <class Module>
auto make_trainer(volt::TrainerOptions options) {
  return volt::Trainer<Module, LinearData>(std::move(options), volt::SingleDevice{torch::kCPU}, volt::precision::FP32{});
}

// training_step returns a struct: loss plus an extra value that reaches on_train_batch_end.
struct StepResult {
  torch::Tensor loss;
  double batch_mean = 0.0;
};
struct StructModel : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  std::vector<double> seen_means;
  std::vector<bool> loss_requires_grad;
  StepResult training_step(const volt::data::Example& b) {
    return {torch::mse_loss(fc(b.data), b.target), b.data.mean().item<double>()};
  }
  void on_train_batch_end(const StepResult& out) {
    seen_means.push_back(out.batch_mean);
    loss_requires_grad.push_back(out.loss.requires_grad());
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

// training_step returns a map with "loss"; a map without it is an error naming the fix.
struct MapModel : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  bool forget_loss = false;
  std::vector<std::size_t> keys_at_epoch_end;
  std::map<std::string, torch::Tensor> training_step(const volt::data::Example& b) {
    auto loss = torch::mse_loss(fc(b.data), b.target);
    if (forget_loss) return {{"mse", loss}};
    return {{"loss", loss}, {"mae", (fc(b.data) - b.target).abs().mean()}};
  }
  void training_epoch_end(std::vector<std::map<std::string, torch::Tensor>> outputs) {
    for (const auto& o : outputs) keys_at_epoch_end.push_back(o.size());
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

// An empty optional skips backward (Lightning's `return None`).
struct SkippingModel : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  std::optional<torch::Tensor> training_step(const volt::data::Example& b, std::int64_t batch_idx) {
    if (batch_idx % 2 == 1) return std::nullopt;
    return torch::mse_loss(fc(b.data), b.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

TEST_CASE("training_step may return a struct with loss, a map with \"loss\", or an optional", "[optimization]") {
  LinearData data;
  SECTION("struct") {
    StructModel m;
    auto t = make_trainer<StructModel>({.max_epochs = 2});
    t.fit(m, data);
    CHECK(t.global_step() == 8);
    REQUIRE(m.seen_means.size() == 8);
    CHECK(m.seen_means[0] == Approx(data.x.narrow(0, 0, 8).mean().item<double>()));
    CHECK(std::none_of(m.loss_requires_grad.begin(), m.loss_requires_grad.end(), [](bool b) { return b; }));
  }
  SECTION("map") {
    MapModel m;
    auto t = make_trainer<MapModel>({.max_epochs = 1});
    t.fit(m, data);
    CHECK(t.global_step() == 4);
    CHECK((m.keys_at_epoch_end == std::vector<std::size_t>{2, 2, 2, 2}));
    MapModel bad;
    bad.forget_loss = true;
    auto t2 = make_trainer<MapModel>({.max_epochs = 1});
    REQUIRE_THROWS_WITH(t2.fit(bad, data), Catch::Contains("without a \"loss\" key"));
  }
  SECTION("optional") {
    SkippingModel m;
    auto t = make_trainer<SkippingModel>({.max_epochs = 1});
    t.fit(m, data);
    // Lightning 2.x: backward is skipped for batches 1 and 3, but optimizer_step still runs and counts.
    CHECK(t.global_step() == 4);
  }
}

namespace {

// A GAN-style pair: a generator and a discriminator, each with its own optimizer. The
// discriminator learns to tell data (+1) from generated points (-1); the generator learns to fool it.
struct GanParts : torch::nn::Module {
  torch::nn::Linear generator{register_module("generator", torch::nn::Linear(2, 2))};
  torch::nn::Linear discriminator{register_module("discriminator", torch::nn::Linear(2, 1))};
  torch::Tensor d_loss(const torch::Tensor& real) {
    auto fake = generator(torch::randn_like(real)).detach();
    return torch::softplus(-discriminator(real)).mean() + torch::softplus(discriminator(fake)).mean();
  }
  torch::Tensor g_loss(const torch::Tensor& real) {
    return torch::softplus(-discriminator(generator(torch::randn_like(real)))).mean();
  }
  auto configure_optimizers() {
    return std::tuple{torch::optim::Adam(generator->parameters(), torch::optim::AdamOptions(1e-2)),
                      torch::optim::Adam(discriminator->parameters(), torch::optim::AdamOptions(1e-2))};
  }
};

// Lightning 1.x: training_step(batch, batch_idx, optimizer_idx), one call per optimizer.
struct Gan1x : GanParts {
  std::vector<std::int64_t> optimizer_order;
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t, std::int64_t optimizer_idx) {
    optimizer_order.push_back(optimizer_idx);
    // toggle_optimizer: only the stepping optimizer's parameters require grad
    CHECK(generator->weight.requires_grad() == (optimizer_idx == 0));
    CHECK(discriminator->weight.requires_grad() == (optimizer_idx == 1));
    return optimizer_idx == 0 ? g_loss(b.data) : d_loss(b.data);
  }
};

// Manual optimization: training_step steps both optimizers itself.
struct GanManual : GanParts {
  static constexpr bool automatic_optimization = false;
  std::int64_t backward_hooks = 0;
  void on_before_backward(const torch::Tensor&) { ++backward_hooks; }
  void training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    auto g_opt = ctx.optimizer(0);
    auto d_opt = ctx.optimizer(1);
    ctx.toggle_optimizer(1);
    d_opt.zero_grad();
    ctx.manual_backward(d_loss(b.data));
    d_opt.step();
    ctx.untoggle_optimizer();
    ctx.toggle_optimizer(0);
    g_opt.zero_grad();
    ctx.manual_backward(g_loss(b.data));
    g_opt.step();
    ctx.untoggle_optimizer();
    ctx.log("d_loss", d_loss(b.data).detach());
  }
};

template <class Gan>
std::pair<torch::Tensor, torch::Tensor> gan_weights(Gan& g) {
  return {g.generator->weight.clone(), g.discriminator->weight.clone()};
}

}  // namespace

TEST_CASE("a two-optimizer GAN trains the 1.x way (optimizer_idx) and the manual way", "[optimization]") {
  LinearData data;
  SECTION("1.x optimizer_idx") {
    torch::manual_seed(1);
    Gan1x gan;
    const auto [g0, d0] = gan_weights(gan);
    auto t = make_trainer<Gan1x>({.max_epochs = 2});
    t.fit(gan, data);
    CHECK(t.global_step() == 2 * 4 * 2);  // both optimizers step on every batch
    CHECK((std::vector<std::int64_t>(gan.optimizer_order.begin(), gan.optimizer_order.begin() + 4) ==
           std::vector<std::int64_t>{0, 1, 0, 1}));
    const auto [g1, d1] = gan_weights(gan);
    CHECK_FALSE(torch::equal(g0, g1));
    CHECK_FALSE(torch::equal(d0, d1));
    CHECK(gan.generator->weight.requires_grad());  // untoggled after each step
  }
  SECTION("manual optimization") {
    torch::manual_seed(1);
    GanManual gan;
    const auto [g0, d0] = gan_weights(gan);
    auto t = make_trainer<GanManual>({.max_epochs = 2});
    t.fit(gan, data);
    CHECK(t.global_step() == 2 * 4 * 2);
    CHECK(gan.backward_hooks == 2 * 4 * 2);  // manual_backward runs on_before_backward
    const auto [g1, d1] = gan_weights(gan);
    CHECK_FALSE(torch::equal(g0, g1));
    CHECK_FALSE(torch::equal(d0, d1));
    CHECK(t.callback_metrics().count("d_loss") == 1);  // the last step value, as in Lightning
  }
  SECTION("manual optimization rejects Trainer-level accumulation and clipping") {
    GanManual gan;
    auto t = make_trainer<GanManual>({.max_epochs = 1, .accumulate_grad_batches = 2});
    REQUIRE_THROWS_WITH(t.fit(gan, data), Catch::Contains("accumulate_grad_batches=2") &&
                                              Catch::Contains("manual optimization"));
    auto t2 = make_trainer<GanManual>({.max_epochs = 1, .gradient_clip_val = 1.0});
    REQUIRE_THROWS_WITH(t2.fit(gan, data), Catch::Contains("gradient_clip_val=1") &&
                                               Catch::Contains("clip_gradients"));
  }
  SECTION("several optimizers without optimizer_idx or manual optimization is an error naming both fixes") {
    struct TwoOpt : GanParts {
      int steps = 0, fit_starts = 0;
      void on_fit_start() { ++fit_starts; }
      torch::Tensor training_step(const volt::data::Example& b) {
        ++steps;
        return g_loss(b.data);
      }
    };
    TwoOpt m;
    auto t = make_trainer<TwoOpt>({.max_epochs = 1});
    REQUIRE_THROWS_WITH(t.fit(m, data), Catch::Contains("2 optimizers") && Catch::Contains("automatic_optimization = false") &&
                                            Catch::Contains("optimizer_idx"));
    // Checked once, when fit starts: before on_fit_start and any training_step.
    CHECK(m.fit_starts == 0);
    CHECK(m.steps == 0);
  }
}

namespace {
// Lightning's GAN example, line by line: opt_g, opt_d = self.optimizers(); toggle_optimizer(opt);
// self.manual_backward; opt.step(); untoggle_optimizer(opt); self.log_dict({...}).
struct LightningGan : GanParts {
  static constexpr bool automatic_optimization = false;
  std::int64_t before_step = 0;
  std::vector<bool> toggled_right;
  void on_before_optimizer_step(torch::optim::Optimizer&) { ++before_step; }
  void training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    auto [opt_g, opt_d] = ctx.optimizers<2>();
    ctx.toggle_optimizer(opt_g);
    toggled_right.push_back(generator->weight.requires_grad() && !discriminator->weight.requires_grad());
    auto g = g_loss(b.data);
    ctx.manual_backward(g);
    opt_g.step();
    opt_g.zero_grad();
    ctx.untoggle_optimizer(opt_g);
    ctx.toggle_optimizer(opt_d);
    toggled_right.push_back(!generator->weight.requires_grad() && discriminator->weight.requires_grad());
    auto d = d_loss(b.data);
    ctx.manual_backward(d);
    opt_d.step();
    opt_d.zero_grad();
    ctx.untoggle_optimizer(opt_d);
    ctx.log_dict({{"g_loss", g.detach()}, {"d_loss", d.detach()}}, {.prog_bar = true});
  }
};

// A callback that takes the module as its own type, and the documented outputs form of
// on_train_batch_end with a training_step that returns nothing.
struct GanWatcher {
  std::vector<bool>* outputs_defined;
  std::vector<std::int64_t>* generator_out_features;
  void on_train_batch_end(const torch::Tensor& outputs, const volt::data::Example&, std::int64_t, volt::Context& ctx) {
    outputs_defined->push_back(outputs.defined());
    generator_out_features->push_back(ctx.module<LightningGan>().generator->options.out_features());
  }
  // The module first, as its own type (Lightning's pl_module), or as a template parameter.
  std::vector<std::int64_t>* steps_at_epoch_end;
  std::vector<bool>* started_typed;
  void on_train_epoch_end(LightningGan& gan, volt::Context&) { steps_at_epoch_end->push_back(gan.before_step); }
  template <class M>
  void on_train_start(M&, volt::Context&) {
    started_typed->push_back(std::is_same_v<M, LightningGan>);
  }
};

volt::TrainerOptions silent(volt::TrainerOptions options) {
  options.logger = false;
  options.enable_checkpointing = false;
  options.enable_progress_bar = false;
  options.enable_model_summary = false;
  return options;
}

// A precision other than the default, to see make_trainer place it.
struct OtherPrecision : volt::precision::FP32 {};

// Automatic optimization: stepping or calling manual_backward in training_step is an error.
struct AutomaticButSteps : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  bool use_manual_backward = true;
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    auto loss = torch::mse_loss(fc(b.data), b.target);
    if (use_manual_backward) ctx.manual_backward(loss);
    else ctx.optimizers()[0].step();
    return loss;
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};
}  // namespace

TEST_CASE("Lightning's GAN port: wrapped optimizers unpacked, toggled by optimizer, log_dict", "[optimization][porting]") {
  LinearData data;  // 4 batches per epoch
  SECTION("stepping goes through volt: global_step, on_before_optimizer_step, max_steps") {
    torch::manual_seed(1);
    LightningGan gan;
    const auto [g0, d0] = gan_weights(gan);
    auto t = volt::make_trainer<LightningGan, LinearData>(silent({.max_epochs = 5, .max_steps = 6}));
    t.fit(gan, data);
    CHECK(t.global_step() == 6);      // two optimizer steps per batch; max_steps ends fit after 3 batches
    CHECK(gan.before_step == 6);      // on_before_optimizer_step for each step
    CHECK(gan.toggled_right == std::vector<bool>(6, true));
    CHECK(gan.generator->weight.requires_grad());  // untoggled
    CHECK(gan.discriminator->weight.requires_grad());
    const auto [g1, d1] = gan_weights(gan);
    CHECK_FALSE(torch::equal(g0, g1));
    CHECK_FALSE(torch::equal(d0, d1));
    CHECK(t.callback_metrics().count("g_loss") == 1);
    CHECK(t.progress_bar_metrics().count("d_loss") == 1);
  }
  SECTION("a callback gets the module as its type; outputs of a void training_step are an undefined tensor") {
    std::vector<bool> outputs_defined, started_typed;
    std::vector<std::int64_t> out_features, steps_at_epoch_end;
    LightningGan gan;
    // One callback added without spelling out SingleDevice{} and FP32{}.
    auto t = volt::make_trainer<LightningGan, LinearData>(
        silent({.max_epochs = 1}), GanWatcher{&outputs_defined, &out_features, &steps_at_epoch_end, &started_typed});
    static_assert(std::is_same_v<decltype(t), volt::Trainer<LightningGan, LinearData, volt::SingleDevice,
                                                            volt::precision::FP32, GanWatcher>>);
    t.fit(gan, data);
    CHECK(outputs_defined == std::vector<bool>(4, false));
    CHECK(out_features == std::vector<std::int64_t>(4, 2));
    CHECK(steps_at_epoch_end == std::vector<std::int64_t>{8});  // the GAN's own counter, read as a LightningGan
    CHECK(started_typed == std::vector<bool>{true});
  }
  SECTION("unpacking another count than configure_optimizers returned names both") {
    struct ThreeWanted : LightningGan {
      void training_step(const volt::data::Example&, std::int64_t, volt::Context& ctx) {
        auto [a, b, c] = ctx.optimizers<3>();
        (void)a, (void)b, (void)c;
      }
    };
    ThreeWanted gan;
    auto t = volt::make_trainer<ThreeWanted, LinearData>(silent({.max_epochs = 1}));
    REQUIRE_THROWS_WITH(t.fit(gan, data), Catch::Contains("ctx.optimizers<3>() unpacks 3") &&
                                              Catch::Contains("returned 2"));
  }
}

namespace {
// The same port in its natural form: a hook taking `auto& ctx` gets the module's typed
// volt::RunContext, whose optimizers() unpack without a count, each knowing its torch type; the
// return type is deduced. A hook taking volt::Context& next to it gets the same run as its base.
struct NaturalGan : GanParts {
  static constexpr bool automatic_optimization = false;
  std::int64_t before_step = 0;
  std::vector<bool> toggled_right;
  std::vector<double> g_losses;
  std::vector<std::size_t> counts_seen_by_base;
  std::vector<std::int64_t> batch_end_steps;
  void on_before_optimizer_step(torch::optim::Optimizer&) { ++before_step; }
  auto training_step(const volt::data::Example& b, std::int64_t, auto& ctx) {
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(ctx)>, volt::RunContext<NaturalGan>>);
    auto [opt_g, opt_d] = ctx.optimizers();  // Lightning: opt_g, opt_d = self.optimizers()
    static_assert(std::is_same_v<decltype(opt_g.optimizer()), torch::optim::Adam&>);
    ctx.toggle_optimizer(opt_g);
    toggled_right.push_back(generator->weight.requires_grad() && !discriminator->weight.requires_grad());
    auto g = g_loss(b.data);
    ctx.manual_backward(g);
    opt_g.step();
    opt_g.zero_grad();
    ctx.untoggle_optimizer(opt_g);
    ctx.toggle_optimizer(opt_d);
    toggled_right.push_back(!generator->weight.requires_grad() && discriminator->weight.requires_grad());
    auto d = d_loss(b.data);
    ctx.manual_backward(d);
    opt_d.step();
    opt_d.zero_grad();
    ctx.untoggle_optimizer(opt_d);
    ctx.log_dict({{"g_loss", g.detach()}, {"d_loss", d.detach()}});
    return g.detach();
  }
  // Fewer arguments than volt passes (no batch_idx): indices are passed by value, so the generic
  // last parameter can only be the context.
  void on_train_batch_end(const torch::Tensor& outputs, const volt::data::Example&, auto& ctx) {
    g_losses.push_back(outputs.item<double>());
    batch_end_steps.push_back(ctx.global_step());
    auto [g, d] = ctx.template optimizers<2>();  // the count spelled out: checked at compile time
    CHECK(d.index() == 1);
  }
  void on_train_epoch_end(volt::Context& ctx) { counts_seen_by_base.push_back(ctx.optimizers().size()); }
};

// configure_optimizers returns a std::vector: the count is known at run time only, so the typed
// context's optimizers() is the plain range.
struct VectorOptimizers : GanParts {
  auto configure_optimizers() {
    std::vector<torch::optim::SGD> optimizers;
    optimizers.emplace_back(parameters(), torch::optim::SGDOptions(0.1));
    return optimizers;
  }
};
}  // namespace

TEST_CASE("a hook taking auto& ctx gets the typed RunContext: optimizers() unpack without a count",
          "[optimization][porting]") {
  using volt::data::Example;
  using volt::hooks::match_v;
  // Detection finds the generic hooks with the context last, the deduced return type included.
  constexpr auto step = match_v<volt::hooks::training_step_t, NaturalGan, const Example&, std::int64_t, std::int64_t>;
  STATIC_REQUIRE(step.arity == 2);
  STATIC_REQUIRE(step.with_context);
  STATIC_REQUIRE(volt::TrainableModule<NaturalGan, Example>);
  constexpr auto batch_end =
      match_v<volt::hooks::on_train_batch_end_t, NaturalGan, const torch::Tensor&, const Example&, std::int64_t&>;
  STATIC_REQUIRE(batch_end.arity == 2);
  STATIC_REQUIRE(batch_end.with_context);
  STATIC_REQUIRE(std::is_same_v<volt::hooks::hook_context_t<NaturalGan>, volt::RunContext<NaturalGan>>);
  STATIC_REQUIRE(std::is_same_v<volt::hooks::hook_context_t<LinearData>, volt::Context>);  // not a module
  STATIC_REQUIRE(std::is_same_v<decltype(std::declval<volt::RunContext<VectorOptimizers>&>().optimizers()),
                                volt::ManualOptimizers>);

  LinearData data;  // 4 batches per epoch
  torch::manual_seed(1);
  NaturalGan gan;
  const auto [g0, d0] = gan_weights(gan);
  auto t = volt::make_trainer<NaturalGan, LinearData>(silent({.max_epochs = 2}));
  t.fit(gan, data);
  CHECK(t.global_step() == 16);  // two optimizer steps per batch, through volt
  CHECK(gan.before_step == 16);
  CHECK(gan.toggled_right == std::vector<bool>(16, true));
  const std::vector<std::int64_t> two_steps_per_batch{2, 4, 6, 8, 10, 12, 14, 16};
  CHECK(gan.batch_end_steps == two_steps_per_batch);
  CHECK(gan.g_losses.size() == 8);  // training_step's deduced result reached on_train_batch_end
  const std::vector<std::size_t> two_per_epoch{2, 2};
  CHECK(gan.counts_seen_by_base == two_per_epoch);
  CHECK(t.callback_metrics().count("d_loss") == 1);
  const auto [g1, d1] = gan_weights(gan);
  CHECK_FALSE(torch::equal(g0, g1));
  CHECK_FALSE(torch::equal(d0, d1));
}

TEST_CASE("make_trainer deduces callbacks after an optional strategy and precision", "[trainer][porting]") {
  struct Marker {};
  using Plain = decltype(volt::make_trainer<LightningGan, LinearData>({}, Marker{}));
  static_assert(std::is_same_v<Plain, volt::Trainer<LightningGan, LinearData, volt::SingleDevice, volt::precision::FP32, Marker>>);
  using WithPrecision = decltype(volt::make_trainer<LightningGan, LinearData>({}, OtherPrecision{}, Marker{}));
  static_assert(std::is_same_v<WithPrecision, volt::Trainer<LightningGan, LinearData, volt::SingleDevice,
                                                           OtherPrecision, Marker>>);
  using Both = decltype(volt::make_trainer<LightningGan, LinearData>({}, volt::SingleDevice{}, OtherPrecision{}));
  static_assert(std::is_same_v<Both, volt::Trainer<LightningGan, LinearData, volt::SingleDevice, OtherPrecision>>);
  auto t = volt::make_trainer<LightningGan, LinearData>({.max_epochs = 2});
  CHECK(t.options().max_epochs == 2);
}

TEST_CASE("under automatic optimization manual_backward and optimizer.step() are errors naming the fix",
          "[optimization][porting]") {
  LinearData data;
  AutomaticButSteps m;
  const auto quiet_options = silent({.max_epochs = 1});
  auto t = volt::make_trainer<AutomaticButSteps, LinearData>(quiet_options);
  REQUIRE_THROWS_WITH(t.fit(m, data), Catch::Contains("ctx.manual_backward()") &&
                                          Catch::Contains("automatic optimization") &&
                                          Catch::Contains("static constexpr bool automatic_optimization = false;"));
  m.use_manual_backward = false;
  auto t2 = volt::make_trainer<AutomaticButSteps, LinearData>(quiet_options);
  REQUIRE_THROWS_WITH(t2.fit(m, data), Catch::Contains("ctx.optimizers()[0].step()") &&
                                           Catch::Contains("static constexpr bool automatic_optimization = false;"));
}

namespace {
// Overrides of optimizer_zero_grad / optimizer_step / configure_gradient_clipping, and the
// 1.x training_step_end.
struct OverridingModel : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  std::vector<std::string> calls;
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  torch::Tensor training_step_end(torch::Tensor loss) {
    calls.push_back("training_step_end");
    return loss * 2.0;
  }
  void optimizer_zero_grad(std::int64_t, std::int64_t, torch::optim::Optimizer& opt) {
    calls.push_back("optimizer_zero_grad");
    opt.zero_grad();
  }
  void configure_gradient_clipping(torch::optim::Optimizer& opt, std::optional<double> val, volt::GradClipAlgorithm) {
    calls.push_back("configure_gradient_clipping");
    volt::Context::clip_gradients(opt, val.value_or(0.001));
  }
  void optimizer_step(std::int64_t epoch, std::int64_t batch_idx, auto& optimizer, auto& optimizer_closure) {
    calls.push_back("optimizer_step " + std::to_string(epoch) + "/" + std::to_string(batch_idx));
    optimizer.step(optimizer_closure);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};
}  // namespace

TEST_CASE("optimizer_zero_grad, configure_gradient_clipping, optimizer_step and training_step_end overrides", "[optimization]") {
  OverridingModel m;
  LinearData data;
  auto t = make_trainer<OverridingModel>({.max_epochs = 1, .limit_train_batches = 2});
  t.fit(m, data);
  // Lightning 2.x's order: optimizer_step is entered first; its optimizer.step(closure) runs the rest.
  CHECK((m.calls == std::vector<std::string>{"optimizer_step 0/0", "training_step_end", "optimizer_zero_grad",
                                             "configure_gradient_clipping", "optimizer_step 0/1", "training_step_end",
                                             "optimizer_zero_grad", "configure_gradient_clipping"}));
  CHECK(t.global_step() == 2);
}

namespace {
// A std::vector of batches as the loader: the loop iterates the same vector every epoch.
struct VectorData {
  torch::Tensor x = torch::linspace(-1, 1, 24).reshape({12, 2});
  torch::Tensor y = x.sum(1, /*keepdim=*/true);
  std::vector<volt::data::Example> train_dataloader() const {
    return {{x.narrow(0, 0, 4), y.narrow(0, 0, 4)}, {x.narrow(0, 4, 4), y.narrow(0, 4, 4)},
            {x.narrow(0, 8, 4), y.narrow(0, 8, 4)}};
  }
};
struct VectorLoaderModel : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  std::map<std::int64_t, std::vector<double>> first_inputs;  // epoch -> each batch's first input value
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    first_inputs[ctx.current_epoch()].push_back(b.data.defined() ? b.data[0][0].item<double>() : -99.0);
    return torch::mse_loss(fc(b.data), b.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};
}  // namespace

TEST_CASE("a std::vector of batches as the loader gives every batch in every epoch", "[optimization][data]") {
  VectorLoaderModel m;
  VectorData data;
  volt::Trainer<VectorLoaderModel, VectorData> t({.logger = false,
                                                  .max_epochs = 3,
                                                  .enable_checkpointing = false,
                                                  .enable_progress_bar = false,
                                                  .enable_model_summary = false},
                                                 volt::SingleDevice{torch::kCPU}, volt::precision::FP32{});
  t.fit(m, data);
  const std::vector<double> expected{data.x[0][0].item<double>(), data.x[4][0].item<double>(),
                                     data.x[8][0].item<double>()};
  REQUIRE(m.first_inputs.size() == 3);
  for (const auto& [epoch, seen] : m.first_inputs) {
    INFO("epoch " << epoch);
    CHECK(seen == expected);
  }
  CHECK(t.global_step() == 9);
}

namespace {
struct CustomBatch {
  torch::Tensor x, y;
  bool transferred = false;
  int before = 0, after = 0;
};
struct CustomLoader {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  std::vector<CustomBatch> batches{{x.narrow(0, 0, 4), y.narrow(0, 0, 4)}, {x.narrow(0, 4, 4), y.narrow(0, 4, 4)}};
  auto begin() const { return batches.begin(); }
  auto end() const { return batches.end(); }
};
struct CustomData {
  CustomLoader train_dataloader() const { return {}; }
  // The DataModule's hook takes precedence over the module's, as in Lightning.
  CustomBatch on_before_batch_transfer(CustomBatch b, std::int64_t) {
    b.before += 1;
    return b;
  }
};
struct TransferModel : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  std::vector<std::string> seen;
  CustomBatch on_before_batch_transfer(CustomBatch b, std::int64_t) {
    b.before += 100;  // not called: the DataModule has this hook
    return b;
  }
  CustomBatch transfer_batch_to_device(CustomBatch b, torch::Device device, std::int64_t dataloader_idx) {
    b.x = b.x.to(device);
    b.y = b.y.to(device);
    b.transferred = dataloader_idx == 0;
    return b;
  }
  CustomBatch on_after_batch_transfer(CustomBatch b, std::int64_t) {
    b.after += 1;
    return b;
  }
  torch::Tensor training_step(const CustomBatch& b) {
    seen.push_back(std::to_string(b.before) + "/" + (b.transferred ? "moved" : "stayed") + "/" + std::to_string(b.after));
    return torch::mse_loss(fc(b.x), b.y);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};
}  // namespace

TEST_CASE("batch transfer hooks run in Lightning's order, the DataModule's first", "[optimization][data]") {
  TransferModel m;
  CustomData data;
  volt::Trainer<TransferModel, CustomData> t({.max_epochs = 1}, volt::SingleDevice{torch::kCPU}, volt::precision::FP32{});
  t.fit(m, data);
  CHECK((m.seen == std::vector<std::string>{"1/moved/1", "1/moved/1"}));
}

namespace {
struct NoValidation : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
  void on_train_epoch_end(volt::Context&) {}
};
struct WithValLoader : LinearData {
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 8}}; }
};
}  // namespace

TEST_CASE("the Trainer knows at compile time which hooks exist and which loops to build", "[optimization][hooks]") {
  using T = volt::Trainer<NoValidation, WithValLoader>;
  constexpr auto hooks = T::detected_hooks();
  STATIC_REQUIRE(std::ranges::find(hooks, "training_step") != hooks.end());
  STATIC_REQUIRE(std::ranges::find(hooks, "on_train_epoch_end") != hooks.end());
  STATIC_REQUIRE(std::ranges::find(hooks, "validation_step") == hooks.end());
  // No validation_step: fit has no validation loop, although the DataModule has a val loader.
  STATIC_REQUIRE_FALSE(T::validates_in_fit());
  STATIC_REQUIRE(volt::Trainer<Gan1x, WithValLoader>::detected_hooks().size() >= 2);

  struct WithValidation : NoValidation {
    torch::Tensor validation_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  };
  STATIC_REQUIRE(volt::Trainer<WithValidation, WithValLoader>::validates_in_fit());
  STATIC_REQUIRE_FALSE(volt::Trainer<WithValidation, LinearData>::validates_in_fit());  // no val loader
}

namespace {
// Lightning 1.x calls training_step_end under manual optimization too.
struct ManualStepEnd : torch::nn::Module {
  static constexpr bool automatic_optimization = false;
  torch::nn::Linear fc{nullptr};
  std::vector<double> ends;
  std::int64_t batch_end_values = 0;
  ManualStepEnd() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  double training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    auto opt = ctx.optimizer(0);
    opt.zero_grad();
    auto loss = torch::mse_loss(fc(b.data), b.target);
    ctx.manual_backward(loss);
    opt.step();
    return loss.item<double>();
  }
  double training_step_end(double loss) {
    ends.push_back(loss);
    return -1.0;
  }
  void on_train_batch_end(double out) { batch_end_values += out == -1.0 ? 1 : 0; }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.01)); }
};
}  // namespace

TEST_CASE("manual optimization: training_step_end gets the step's output, and its result flows on", "[optimization]") {
  LinearData data;
  ManualStepEnd model;
  auto t = make_trainer<ManualStepEnd>({.max_epochs = 1});
  t.fit(model, data);
  CHECK(model.ends.size() == 4);
  CHECK(model.batch_end_values == 4);
}

namespace {
volt::TrainerOptions quiet(volt::TrainerOptions options) {
  options.logger = false;
  options.enable_checkpointing = false;
  options.enable_progress_bar = false;
  options.enable_model_summary = false;
  return options;
}

// A convex least-squares problem that torch::optim::LBFGS solves in a few steps; LBFGS calls
// the closure several times per step, so it trains only if the Trainer hands it the closure.
struct LbfgsModel : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  std::int64_t steps_run = 0;
  torch::Tensor training_step(const volt::data::Example& b) {
    ++steps_run;
    return torch::mse_loss(fc(b.data), b.target);
  }
  auto configure_optimizers() {
    return torch::optim::LBFGS(parameters(), torch::optim::LBFGSOptions(1.0).max_iter(20).line_search_fn("strong_wolfe"));
  }
};
}  // namespace

TEST_CASE("LBFGS, which needs a closure, solves a convex problem through the Trainer", "[optimization][closure]") {
  torch::manual_seed(0);
  LinearData data;
  LbfgsModel model;
  volt::Trainer<LbfgsModel, LinearData> trainer(quiet({.max_epochs = 2}), volt::SingleDevice{torch::kCPU},
                                                volt::precision::FP32{});
  trainer.fit(model, data);
  CHECK(trainer.global_step() == 8);
  CHECK(model.steps_run > 8);  // LBFGS evaluated the closure (training_step, backward) several times per step
  torch::NoGradGuard no_grad;
  const double loss = torch::mse_loss(model.fc(data.x), data.y).item<double>();
  CHECK(loss < 1e-8);  // solved (LinearData's two inputs are collinear: the weights are not unique, the fit is)
}

namespace {
// Lightning 2.x: an optimizer_step override that does not call optimizer.step(closure) skips
// training_step and the update for that batch.
struct SkipOddBatches : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  std::vector<std::int64_t> trained, entered;
  std::vector<bool> weights_moved, had_output;
  torch::Tensor before;
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t batch_idx) {
    trained.push_back(batch_idx);
    return torch::mse_loss(fc(b.data), b.target);
  }
  void optimizer_step(std::int64_t, std::int64_t batch_idx, auto& optimizer, auto& optimizer_closure) {
    entered.push_back(batch_idx);
    if (batch_idx % 2 == 0) optimizer.step(optimizer_closure);
  }
  void on_train_batch_start(const volt::data::Example&, std::int64_t) { before = fc->weight.detach().clone(); }
  void on_train_batch_end(const torch::Tensor& output) {
    weights_moved.push_back(!torch::equal(before, fc->weight.detach()));
    had_output.push_back(output.defined());
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};
}  // namespace

TEST_CASE("an optimizer_step override that skips the closure on odd batches trains only on even ones",
          "[optimization][closure]") {
  LinearData data;
  SkipOddBatches model;
  auto trainer = make_trainer<SkipOddBatches>(quiet({.max_epochs = 2}));
  trainer.fit(model, data);
  CHECK((model.entered == std::vector<std::int64_t>{0, 1, 2, 3, 0, 1, 2, 3}));  // entered for every batch
  CHECK((model.trained == std::vector<std::int64_t>{0, 2, 0, 2}));              // training_step only in the closure
  CHECK((model.weights_moved == std::vector<bool>{true, false, true, false, true, false, true, false}));
  CHECK((model.had_output == std::vector<bool>{true, false, true, false, true, false, true, false}));
  CHECK(trainer.global_step() == 8);  // counted per optimizer_step call, as Lightning's progress counts it
}

namespace {
// Lightning's documented learning-rate warm-up override, line for line:
//   def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure):
//       optimizer.step(closure=optimizer_closure)
//       if self.trainer.global_step < 4:
//           lr_scale = min(1.0, float(self.trainer.global_step + 1) / 4.0)
//           for pg in optimizer.param_groups:
//               pg["lr"] = lr_scale * self.learning_rate
struct WarmUp : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  double learning_rate = 0.2;
  std::vector<double> lr_seen;
  std::vector<std::string> order;
  torch::Tensor training_step(const volt::data::Example& b) {
    order.push_back("training_step");
    return torch::mse_loss(fc(b.data), b.target);
  }
  void on_before_optimizer_step(torch::optim::Optimizer& optimizer) {
    order.push_back("on_before_optimizer_step");
    lr_seen.push_back(optimizer.param_groups()[0].options().get_lr());
  }
  void optimizer_step(std::int64_t, std::int64_t, auto& optimizer, auto& optimizer_closure, volt::Context& ctx) {
    order.push_back("optimizer_step");
    optimizer.step(optimizer_closure);
    if (ctx.global_step() < 4) {
      const double lr_scale = std::min(1.0, static_cast<double>(ctx.global_step() + 1) / 4.0);
      for (auto& pg : optimizer->param_groups()) pg.options().set_lr(lr_scale * learning_rate);
    }
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(learning_rate)); }
};
}  // namespace

TEST_CASE("a Lightning optimizer_step override that calls optimizer.step(closure) ports line for line",
          "[optimization][closure]") {
  LinearData data;
  WarmUp model;
  auto trainer = make_trainer<WarmUp>(quiet({.max_epochs = 2}));
  trainer.fit(model, data);
  CHECK_THAT(model.lr_seen, Catch::Approx(std::vector<double>{0.2, 0.05, 0.1, 0.15, 0.2, 0.2, 0.2, 0.2}));
  REQUIRE(model.order.size() >= 3);
  CHECK((std::vector<std::string>(model.order.begin(), model.order.begin() + 3) ==
         std::vector<std::string>{"optimizer_step", "training_step", "on_before_optimizer_step"}));
}

namespace {
// A toy grad scaler, written as a new Precision type with no edit to the loops: backward on
// the loss times 4, gradients unscaled before on_before_optimizer_step and clipping, and the
// step skipped on every second call (as a scaler skips on inf/NaN).
struct ToyScaler {
  static constexpr const char* name = "toy";
  double scale = 4.0;
  std::int64_t calls = 0;
  std::vector<bool>* taken;
  void convert_module(torch::nn::Module&) const noexcept {}
  template <class Batch>
  Batch&& convert_input(Batch&& batch) const noexcept {
    return static_cast<Batch&&>(batch);
  }
  struct NoGuard {};
  NoGuard forward_context() const noexcept { return {}; }
  template <class Hooks>
  void backward(const torch::Tensor& loss, Hooks& hooks) {
    const auto scaled = loss * scale;
    hooks.before_backward(scaled);
    hooks.backward(scaled);
    hooks.after_backward();
  }
  template <class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Optimizer& optimizer, Closure& closure, Hooks& hooks) {
    closure();
    for (auto& group : optimizer.param_groups())
      for (auto& p : group.params())
        if (p.grad().defined()) p.mutable_grad().div_(scale);
    hooks.after_closure(optimizer);
    const bool step = calls++ % 2 == 0;
    if (step) optimizer.step();
    taken->push_back(step);
    return step;
  }
};
static_assert(volt::Precision<ToyScaler>);

// A strategy that records what the loops ask of it, on top of SingleDevice.
struct RecordingStrategy : volt::SingleDevice {
  std::vector<std::string>* calls;
  explicit RecordingStrategy(std::vector<std::string>* c) : volt::SingleDevice(torch::kCPU), calls(c) {}
  template <class Precision, class Hooks>
  void backward(Precision& precision, const torch::Tensor& loss, Hooks& hooks) {
    calls->push_back("strategy.backward");
    precision.backward(loss, hooks);
  }
  template <class Precision, class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Precision& precision, Optimizer& optimizer, Closure& closure, Hooks& hooks) {
    calls->push_back("strategy.optimizer_step");
    return precision.optimizer_step(optimizer, closure, hooks);
  }
  struct NoSync {
    std::vector<std::string>* calls;
    ~NoSync() { calls->push_back("no_sync end"); }
  };
  NoSync no_backward_sync() {
    calls->push_back("no_sync begin");
    return NoSync{calls};
  }
};
static_assert(volt::Strategy<RecordingStrategy>);

struct ScaledModel : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  std::vector<std::string>* calls;
  std::vector<double> raw_loss, loss_seen, lr_after_batch;
  explicit ScaledModel(std::vector<std::string>* c) : calls(c) {}
  torch::Tensor training_step(const volt::data::Example& b) {
    calls->push_back("training_step");
    auto loss = torch::mse_loss(fc(b.data), b.target);
    raw_loss.push_back(loss.item<double>());
    return loss;
  }
  void on_before_backward(const torch::Tensor& loss) { loss_seen.push_back(loss.item<double>()); }
  void on_before_optimizer_step(torch::optim::Optimizer&) { calls->push_back("on_before_optimizer_step"); }
  void on_train_batch_end(const torch::Tensor&, const volt::data::Example&, std::int64_t, volt::Context& ctx) {
    lr_after_batch.push_back(ctx.raw_optimizers().at(0)->param_groups()[0].options().get_lr());
  }
  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)),
                                volt::optim::StepLR{{.step_size = 1, .gamma = 0.5}},
                                {.interval = volt::Interval::step});
  }
};
}  // namespace

TEST_CASE("the loops reach the precision only through the strategy: a toy grad scaler and a recording strategy",
          "[optimization][closure][strategy][precision]") {
  LinearData data;
  std::vector<std::string> calls;
  std::vector<bool> taken;
  ScaledModel model(&calls);
  volt::Trainer<ScaledModel, LinearData, RecordingStrategy, ToyScaler> trainer(
      quiet({.max_epochs = 1, .accumulate_grad_batches = 2}), RecordingStrategy{&calls}, ToyScaler{.taken = &taken});
  trainer.fit(model, data);  // 4 batches: steps after batches 2 and 4

  const std::vector<std::string> window{"no_sync begin",           "training_step",     "strategy.backward",
                                        "no_sync end",             "strategy.optimizer_step",
                                        "training_step",           "strategy.backward",
                                        "on_before_optimizer_step"};
  std::vector<std::string> expected = window;
  expected.insert(expected.end(), window.begin(), window.end());
  CHECK(calls == expected);
  CHECK((taken == std::vector<bool>{true, false}));
  CHECK(trainer.global_step() == 2);  // both counted, as Lightning counts a skipped AMP step
  // The step-interval scheduler stepped after the step the precision took, not after the skipped one.
  CHECK_THAT(model.lr_after_batch, Catch::Approx(std::vector<double>{0.1, 0.05, 0.05, 0.05}));
  // on_before_backward sees the loss the precision backpropagates: scaled, after accumulation's division.
  REQUIRE(model.loss_seen.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) CHECK(model.loss_seen[i] == Approx(model.raw_loss[i] * 4.0 / 2.0));
}

namespace {
// Manual optimization with LBFGS: ctx.optimizer().step(closure) goes the same way as automatic.
struct ManualLbfgs : torch::nn::Module {
  static constexpr bool automatic_optimization = false;
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  std::int64_t closure_calls = 0, before_step = 0, backward_hooks = 0;
  void training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    auto opt = ctx.optimizer();
    opt.step([&] {
      ++closure_calls;
      opt.zero_grad();
      auto loss = torch::mse_loss(fc(b.data), b.target);
      ctx.manual_backward(loss);
      return loss.detach();
    });
  }
  void on_after_backward() { ++backward_hooks; }
  void on_before_optimizer_step(torch::optim::Optimizer&) { ++before_step; }
  auto configure_optimizers() {
    return torch::optim::LBFGS(parameters(), torch::optim::LBFGSOptions(1.0).max_iter(20).line_search_fn("strong_wolfe"));
  }
};
}  // namespace

TEST_CASE("manual optimization: optimizer.step(closure) runs the closure through the precision (LBFGS)",
          "[optimization][closure]") {
  torch::manual_seed(0);
  LinearData data;
  ManualLbfgs model;
  auto trainer = make_trainer<ManualLbfgs>(quiet({.max_epochs = 1}));
  trainer.fit(model, data);
  CHECK(trainer.global_step() == 4);
  CHECK(model.closure_calls > 4);
  CHECK(model.backward_hooks == model.closure_calls);  // manual_backward runs the backward hooks each time
  CHECK(model.before_step == model.closure_calls);     // the precision's after-closure hook, per evaluation
  torch::NoGradGuard no_grad;
  CHECK(torch::mse_loss(model.fc(data.x), data.y).item<double>() < 1e-8);
}
