// precision::Runtime: the policy picked at run time by its Lightning name. A few fit steps under
// Runtime give weights bitwise equal to the same fit under the static policy (32-true, 64-true,
// bf16-mixed, bf16-true); 16-mixed / 16-true without CUDA fail at set-up with the static
// policies' own errors; a bad name lists the valid ones; the fit summary and DDP's set-up check
// read the run-time name and dtype; the grad scaler's state is the checkpoint's precision section
// under 16-mixed only, and a resume under Runtime("bf16-mixed") continues exactly.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <ATen/autocast_mode.h>
#include <c10/core/DefaultDtype.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <volt/checkpoint/checkpoint_file.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/precision/runtime.hpp>
#include <volt/strategy/ddp.hpp>
#include <volt/volt.hpp>

#include "precision_test_support.hpp"
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode

namespace {

namespace fs = std::filesystem;
using volt::precision::Runtime;
using ScaledBF16 = volt::precision::MixedPrecision<torch::kBFloat16, volt::precision::GradScaler>;

struct TempDir : volt_test::PrecisionTempDir {
  TempDir() : PrecisionTempDir("volt_runtime_") {}
};
using volt_test::quiet;
using volt_test::default_dtype;

// A classifier (float inputs, integer labels) that records what each step saw.
struct Classifier : torch::nn::Module {
  torch::nn::Linear fc1{register_module("fc1", torch::nn::Linear(4, 16))};
  torch::nn::Linear fc2{register_module("fc2", torch::nn::Linear(16, 3))};
  std::vector<torch::ScalarType> input, hidden, default_in_step;
  std::vector<bool> autocast_in_step, autocast_outside;
  std::int64_t save_at_step = -1;
  fs::path save_to;

  torch::Tensor training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    input.push_back(b.data.scalar_type());
    default_in_step.push_back(default_dtype());
    autocast_in_step.push_back(at::autocast::is_cpu_enabled());
    auto h = fc1(b.data);
    hidden.push_back(h.scalar_type());
    (void)ctx;
    return torch::nn::functional::cross_entropy(fc2(torch::relu(h)), b.target);
  }
  void on_after_backward() { autocast_outside.push_back(at::autocast::is_cpu_enabled()); }
  void on_train_batch_end(const torch::Tensor&, const volt::data::Example&, std::int64_t, volt::Context& ctx) {
    if (ctx.global_step() == save_at_step) ctx.save_checkpoint(save_to);
  }
  auto configure_optimizers() { return torch::optim::Adam(parameters(), torch::optim::AdamOptions(0.02)); }
};

using Data = volt_test::SignClasses;  // 64 samples, 8 shuffled batches of 8 per epoch

template <class Precision>
using TrainerOf = volt::Trainer<Classifier, Data, volt::SingleDevice, Precision>;

// `steps` optimizer steps from seed 5 under `precision`; the module afterwards.
template <class Precision>
std::unique_ptr<Classifier> fit_steps(Precision precision, std::int64_t steps, const fs::path& root) {
  torch::manual_seed(5);
  auto model = std::make_unique<Classifier>();
  Data data;
  volt::TrainerOptions options = quiet(root, 2);
  options.max_steps = steps;
  TrainerOf<Precision> trainer(options, volt::SingleDevice{}, std::move(precision));
  trainer.fit(*model, data);
  return model;
}

template <class Static>
void require_bitwise_equal_fits(const char* name) {
  TempDir dir;
  const auto by_type = fit_steps(Static{}, 5, dir.path);
  const auto by_name = fit_steps(Runtime(name), 5, dir.path);
  const auto a = by_type->named_parameters(), b = by_name->named_parameters();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO(name << ": " << a[i].key());
    CHECK(a[i]->scalar_type() == volt::precision::parameter_dtype<Static>());
    CHECK(b[i]->scalar_type() == a[i]->scalar_type());
    CHECK(torch::equal(a[i].value(), b[i].value()));
  }
  // What the steps saw (input dtype, autocast, default dtype) is the static policy's.
  CHECK(by_name->input == by_type->input);
  CHECK(by_name->hidden == by_type->hidden);
  CHECK(by_name->default_in_step == by_type->default_in_step);
  CHECK(by_name->autocast_in_step == by_type->autocast_in_step);
  CHECK(by_name->autocast_outside == by_type->autocast_outside);
  CHECK(by_type->input.size() == 5);
}

std::string message_of(auto&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

TEST_CASE("Runtime takes Lightning's names, says its name and parameter dtype, and is a Precision",
          "[precision][runtime]") {
  using namespace volt::precision;
  STATIC_REQUIRE(volt::Precision<Runtime>);
  CHECK(name(Runtime{}) == "32-true");  // Lightning's default
  const std::pair<const char*, const char*> names[] = {{"32-true", "32-true"}, {"32", "32-true"},
                                                       {"64-true", "64-true"}, {"64", "64-true"},
                                                       {"bf16-mixed", "bf16-mixed"}, {"bf16-true", "bf16-true"},
                                                       {"16-mixed", "16-mixed"}, {"16", "16-mixed"},
                                                       {"16-true", "16-true"}};
  for (const auto& [given, canonical] : names) {
    const Runtime p(given);
    CHECK(p.name() == canonical);
    CHECK(name(p) == canonical);  // precision::name reads it at run time
  }
  CHECK(parameter_dtype(Runtime("32-true")) == torch::kFloat32);
  CHECK(parameter_dtype(Runtime("64-true")) == torch::kFloat64);
  CHECK(parameter_dtype(Runtime("bf16-mixed")) == torch::kFloat32);
  CHECK(parameter_dtype(Runtime("bf16-true")) == torch::kBFloat16);
  CHECK(parameter_dtype(Runtime("16-mixed")) == torch::kFloat32);
  CHECK(parameter_dtype(Runtime("16-true")) == torch::kHalf);
  // The static path is unchanged for the static policies.
  STATIC_REQUIRE(parameter_dtype(BF16True{}) == torch::kBFloat16);
  STATIC_REQUIRE(name(BF16Mixed{}) == "bf16-mixed");
  // From a static policy value, with its options.
  const Runtime scaled(FP16Mixed({.init_scale = 1024.0, .growth_interval = 7}));
  CHECK(scaled.name() == "16-mixed");
  CHECK(scaled.state_dict().at("scale") == 1024.0);
  CHECK(scaled.state_dict().at("growth_interval") == 7);
}

TEST_CASE("Runtime with a name that is not a precision: std::invalid_argument listing the valid names",
          "[precision][runtime]") {
  for (const char* bad : {"bf16", "fp32", "32-mixed", "", "BF16-MIXED"}) {
    INFO(bad);
    CHECK_THROWS_AS(Runtime(bad), std::invalid_argument);
    const std::string message = message_of([&] { Runtime p(bad); });
    CHECK_THAT(message, Catch::StartsWith("volt: \"" + std::string(bad) + "\" is not a precision"));
    for (const char* valid : {"32-true", "64-true", "bf16-mixed", "bf16-true", "16-mixed", "16-true"})
      CHECK_THAT(message, Catch::Contains(valid));
  }
}

TEST_CASE("Runtime: a fit gives weights bitwise equal to the static policy's (32-true, 64-true, bf16-mixed, bf16-true)",
          "[precision][runtime]") {
  SECTION("32-true") { require_bitwise_equal_fits<volt::precision::FP32>("32-true"); }
  SECTION("64-true") { require_bitwise_equal_fits<volt::precision::FP64>("64-true"); }
  SECTION("bf16-mixed") { require_bitwise_equal_fits<volt::precision::BF16Mixed>("bf16-mixed"); }
  SECTION("bf16-true") { require_bitwise_equal_fits<volt::precision::BF16True>("bf16-true"); }
}

TEST_CASE("Runtime bf16-mixed and bf16-true do what their static policies do inside and outside the step",
          "[precision][runtime]") {
  TempDir dir;
  const auto mixed = fit_steps(Runtime("bf16-mixed"), 3, dir.path);
  for (bool on : mixed->autocast_in_step) CHECK(on);
  for (bool on : mixed->autocast_outside) CHECK_FALSE(on);
  for (auto t : mixed->hidden) CHECK(t == torch::kBFloat16);
  for (const auto& p : mixed->parameters()) CHECK(p.scalar_type() == torch::kFloat32);
  CHECK_FALSE(at::autocast::is_cpu_enabled());
  const auto bf16 = fit_steps(Runtime("bf16-true"), 3, dir.path);
  for (auto t : bf16->input) CHECK(t == torch::kBFloat16);
  for (auto t : bf16->default_in_step) CHECK(t == torch::kBFloat16);
  CHECK(default_dtype() == torch::kFloat32);  // restored after the step
}

TEST_CASE("Runtime 16-mixed and 16-true without CUDA fail at set-up with the static policies' errors",
          "[precision][runtime]") {
  if (torch::cuda::is_available()) {
    WARN("skipped: CUDA is available, so 16-mixed and 16-true run");
    return;
  }
  TempDir dir;
  for (const char* name : {"16-mixed", "16-true"}) {
    INFO(name);
    Classifier model;
    Data data;
    TrainerOf<Runtime> trainer(quiet(dir.path), volt::SingleDevice{}, Runtime(name));
    const std::string by_name = message_of([&] { trainer.fit(model, data); });
    Classifier other;
    const std::string by_type = std::string(name) == "16-mixed"
                                    ? message_of([&] { volt::precision::FP16Mixed{}.convert_module(other); })
                                    : message_of([&] { volt::precision::FP16True{}.convert_module(other); });
    CHECK_THAT(by_type, Catch::Contains("needs the module on CUDA"));
    CHECK(by_name == by_type);
    CHECK(model.input.empty());  // before any step
  }
}

TEST_CASE("Runtime: the fit summary shows the run-time name", "[precision][runtime]") {
  TempDir dir;
  Classifier model;
  Data data;
  volt::TrainerOptions options = quiet(dir.path);
  options.enable_model_summary = true;
  options.max_steps = 1;
  TrainerOf<Runtime> trainer(options, volt::SingleDevice{}, Runtime("bf16-mixed"));
  std::ostringstream out;
  auto* previous = std::cout.rdbuf(out.rdbuf());
  try {
    trainer.fit(model, data);
  } catch (...) {
    std::cout.rdbuf(previous);
    throw;
  }
  std::cout.rdbuf(previous);
  CHECK_THAT(out.str(), Catch::Contains("; precision bf16-mixed\n"));
}

TEST_CASE("Runtime bf16-true with DDP on Gloo fails at set-up with the static policy's message",
          "[precision][runtime][ddp]") {
  const std::string by_type = message_of([] { volt::DDP{}.check_precision(volt::precision::BF16True{}); });
  const std::string by_name = message_of([] { volt::DDP{}.check_precision(Runtime("bf16-true")); });
  CHECK_THAT(by_type, Catch::Contains("precision \"bf16-true\"") && Catch::Contains("Gloo backend"));
  CHECK(by_name == by_type);
  // In a fit: DDP's set-up (a group of one process on CPU, Gloo) fails before any step.
  TempDir dir;
  Classifier model;
  Data data;
  volt::Trainer<Classifier, Data, volt::DDP, Runtime> trainer(quiet(dir.path), volt::DDP{}, Runtime("bf16-true"));
  CHECK(message_of([&] { trainer.fit(model, data); }) == by_type);
  CHECK(model.input.empty());
  // The others pass the check, as their static policies do.
  for (const char* ok : {"32-true", "64-true", "bf16-mixed", "16-mixed"})
    CHECK_NOTHROW(volt::DDP{}.check_precision(Runtime(ok)));
}

TEST_CASE("Runtime: the grad scaler's state is the precision state under 16-mixed only", "[precision][runtime]") {
  using namespace volt::precision;
  // The same state as the static FP16Mixed, before and after loading a saved one.
  Runtime fp16("16-mixed", {.growth_interval = 3});
  FP16Mixed by_type({.growth_interval = 3});
  CHECK(fp16.state_dict() == by_type.state_dict());
  const nlohmann::json saved = {{"scale", 256.0}, {"growth_factor", 2.0}, {"backoff_factor", 0.5},
                                {"growth_interval", 3}, {"_growth_tracker", 2}};
  fp16.load_state_dict(saved);
  by_type.load_state_dict(saved);
  CHECK(fp16.state_dict() == saved);
  CHECK(fp16.state_dict() == by_type.state_dict());
  CHECK_THROWS_WITH(fp16.load_state_dict(nlohmann::json::object()), Catch::Contains("GradScaler state is empty"));
  // The stateless policies have none (no checkpoint section), and ignore a saved scaler's, as
  // the static ones and Lightning's MixedPrecisionPlugin without a scaler do.
  for (const char* name : {"32-true", "64-true", "bf16-mixed", "bf16-true", "16-true"}) {
    Runtime p(name);
    CHECK(p.state_dict().is_null());
    CHECK_NOTHROW(p.load_state_dict(saved));
    CHECK(p.state_dict().is_null());
  }
}

TEST_CASE("Runtime: a resume under bf16-mixed continues exactly; no precision section is written, and a saved "
          "grad scaler's is ignored",
          "[precision][runtime][checkpoint]") {
  TempDir dir;
  const auto mid = dir.path / "mid.ckpt";
  const auto scaled = dir.path / "scaled.ckpt";
  auto run = [&](auto precision, std::int64_t seed, std::optional<fs::path> from, std::optional<fs::path> save) {
    torch::manual_seed(seed);
    auto model = std::make_unique<Classifier>();
    if (save) {
      model->save_at_step = 5;
      model->save_to = *save;
    }
    Data data;
    TrainerOf<decltype(precision)> trainer(quiet(dir.path, 2), volt::SingleDevice{}, std::move(precision));
    std::optional<std::string> ckpt;
    if (from) ckpt = from->string();
    trainer.fit(*model, data, {.ckpt_path = ckpt});
    return model;
  };
  const auto full = run(Runtime("bf16-mixed"), 5, std::nullopt, mid);
  REQUIRE(fs::exists(mid));
  CHECK_FALSE(volt::checkpoint::CheckpointReader::open(mid).has("precision"));  // as the static BF16Mixed writes it
  const auto resumed = run(Runtime("bf16-mixed"), 99, mid, std::nullopt);
  CHECK(resumed->input.size() == 16 - 5);  // the batches after the checkpoint only
  const auto a = full->parameters(), b = resumed->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));

  // A checkpoint with a grad scaler's state (bf16 autocast with a scaler runs on CPU) resumes
  // under Runtime("bf16-mixed") without it.
  run(ScaledBF16{}, 5, std::nullopt, scaled);
  REQUIRE(volt::checkpoint::CheckpointReader::open(scaled).has("precision"));
  const auto from_scaled = run(Runtime("bf16-mixed"), 99, scaled, std::nullopt);
  CHECK(from_scaled->input.size() == 16 - 5);

  // Weights of another dtype: a bf16-true checkpoint resumed under 32-true fails on the dtypes,
  // as it does for the static policies.
  const auto bf16 = dir.path / "bf16.ckpt";
  run(Runtime("bf16-true"), 5, std::nullopt, bf16);
  REQUIRE(fs::exists(bf16));
  CHECK_THROWS_WITH(run(Runtime("32-true"), 99, bf16, std::nullopt),
                    Catch::Contains("dtype") && Catch::Contains("BFloat16"));
}

TEST_CASE("Runtime 16-mixed on CUDA: the checkpoint carries the grad scaler's state as FP16Mixed's does",
          "[precision][runtime][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("skipped: this libtorch has no CUDA or no GPU is visible");
    return;
  }
  TempDir dir;
  auto section = [&](auto precision, const fs::path& path) {
    torch::manual_seed(5);
    Classifier model;
    model.save_at_step = 5;
    model.save_to = path;
    Data data;
    TrainerOf<decltype(precision)> trainer(quiet(dir.path, 1), volt::SingleDevice{}, std::move(precision));
    trainer.fit(model, data);
    return volt::checkpoint::CheckpointReader::open(path).json("precision");
  };
  const auto by_type = section(volt::precision::FP16Mixed{}, dir.path / "static.ckpt");
  const auto by_name = section(Runtime("16-mixed"), dir.path / "runtime.ckpt");
  CHECK(by_type.contains("scale"));
  CHECK(by_name == by_type);
}

TEST_CASE("Runtime 16-mixed refuses torch::optim::LBFGS at the step (FP16Mixed: at compile time); 32-true steps it",
          "[precision][runtime]") {
  torch::Tensor w = torch::zeros({2}, torch::requires_grad());
  torch::optim::LBFGS lbfgs({w});
  volt::seam::StepHooksArchetype hooks;
  int closure_calls = 0;
  auto closure = [&] {
    ++closure_calls;
    lbfgs.zero_grad();
    auto loss = (w - 1).pow(2).sum();
    loss.backward();
    return loss;
  };
  Runtime fp16("16-mixed");
  CHECK_THROWS_WITH(fp16.optimizer_step(lbfgs, closure, hooks),
                    Catch::Contains("16-mixed") && Catch::Contains("cannot step torch::optim::LBFGS"));
  CHECK(closure_calls == 0);
  Runtime fp32("32-true");
  CHECK(fp32.optimizer_step(lbfgs, closure, hooks));
  CHECK(closure_calls > 0);
  CHECK(w.detach().sub(1).abs().max().item<double>() < 1e-3);
}
