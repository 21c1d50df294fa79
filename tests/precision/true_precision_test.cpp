// The true policies: FP64 ("64-true") runs the module, the inputs, the gradients and the default
// dtype in float64 end to end; BF16True ("bf16-true") in bfloat16; integer targets stay as they
// are; the default dtype is back after the step (also after a throw); 16-true needs CUDA.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <c10/core/DefaultDtype.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <volt/data/tensor_loader.hpp>
#include <volt/precision/true_precision.hpp>
#include <volt/volt.hpp>

#include "precision_test_support.hpp"

namespace {

namespace fs = std::filesystem;

struct TempDir : volt_test::PrecisionTempDir {
  TempDir() : PrecisionTempDir("volt_true_") {}
};
using volt_test::quiet;
using volt_test::default_dtype;

struct Seen {
  std::vector<torch::ScalarType> input, param, grad, default_in_step, default_outside, target, new_tensor;
  std::vector<double> losses;
};

// A small classifier (integer targets, cross entropy), so the test also sees labels left alone.
struct Classifier : torch::nn::Module {
  torch::nn::Linear fc1{register_module("fc1", torch::nn::Linear(4, 32))};
  torch::nn::Linear fc2{register_module("fc2", torch::nn::Linear(32, 3))};
  Seen seen;
  std::int64_t throw_at_step = -1;

  torch::Tensor training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    const auto& x = b.data;
    const auto& y = b.target;
    seen.input.push_back(x.scalar_type());
    seen.target.push_back(y.scalar_type());
    seen.default_in_step.push_back(default_dtype());
    seen.new_tensor.push_back(torch::zeros({1}).scalar_type());  // what a tensor made in the step gets
    if (ctx.global_step() == throw_at_step) throw std::runtime_error("training_step failed on purpose");
    auto loss = torch::nn::functional::cross_entropy(fc2(torch::relu(fc1(x))), y);
    seen.losses.push_back(loss.item<double>());
    return loss;
  }
  void on_after_backward() {
    seen.default_outside.push_back(default_dtype());
    for (const auto& p : parameters()) seen.grad.push_back(p.grad().scalar_type());
  }
  void on_train_batch_end(const torch::Tensor&, const volt::data::Example&, std::int64_t) {
    for (const auto& p : parameters()) seen.param.push_back(p.scalar_type());
  }
  auto configure_optimizers() { return torch::optim::Adam(parameters(), torch::optim::AdamOptions(0.02)); }
};

using Data = volt_test::SignClasses;  // 64 samples, 8 shuffled batches of 8 per epoch

template <class Precision>
using TrainerOf = volt::Trainer<Classifier, Data, volt::SingleDevice, Precision>;

double mean(const std::vector<double>& v, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += v[i];
  return s / static_cast<double>(to - from);
}

}  // namespace

TEST_CASE("the true policies are named as Lightning names them and say their parameter dtype", "[precision][true]") {
  using namespace volt::precision;
  STATIC_REQUIRE(volt::Precision<FP64>);
  STATIC_REQUIRE(volt::Precision<BF16True>);
  STATIC_REQUIRE(volt::Precision<FP16True>);
  CHECK(name(FP64{}) == "64-true");
  CHECK(name(BF16True{}) == "bf16-true");
  CHECK(name(FP16True{}) == "16-true");
  STATIC_REQUIRE(parameter_dtype<FP64>() == torch::kFloat64);
  STATIC_REQUIRE(parameter_dtype<BF16True>() == torch::kBFloat16);
  STATIC_REQUIRE(parameter_dtype<FP16True>() == torch::kHalf);
}

TEST_CASE("64-true: parameters, inputs, gradients and the default dtype are float64 end to end; the fit trains",
          "[precision][true]") {
  TempDir dir;
  torch::manual_seed(1);
  Classifier model;
  Data data;
  TrainerOf<volt::precision::FP64> trainer(quiet(dir.path, 6));
  trainer.fit(model, data);
  const auto& s = model.seen;
  REQUIRE(s.losses.size() == 48);
  for (auto t : s.input) CHECK(t == torch::kFloat64);
  for (auto t : s.target) CHECK(t == torch::kLong);  // labels are not floating point: left alone
  for (auto t : s.default_in_step) CHECK(t == torch::kFloat64);
  for (auto t : s.new_tensor) CHECK(t == torch::kFloat64);
  for (auto t : s.grad) CHECK(t == torch::kFloat64);
  for (auto t : s.param) CHECK(t == torch::kFloat64);
  for (auto t : s.default_outside) CHECK(t == torch::kFloat32);  // backward runs outside the step's context
  CHECK(default_dtype() == torch::kFloat32);
  CHECK(mean(s.losses, 40, 48) < 0.5 * mean(s.losses, 0, 8));
}

TEST_CASE("bf16-true: the module and the inputs in bfloat16; the fit trains", "[precision][true]") {
  TempDir dir;
  torch::manual_seed(1);
  Classifier model;
  Data data;
  TrainerOf<volt::precision::BF16True> trainer(quiet(dir.path, 6));
  trainer.fit(model, data);
  const auto& s = model.seen;
  REQUIRE(s.losses.size() == 48);
  for (auto t : s.input) CHECK(t == torch::kBFloat16);
  for (auto t : s.target) CHECK(t == torch::kLong);
  for (auto t : s.grad) CHECK(t == torch::kBFloat16);
  for (auto t : s.param) CHECK(t == torch::kBFloat16);
  for (auto t : s.default_in_step) CHECK(t == torch::kBFloat16);
  CHECK(default_dtype() == torch::kFloat32);
  CHECK(mean(s.losses, 40, 48) < 0.5 * mean(s.losses, 0, 8));
}

TEST_CASE("the default dtype is restored when a step throws", "[precision][true]") {
  TempDir dir;
  Classifier model;
  model.throw_at_step = 1;
  Data data;
  TrainerOf<volt::precision::FP64> trainer(quiet(dir.path));
  CHECK_THROWS_WITH(trainer.fit(model, data), Catch::Contains("failed on purpose"));
  REQUIRE(model.seen.default_in_step.size() == 2);
  CHECK(model.seen.default_in_step.back() == torch::kFloat64);
  CHECK(default_dtype() == torch::kFloat32);
}

TEST_CASE("16-true without CUDA fails at setup, before any step, naming the fix", "[precision][true]") {
  if (torch::cuda::is_available()) {
    WARN("skipped: CUDA is available, so 16-true runs (see the CUDA test)");
    return;
  }
  TempDir dir;
  Classifier model;
  Data data;
  TrainerOf<volt::precision::FP16True> trainer(quiet(dir.path));
  CHECK_THROWS_WITH(trainer.fit(model, data),
                    Catch::Contains("16-true (FP16True) needs the module on CUDA") && Catch::Contains("BF16True"));
  CHECK(model.seen.input.empty());
  for (const auto& p : model.parameters()) CHECK(p.scalar_type() == torch::kFloat32);  // nothing was converted
}

TEST_CASE("16-true on CUDA: the module and inputs in float16; the fit runs", "[precision][true][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("skipped: this libtorch has no CUDA or no GPU is visible");
    return;
  }
  TempDir dir;
  torch::manual_seed(1);
  Classifier model;
  Data data;
  TrainerOf<volt::precision::FP16True> trainer(quiet(dir.path, 6));
  trainer.fit(model, data);
  for (auto t : model.seen.input) CHECK(t == torch::kHalf);
  for (auto t : model.seen.param) CHECK(t == torch::kHalf);
  CHECK(mean(model.seen.losses, 40, 48) < mean(model.seen.losses, 0, 8));
}
