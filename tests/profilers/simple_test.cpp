// volt::SimpleProfiler: Lightning's action names for hooks and loop phases, its report table,
// the report file, and nothing instantiated when no profiler is configured.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>

#include <volt/data/tensor_loader.hpp>
#include <volt/loops/run.hpp>
#include <volt/profilers/simple.hpp>
#include <volt/volt.hpp>

namespace {

namespace fs = std::filesystem;

struct ProfiledNet : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  ProfiledNet() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct ProfiledData {
  torch::Tensor x = torch::randn({12, 2}), y = torch::randn({12, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

struct EpochCounter {
  int epochs = 0;
  void on_train_epoch_end(volt::Context&) { ++epochs; }
};

std::int64_t calls_of(const volt::SimpleProfiler& p, const std::string& action) {
  for (const auto& row : p.rows())
    if (row.action == action) return row.calls;
  return 0;
}

}  // namespace

TEST_CASE("SimpleProfiler times every hook and loop phase under Lightning's action names", "[profiler]") {
  const auto root = fs::temp_directory_path() / ("volt_profiler_" + std::to_string(::getpid()));
  fs::remove_all(root);
  ProfiledNet model;
  ProfiledData data;
  volt::Trainer<ProfiledNet, ProfiledData, volt::SingleDevice, volt::precision::FP32, EpochCounter,
                volt::SimpleProfiler>
      trainer{{.logger = false, .max_epochs = 2, .enable_checkpointing = false, .enable_progress_bar = false,
               .enable_model_summary = false, .default_root_dir = root},
              volt::SingleDevice{},
              volt::precision::FP32{},
              EpochCounter{},
              volt::SimpleProfiler{{.filename = "perf"}}};
  trainer.fit(model, data);
  const auto& profiler = std::get<volt::SimpleProfiler>(trainer.callbacks());
  CHECK(calls_of(profiler, "[LightningModule]ProfiledNet.training_step") == 6);
  CHECK(calls_of(profiler, "[LightningModule]ProfiledNet.configure_optimizers") == 1);
  CHECK(calls_of(profiler, "[Callback]EpochCounter.on_train_epoch_end") == 2);
  CHECK(calls_of(profiler, "[Callback]EpochCounter.on_train_batch_start") == 6);  // timed though absent, as Lightning
  CHECK(calls_of(profiler, "[LightningDataModule]ProfiledData.train_dataloader") == 1);
  CHECK(calls_of(profiler, "run_training_epoch") == 2);
  CHECK(calls_of(profiler, "run_training_batch") == 6);
  // Data fetches and strategy calls, under Lightning's names.
  CHECK(calls_of(profiler, "[_TrainingEpochLoop].train_dataloader_next") == 6);
  CHECK(calls_of(profiler, "[Strategy]SingleDeviceStrategy.backward") == 6);
  CHECK(calls_of(profiler, "[Strategy]SingleDeviceStrategy.optimizer_step") == 6);
  CHECK(calls_of(profiler, "[Strategy]SingleDeviceStrategy.batch_to_device") == 6);
  CHECK(calls_of(profiler, "[Callback]SimpleProfiler.setup") == 0);  // the profiler does not time itself
  for (const auto& row : profiler.rows()) {
    CHECK(row.total >= 0.0);
    CHECK(row.percentage <= 100.0);
  }

  const auto report = root / "fit-perf-0.txt";
  REQUIRE(fs::exists(report));
  std::ifstream in(report);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str().rfind("FIT Profiler Report\n", 0) == 0);
  CHECK(text.str().find("|  Action") != std::string::npos);
  CHECK(text.str().find("Mean duration (s)") != std::string::npos);
  CHECK(text.str().find("|  Total") != std::string::npos);
  CHECK(text.str().find("[LightningModule]ProfiledNet.training_step") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("Without a profiler the loops instantiate no timing", "[profiler]") {
  using Plain = volt::loops::Run<ProfiledNet, ProfiledData, volt::SingleDevice, volt::precision::FP32, EpochCounter>;
  using Profiled = volt::loops::Run<ProfiledNet, ProfiledData, volt::SingleDevice, volt::precision::FP32, EpochCounter,
                                    volt::SimpleProfiler>;
  STATIC_REQUIRE_FALSE(Plain::profiling);
  STATIC_REQUIRE(Profiled::profiling);
  STATIC_REQUIRE(std::is_same_v<decltype(std::declval<Plain&>()
                                             .template profile_hook<volt::loops::ModuleAction, ProfiledNet,
                                                                    volt::hooks::training_step_t>()),
                                volt::loops::NoProfileScope>);
  STATIC_REQUIRE(std::is_empty_v<volt::loops::NoProfileScope>);
}

TEST_CASE("SimpleProfiler's start / stop keep Lightning's rules", "[profiler]") {
  volt::SimpleProfiler p;
  p.start("a");
  CHECK_THROWS_WITH(p.start("a"), Catch::Contains("attempted to start a which has already started"));
  p.stop("a");
  CHECK_THROWS_WITH(p.stop("a"), Catch::Contains("(a) which was never started"));
  CHECK(calls_of(p, "a") == 1);
  CHECK(p.summary().find("|  a") != std::string::npos);
}
