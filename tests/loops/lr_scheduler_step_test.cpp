// Lightning's lr_scheduler_step(scheduler, metric) override: when the module has it, volt calls
// it for every scheduler step it would do (interval, frequency, monitor stay volt's), with the
// monitored value for a scheduler with a monitor and std::nullopt otherwise.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include <volt/data/tensor_loader.hpp>
#include <volt/loops/lr_scheduler_step.hpp>
#include <volt/volt.hpp>

namespace {

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 2}}; }  // 4 batches
};

volt::TrainerOptions options(std::int64_t epochs) {
  return {.logger = false, .max_epochs = epochs, .enable_checkpointing = false, .enable_progress_bar = false,
          .enable_model_summary = false};
}

// Steps an epoch-interval StepLR itself, recording each call.
struct EpochModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  std::vector<std::pair<std::int64_t, std::optional<double>>> calls;  // (global step, metric)
  EpochModel() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(1.0)),
                                volt::optim::StepLR{{.step_size = 1, .gamma = 0.5}});
  }
  void lr_scheduler_step(volt::optim::StepLR& scheduler, std::optional<double> metric, volt::Context& ctx) {
    calls.emplace_back(ctx.global_step(), metric);
    scheduler.step();
  }
};

// Step interval, frequency 2; takes the scheduler alone (metric left out) and does not step it.
struct StepModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  std::vector<std::int64_t> calls;
  double final_lr = 0.0;
  StepModel() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(1.0)),
                                volt::optim::StepLR{{.step_size = 1, .gamma = 0.5}},
                                {.interval = volt::Interval::step, .frequency = 2});
  }
  void lr_scheduler_step(volt::optim::StepLR&, volt::Context& ctx) { calls.push_back(ctx.global_step()); }
  void on_train_end(volt::Context& ctx) { final_lr = ctx.raw_optimizers().at(0)->param_groups()[0].options().get_lr(); }
};

// A monitored ReduceLROnPlateau gets the metric it monitors.
struct PlateauModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  std::vector<std::optional<double>> metrics;
  PlateauModel() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    ctx.log("fixed", 0.25, {.on_step = false, .on_epoch = true});
    return torch::mse_loss(fc(b.data), b.target);
  }
  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(1.0)),
                                volt::optim::ReduceLROnPlateau{{.patience = 0}}, {.monitor = "fixed"});
  }
  void lr_scheduler_step(volt::optim::ReduceLROnPlateau& scheduler, std::optional<double> metric) {
    metrics.push_back(metric);
    scheduler.step(metric.value());
  }
};

double lr_of(torch::optim::Optimizer& opt) { return opt.param_groups()[0].options().get_lr(); }

}  // namespace

TEST_CASE("lr_scheduler_step replaces volt's epoch-interval scheduler step, without a metric", "[loops][optim]") {
  EpochModel model;
  Data data;
  volt::Trainer<EpochModel, Data> trainer{options(3)};
  trainer.fit(model, data);
  REQUIRE(model.calls.size() == 3);  // once per epoch, at its last batch
  for (std::size_t i = 0; i < model.calls.size(); ++i) {
    CHECK(model.calls[i].first == static_cast<std::int64_t>(4 * (i + 1)));
    CHECK_FALSE(model.calls[i].second.has_value());
  }
}

TEST_CASE("lr_scheduler_step follows the step interval and frequency; not stepping leaves the lr", "[loops][optim]") {
  StepModel model;
  Data data;
  volt::Trainer<StepModel, Data> trainer{options(2)};
  trainer.fit(model, data);
  CHECK((model.calls == std::vector<std::int64_t>{2, 4, 6, 8}));
  CHECK(model.final_lr == Approx(1.0));  // the override never stepped the scheduler
}

TEST_CASE("lr_scheduler_step of a monitored scheduler gets the monitored value", "[loops][optim]") {
  PlateauModel model;
  Data data;
  volt::Trainer<PlateauModel, Data> trainer{options(2)};
  trainer.fit(model, data);
  REQUIRE(model.metrics.size() == 2);
  for (const auto& m : model.metrics) {
    REQUIRE(m.has_value());
    CHECK(*m == Approx(0.25));
  }
}

namespace {
struct NoOverride : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  NoOverride() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
};
struct FakeRun {
  NoOverride& module;
  volt::MetricStore metrics{};
};
}  // namespace

TEST_CASE("without an override, loops::step_schedulers steps the scheduler as Lightning's default does", "[loops][optim]") {
  NoOverride module;
  FakeRun run{module};
  auto optimization = volt::optim::normalize(
      volt::with_scheduler(torch::optim::SGD(module.parameters(), torch::optim::SGDOptions(1.0)),
                           volt::optim::StepLR{{.step_size = 1, .gamma = 0.5}}));
  volt::loops::step_schedulers(run, optimization, volt::Interval::epoch, 1, volt::SchedulerFilter::all);
  CHECK(lr_of(optimization.optimizer()) == Approx(0.5));
  STATIC_REQUIRE_FALSE(volt::hooks::has<volt::hooks::lr_scheduler_step_t, NoOverride, volt::optim::StepLR&,
                                        std::optional<double>>);
  STATIC_REQUIRE(volt::hooks::has<volt::hooks::lr_scheduler_step_t, StepModel, volt::optim::StepLR&,
                                  std::optional<double>>);
}
