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

// An empty optional skips backward and the optimizer step (Lightning's `return None`).
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
    CHECK(t.global_step() == 2);  // batches 0 and 2 stepped, 1 and 3 skipped
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
  void optimizer_step(std::int64_t epoch, std::int64_t batch_idx, torch::optim::Optimizer& opt) {
    calls.push_back("optimizer_step " + std::to_string(epoch) + "/" + std::to_string(batch_idx));
    opt.step();
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};
}  // namespace

TEST_CASE("optimizer_zero_grad, configure_gradient_clipping, optimizer_step and training_step_end overrides", "[optimization]") {
  OverridingModel m;
  LinearData data;
  auto t = make_trainer<OverridingModel>({.max_epochs = 1, .limit_train_batches = 2});
  t.fit(m, data);
  CHECK((m.calls == std::vector<std::string>{"training_step_end", "optimizer_zero_grad", "configure_gradient_clipping",
                                             "optimizer_step 0/0", "training_step_end", "optimizer_zero_grad",
                                             "configure_gradient_clipping", "optimizer_step 0/1"}));
  CHECK(t.global_step() == 2);
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
