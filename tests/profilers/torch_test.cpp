// volt::TorchProfiler: volt's actions as record_function ranges in torch's legacy profiler, one
// Chrome trace per stage (parsed back here), the summary table, and the profiler state cleaned up.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <volt/profilers/torch.hpp>
#include <volt/volt.hpp>

namespace {

namespace fs = std::filesystem;

struct TracedNet : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  bool fail = false;
  TracedNet() { fc = register_module("fc", torch::nn::Linear(3, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t) {
    if (fail) throw std::runtime_error("broken step");
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  torch::Tensor validation_step(const volt::data::Example& batch, std::int64_t) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct TracedData {
  torch::Tensor x = torch::randn({12, 3}), y = torch::randn({12, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 6}}; }
};

using TracedTrainer = volt::Trainer<TracedNet, TracedData, volt::SingleDevice, volt::precision::FP32, volt::TorchProfiler>;

TracedTrainer make_trainer(const fs::path& root, volt::TorchProfilerOptions options) {
  return TracedTrainer{{.logger = false, .max_epochs = 1, .num_sanity_val_steps = 0, .enable_checkpointing = false,
                        .enable_progress_bar = false, .enable_model_summary = false, .default_root_dir = root},
                       volt::SingleDevice{},
                       volt::precision::FP32{},
                       volt::TorchProfiler{std::move(options)}};
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

std::vector<nlohmann::json> events_named(const nlohmann::json& trace, const std::string& name) {
  std::vector<nlohmann::json> out;
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("name") == name) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("TorchProfiler writes a Chrome trace per stage holding volt's ranges around torch's operators",
          "[profiler][torch_profiler]") {
  const auto root = fs::temp_directory_path() / ("volt_torch_profiler_" + std::to_string(::getpid()));
  fs::remove_all(root);
  TracedNet model;
  TracedData data;
  auto trainer = make_trainer(root, {.filename = "perf"});
  trainer.fit(model, data);
  CHECK_FALSE(torch::profiler::impl::profilerEnabled());  // the stage's end stopped it

  const auto trace_path = root / "fit-perf-0.pt.trace.json";
  REQUIRE(fs::exists(trace_path));
  const auto trace = read_json(trace_path);  // throws if it is not JSON
  CHECK(trace.at("stage") == "fit");
  for (const auto& e : trace.at("traceEvents")) {
    CHECK(e.at("ph") == "X");
    CHECK(e.at("dur").get<double>() >= 0.0);
    CHECK(e.at("ts").get<double>() >= 0.0);
  }
  // 12 rows, batch 4: 3 training batches; the validation loader gives 2 batches.
  const auto steps = events_named(trace, "[LightningModule]TracedNet.training_step");
  CHECK(steps.size() == 3);
  CHECK(events_named(trace, "run_training_batch").size() == 3);
  CHECK(events_named(trace, "run_training_epoch").size() == 1);
  CHECK(events_named(trace, "[_TrainingEpochLoop].train_dataloader_next").size() == 3);
  CHECK(events_named(trace, "[_EvaluationLoop].val_next").size() == 2);
  CHECK(events_named(trace, "[Strategy]SingleDeviceStrategy.backward").size() == 3);
  CHECK(events_named(trace, "[Strategy]SingleDeviceStrategy.optimizer_step").size() == 3);
  CHECK(events_named(trace, "[LightningModule]TracedNet.validation_step").size() == 2);
  CHECK(events_named(trace, "[LightningModule]TracedNet.configure_optimizers").size() == 1);

  // torch's operators nest inside volt's ranges: the Linear layer's addmm of the first step lies
  // within that training_step's range, on the same thread.
  REQUIRE_FALSE(steps.empty());
  const auto& step = steps.front();
  const double begin = step.at("ts").get<double>(), end = begin + step.at("dur").get<double>();
  bool nested_op = false;
  for (const auto& e : events_named(trace, "aten::addmm"))
    nested_op = nested_op || (e.at("tid") == step.at("tid") && e.at("ts").get<double>() >= begin &&
                              e.at("ts").get<double>() + e.at("dur").get<double>() <= end);
  CHECK(nested_op);

  // The summary: torch's table, headed like Lightning's report, with volt's actions and torch's operators.
  const auto summary_path = root / "fit-perf-0.txt";
  REQUIRE(fs::exists(summary_path));
  std::ifstream in(summary_path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str().rfind("FIT Profiler Report\n", 0) == 0);
  CHECK(text.str().find("Self CPU %") != std::string::npos);
  CHECK(text.str().find("# of Calls") != std::string::npos);
  CHECK(text.str().find("Self CPU time total: ") != std::string::npos);
  const auto& profiler = std::get<volt::TorchProfiler>(trainer.callbacks());
  REQUIRE_FALSE(profiler.rows().empty());
  for (std::size_t i = 1; i < profiler.rows().size(); ++i)  // sorted by cpu_time_total
    CHECK(profiler.rows()[i - 1].cpu_total_us >= profiler.rows()[i].cpu_total_us);
  bool has_step_row = false;
  for (const auto& row : profiler.rows()) {
    CHECK(row.self_cpu_us <= row.cpu_total_us + 1e-6);
    if (row.name == "[LightningModule]TracedNet.training_step") has_step_row = row.calls == 3;
  }
  CHECK(has_step_row);

  // Another stage gets its own trace.
  trainer.validate(model, data);
  const auto validate_trace = read_json(root / "validate-perf-0.pt.trace.json");
  CHECK(validate_trace.at("stage") == "validate");
  CHECK(events_named(validate_trace, "[_EvaluationLoop].val_next").size() == 2);
  CHECK(events_named(validate_trace, "[LightningModule]TracedNet.training_step").empty());
  fs::remove_all(root);
}

TEST_CASE("TorchProfiler stops torch's profiler when fit fails, and rejects a sort key it does not know",
          "[profiler][torch_profiler]") {
  const auto root = fs::temp_directory_path() / ("volt_torch_profiler_fail_" + std::to_string(::getpid()));
  fs::remove_all(root);
  TracedNet model;
  model.fail = true;
  TracedData data;
  auto trainer = make_trainer(root, {});
  CHECK_THROWS_WITH(trainer.fit(model, data), Catch::Contains("broken step"));
  CHECK_FALSE(torch::profiler::impl::profilerEnabled());
  model.fail = false;
  trainer.fit(model, data);  // profiles again from a clean state
  CHECK(fs::exists(root / "fit-0.pt.trace.json"));
  fs::remove_all(root);

  CHECK_THROWS_WITH(volt::TorchProfiler({.sort_by_key = "cuda_time"}),
                    Catch::Contains("sort_by_key 'cuda_time' is not known"));
  CHECK_THROWS_WITH(volt::TorchProfiler({.row_limit = 0}), Catch::Contains("row_limit 0 shows no rows"));
}
