// precision::BF16Mixed and FP16Mixed (MixedPrecision): inside every step autocast is on (a linear
// runs in bf16, the loss in fp32), outside (backward, the batch-end hooks, after fit, after a
// hook threw) it is off; parameters and gradients stay fp32; a fit trains. With a GradScaler:
// the scaled loss goes to backward, the hooks and clipping see unscaled gradients, a step with an
// inf gradient is skipped and the LR scheduler is not stepped for it, the scales follow torch's
// GradScaler, and the scaler's state resumes from a checkpoint exactly. FP16Mixed needs CUDA:
// without it the fit fails at setup, before any step.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <ATen/autocast_mode.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <volt/data/tensor_loader.hpp>
#include <volt/precision/mixed.hpp>
#include <volt/volt.hpp>

#include "precision_test_support.hpp"
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode

namespace {

namespace fs = std::filesystem;
using ScaledBF16 = volt::precision::MixedPrecision<torch::kBFloat16, volt::precision::GradScaler>;

struct TempDir : volt_test::PrecisionTempDir {
  TempDir() : PrecisionTempDir("volt_mixed_") {}
};
using volt_test::quiet;

// What the module saw, step by step.
struct Probes {
  std::vector<torch::ScalarType> hidden, loss, grad, param;
  std::vector<bool> autocast_in_train, autocast_in_eval, autocast_outside;
  std::vector<double> losses, lrs, scales;
  std::vector<bool> grads_finite_before_step;
};

struct Net : torch::nn::Module {
  torch::nn::Linear fc1{register_module("fc1", torch::nn::Linear(4, 32))};
  torch::nn::Linear fc2{register_module("fc2", torch::nn::Linear(32, 1))};
  Probes probes;
  std::int64_t throw_at_step = -1;
  std::set<std::int64_t> inf_at_steps;  // on_after_backward writes an inf gradient at these global steps
  const volt::precision::GradScaler* scaler = nullptr;
  std::int64_t save_at_step = -1;
  fs::path save_to;
  nlohmann::json saved_scaler_state, scaler_state_at_first_batch, final_scaler_state;

  torch::Tensor forward(const torch::Tensor& x) {
    auto hidden = fc1(x);
    probes.hidden.push_back(hidden.scalar_type());
    return fc2(torch::relu(hidden));
  }
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    probes.autocast_in_train.push_back(at::autocast::is_cpu_enabled());
    if (ctx.global_step() == throw_at_step) throw std::runtime_error("training_step failed on purpose");
    auto loss = torch::mse_loss(forward(b.data), b.target);
    probes.loss.push_back(loss.scalar_type());
    probes.losses.push_back(loss.item<double>());
    return loss;
  }
  torch::Tensor validation_step(const volt::data::Example& b, std::int64_t) {
    probes.autocast_in_eval.push_back(at::autocast::is_cpu_enabled());
    return torch::mse_loss(forward(b.data), b.target);
  }
  torch::Tensor test_step(const volt::data::Example& b, std::int64_t) { return validation_step(b, 0); }
  torch::Tensor predict_step(const volt::data::Example& b, std::int64_t) {
    probes.autocast_in_eval.push_back(at::autocast::is_cpu_enabled());
    return forward(b.data);
  }
  void on_train_batch_start(const volt::data::Example&, std::int64_t) {
    if (scaler && scaler_state_at_first_batch.is_null()) scaler_state_at_first_batch = scaler->state_dict();
  }
  void on_after_backward(volt::Context& ctx) {
    probes.autocast_outside.push_back(at::autocast::is_cpu_enabled());
    probes.grad.push_back(fc1->weight.grad().scalar_type());
    if (inf_at_steps.count(ctx.global_step())) {
      torch::NoGradGuard no_grad;
      fc2->weight.mutable_grad()[0][0] = std::numeric_limits<float>::infinity();
    }
  }
  void on_before_optimizer_step(torch::optim::Optimizer&) {
    bool finite = true;
    for (const auto& p : parameters()) finite = finite && p.grad().isfinite().all().item<bool>();
    probes.grads_finite_before_step.push_back(finite);
  }
  void on_train_batch_end(const torch::Tensor&, const volt::data::Example&, std::int64_t, volt::Context& ctx) {
    probes.autocast_outside.push_back(at::autocast::is_cpu_enabled());
    probes.param.push_back(fc1->weight.scalar_type());
    probes.lrs.push_back(ctx.raw_optimizers().at(0)->param_groups()[0].options().get_lr());
    if (scaler) probes.scales.push_back(scaler->get_scale());
    if (ctx.global_step() == save_at_step) {
      saved_scaler_state = scaler->state_dict();
      ctx.save_checkpoint(save_to);
    }
  }
  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.05)),
                                volt::optim::StepLR{{.step_size = 1, .gamma = 0.9}}, {.interval = volt::Interval::step});
  }
};

// 48 samples of a smooth function: 12 training batches of 4 per epoch.
struct Data {
  torch::Tensor x = torch::linspace(-1, 1, 48 * 4).reshape({48, 4});
  torch::Tensor y = (x * torch::tensor({0.5, -1.0, 2.0, 0.25})).sum(1, true);
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 16}}; }
  volt::data::TensorLoader test_dataloader() const { return {x, y, {.batch_size = 16}}; }
  volt::data::TensorLoader predict_dataloader() const { return {x, y, {.batch_size = 16}}; }
};

template <class Precision>
using TrainerOf = volt::Trainer<Net, Data, volt::SingleDevice, Precision>;

double mean(const std::vector<double>& v, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += v[i];
  return s / static_cast<double>(to - from);
}

int nesting_depth() {
  const int depth = at::autocast::increment_nesting() - 1;
  at::autocast::decrement_nesting();
  return depth;
}

}  // namespace

TEST_CASE("the mixed policies are named as Lightning names them", "[precision][mixed]") {
  STATIC_REQUIRE(volt::Precision<volt::precision::BF16Mixed>);
  STATIC_REQUIRE(volt::Precision<volt::precision::FP16Mixed>);
  CHECK(volt::precision::name(volt::precision::BF16Mixed{}) == "bf16-mixed");
  CHECK(volt::precision::name(volt::precision::FP16Mixed{}) == "16-mixed");
  CHECK(volt::precision::name(volt::precision::FP32{}) == "32-true");
  STATIC_REQUIRE(volt::precision::parameter_dtype<volt::precision::BF16Mixed>() == torch::kFloat32);
}

TEST_CASE("bf16-mixed: autocast inside every step, off outside; fp32 parameters and gradients; the fit trains",
          "[precision][mixed]") {
  TempDir dir;
  torch::manual_seed(2);
  Net net;
  Data data;
  TrainerOf<volt::precision::BF16Mixed> trainer(quiet(dir.path, 4));
  trainer.fit(net, data);
  const auto& p = net.probes;
  REQUIRE(p.losses.size() == 48);
  for (bool on : p.autocast_in_train) CHECK(on);
  for (bool on : p.autocast_in_eval) CHECK(on);   // validation (sanity check and each epoch)
  for (bool on : p.autocast_outside) CHECK_FALSE(on);  // backward and batch end run outside
  for (auto t : p.loss) CHECK(t == torch::kFloat32);
  for (auto t : p.grad) CHECK(t == torch::kFloat32);
  for (auto t : p.param) CHECK(t == torch::kFloat32);
  CHECK(p.hidden.front() == torch::kBFloat16);  // the first linear's output, inside training_step
  CHECK(mean(p.losses, 40, 48) < 0.5 * mean(p.losses, 0, 8));  // it learns
  CHECK_FALSE(at::autocast::is_cpu_enabled());
  CHECK(nesting_depth() == 0);

  SECTION("test and predict steps run under autocast too") {
    net.probes = {};
    trainer.test(net, data);
    const auto predictions = trainer.predict(net, data);
    REQUIRE(net.probes.autocast_in_eval.size() == 6);
    for (bool on : net.probes.autocast_in_eval) CHECK(on);
    CHECK(predictions.front().scalar_type() == torch::kBFloat16);
    CHECK_FALSE(at::autocast::is_cpu_enabled());
  }
}

TEST_CASE("bf16-mixed: after a hook throws inside a step, autocast is off again", "[precision][mixed]") {
  TempDir dir;
  Net net;
  net.throw_at_step = 2;
  Data data;
  TrainerOf<volt::precision::BF16Mixed> trainer(quiet(dir.path));
  CHECK_THROWS_WITH(trainer.fit(net, data), Catch::Contains("failed on purpose"));
  REQUIRE(net.probes.autocast_in_train.size() == 3);
  CHECK(net.probes.autocast_in_train.back());
  CHECK_FALSE(at::autocast::is_cpu_enabled());
  CHECK(nesting_depth() == 0);
}

TEST_CASE("the grad scaler in a fit: inf steps skipped, scheduler not stepped for them, torch's scales",
          "[precision][mixed][grad_scaler]") {
  TempDir dir;
  torch::manual_seed(3);
  Net net;
  net.inf_at_steps = {2, 3, 8};
  Data data;
  TrainerOf<ScaledBF16> trainer(quiet(dir.path), volt::SingleDevice{}, ScaledBF16({.growth_interval = 3}));
  net.scaler = &trainer.precision().scaler();
  trainer.fit(net, data);
  const auto& p = net.probes;
  // grad_scaler_reference.py 65536 3 12 2,3,8: torch's GradScaler on the same events.
  CHECK(p.scales == std::vector<double>{65536, 65536, 32768, 16384, 16384, 16384, 32768, 32768, 16384, 16384, 16384,
                                        32768});
  // The step-interval StepLR (x0.9 per step) is not stepped after a skipped optimizer step.
  std::vector<double> expected_lrs;
  double lr = 0.05;
  for (std::int64_t step = 0; step < 12; ++step) {
    if (!net.inf_at_steps.count(step)) lr *= 0.9;
    expected_lrs.push_back(lr);
  }
  REQUIRE(p.lrs.size() == 12);
  for (std::size_t i = 0; i < 12; ++i) CHECK(p.lrs[i] == Approx(expected_lrs[i]).epsilon(1e-12));
  CHECK(trainer.global_step() == 12);  // a skipped step still counts, as in Lightning
  // on_before_optimizer_step saw the inf exactly on the steps that had one (unscaled gradients
  // themselves are compared bit for bit in the next test case).
  REQUIRE(p.grads_finite_before_step.size() == 12);
  for (std::int64_t step = 0; step < 12; ++step)
    CHECK(p.grads_finite_before_step[static_cast<std::size_t>(step)] == (net.inf_at_steps.count(step) == 0));
  for (const auto& param : net.parameters()) CHECK(param.isfinite().all().item<bool>());  // no inf reached the weights
}

namespace {
// Lightning 2.x's optimizer_step override: optimizer.step(closure) goes through the strategy and
// the precision, so the grad scaler unscales, skips and backs off as without the override.
struct NetWithOptimizerStep : Net {
  std::int64_t overrides_entered = 0;
  void optimizer_step(std::int64_t, std::int64_t, auto& optimizer, auto& optimizer_closure) {
    ++overrides_entered;
    optimizer.step(optimizer_closure);
  }
};
}  // namespace

TEST_CASE("the grad scaler under a module's optimizer_step override (the closure form)", "[precision][mixed][grad_scaler]") {
  TempDir dir;
  torch::manual_seed(3);
  NetWithOptimizerStep net;
  net.inf_at_steps = {2, 3, 8};
  Data data;
  volt::Trainer<NetWithOptimizerStep, Data, volt::SingleDevice, ScaledBF16> trainer(
      quiet(dir.path), volt::SingleDevice{}, ScaledBF16({.growth_interval = 3}));
  net.scaler = &trainer.precision().scaler();
  trainer.fit(net, data);
  const auto& p = net.probes;
  CHECK(net.overrides_entered == 12);
  // The same scales as the fit without the override (grad_scaler_reference.py 65536 3 12 2,3,8).
  CHECK(p.scales == std::vector<double>{65536, 65536, 32768, 16384, 16384, 16384, 32768, 32768, 16384, 16384, 16384,
                                        32768});
  REQUIRE(p.grads_finite_before_step.size() == 12);
  for (std::int64_t step = 0; step < 12; ++step)
    CHECK(p.grads_finite_before_step[static_cast<std::size_t>(step)] == (net.inf_at_steps.count(step) == 0));
  for (const auto& param : net.parameters()) CHECK(param.isfinite().all().item<bool>());
}

TEST_CASE("the grad scaler's unscaled gradients reach the hooks and the step as fp32's would", "[precision][grad_scaler]") {
  // One step through MixedPrecision's backward and optimizer_step, against plain fp32 SGD.
  torch::manual_seed(5);
  torch::nn::Linear a(4, 2), b(4, 2);
  {
    torch::NoGradGuard no_grad;
    b->weight.copy_(a->weight);
    b->bias.copy_(a->bias);
  }
  torch::optim::SGD opt_a(a->parameters(), torch::optim::SGDOptions(0.1));
  torch::optim::SGD opt_b(b->parameters(), torch::optim::SGDOptions(0.1));
  const auto x = torch::randn({8, 4});
  ScaledBF16 mixed;
  struct Hooks {
    torch::nn::Linear& model;
    torch::Tensor loss_seen, grad_seen;
    void before_backward(const torch::Tensor& loss) { loss_seen = loss.detach(); }
    void backward(const torch::Tensor& loss) { loss.backward(); }
    void after_backward() {}
    void after_closure(torch::optim::Optimizer&) { grad_seen = model->weight.grad().clone(); }
  } hooks{a};
  torch::Tensor loss;
  auto closure = [&] {
    opt_a.zero_grad();
    loss = a(x).pow(2).mean();
    mixed.backward(loss, hooks);
    return loss.detach();
  };
  CHECK(mixed.optimizer_step(opt_a, closure, hooks));
  // on_before_backward gets the scaled loss (shape {1}, as torch's scale() gives it)
  CHECK(torch::equal(hooks.loss_seen, loss.detach() * torch::full({1}, 65536.0F)));
  b(x).pow(2).mean().backward();
  CHECK(torch::equal(hooks.grad_seen, b->weight.grad()));  // after_closure: unscaled, bit for bit
  opt_b.step();
  CHECK(torch::equal(a->weight.detach(), b->weight.detach()));
}

TEST_CASE("the grad scaler's state is saved in the checkpoint and a resume continues it exactly",
          "[precision][grad_scaler][checkpoint]") {
  TempDir dir;
  const auto ckpt = dir.path / "mid.ckpt";
  auto run = [&](std::int64_t seed, std::optional<std::string> ckpt_path) {
    torch::manual_seed(seed);
    auto net = std::make_unique<Net>();
    net->inf_at_steps = {2, 3, 8, 15};
    if (!ckpt_path) {
      net->save_at_step = 10;  // after batch 9 (global_step counts the step just taken)
      net->save_to = ckpt;
    }
    Data data;
    TrainerOf<ScaledBF16> trainer(quiet(dir.path, 2), volt::SingleDevice{}, ScaledBF16({.growth_interval = 3}));
    net->scaler = &trainer.precision().scaler();
    trainer.fit(*net, data, {.ckpt_path = ckpt_path});
    net->final_scaler_state = trainer.precision().state_dict();
    return net;
  };
  const auto full = run(7, std::nullopt);
  REQUIRE(fs::exists(ckpt));
  const auto resumed = run(99, ckpt.string());
  // The resumed fit starts from the saved scale and growth tracker...
  CHECK(full->saved_scaler_state.at("scale") == 16384.0);
  CHECK(full->saved_scaler_state.at("_growth_tracker") == 1);
  CHECK(resumed->scaler_state_at_first_batch == full->saved_scaler_state);
  // ...and ends where the uninterrupted fit ended: the scaler, the weights, the learning rate.
  CHECK(resumed->final_scaler_state == full->final_scaler_state);
  CHECK(resumed->final_scaler_state != full->saved_scaler_state);
  const auto a = full->parameters(), b = resumed->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
  CHECK(resumed->probes.lrs.back() == full->probes.lrs.back());
  CHECK(resumed->probes.scales.back() == full->probes.scales.back());
}

TEST_CASE("16-mixed without CUDA fails at setup, before any step, naming the fix", "[precision][mixed]") {
  TempDir dir;
  Net net;
  Data data;
  TrainerOf<volt::precision::FP16Mixed> trainer(quiet(dir.path));
  if (torch::cuda::is_available()) {
    WARN("skipped: CUDA is available, so 16-mixed runs (see the CUDA test)");
    return;
  }
  CHECK_THROWS_WITH(trainer.fit(net, data),
                    Catch::Contains("16-mixed (FP16Mixed) needs the module on CUDA") && Catch::Contains("BF16Mixed"));
  CHECK(net.probes.autocast_in_train.empty());
}

TEST_CASE("16-mixed on CUDA: fp16 autocast, scaled backward, the fit trains", "[precision][mixed][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("skipped: this libtorch has no CUDA or no GPU is visible");
    return;
  }
  TempDir dir;
  torch::manual_seed(2);
  Net net;
  Data data;
  TrainerOf<volt::precision::FP16Mixed> trainer(quiet(dir.path, 4));
  net.scaler = &trainer.precision().scaler();
  trainer.fit(net, data);
  CHECK(net.probes.hidden.front() == torch::kHalf);
  for (auto t : net.probes.loss) CHECK(t == torch::kFloat32);
  for (auto t : net.probes.param) CHECK(t == torch::kFloat32);
  CHECK(mean(net.probes.losses, 40, 48) < 0.5 * mean(net.probes.losses, 0, 8));
  CHECK_FALSE(at::autocast::is_enabled());
}
