#pragma once
// volt::Trainer<Module, DataModule, Strategy, Precision, Callbacks...>: Lightning's Trainer.
// Everything it calls is found at compile time; a missing or mis-declared hook is a
// static_assert naming the fix (core/diagnose.hpp), and loops for absent hooks are never
// instantiated.
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <volt/core/context.hpp>
#include <volt/core/datamodule.hpp>
#include <volt/core/diagnose.hpp>
#include <volt/core/metrics.hpp>
#include <volt/core/module.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/loops/evaluation_loop.hpp>
#include <volt/loops/fit_loop.hpp>
#include <volt/loops/prediction_loop.hpp>
#include <volt/loops/run.hpp>
#include <volt/loops/stage_hooks.hpp>
#include <volt/precision/fp32.hpp>
#include <volt/precision/precision.hpp>
#include <volt/strategy/single_device.hpp>
#include <volt/strategy/strategy.hpp>

namespace volt {

namespace diagnostic {
template <class Module, class DataModule> struct trainer_validate_needs_validation_step_and_val_dataloader : std::false_type {};
template <class Module, class DataModule> struct trainer_test_needs_test_step_and_test_dataloader : std::false_type {};
template <class Module, class DataModule> struct trainer_predict_needs_predict_step_and_predict_dataloader : std::false_type {};
}  // namespace diagnostic

template <class Module, class DataModule, Strategy StrategyT = SingleDevice, Precision PrecisionT = precision::FP32,
          class... Callbacks>
class Trainer {
  // The first unmet requirement of Module/DataModule fires its static_assert here, once.
  static constexpr bool fit_requirements_met() {
    diagnostic::diagnose_fit<Module, DataModule>();
    if constexpr (TorchModule<Module> && HasTrainLoader<DataModule>)
      return TrainableModule<Module, train_batch_t<DataModule>>;
    else
      return false;
  }
  static constexpr bool usable = fit_requirements_met();

  template <class Loader, class StepHook>
  static constexpr bool has_step_for() {
    if constexpr (!std::is_void_v<Loader> && BatchLoader<Loader>)
      return hooks::has<StepHook, Module, const batch_type_t<Loader>&, std::int64_t>;
    else
      return false;
  }

 public:
  using module_type = Module;
  using datamodule_type = DataModule;
  using strategy_type = StrategyT;
  using precision_type = PrecisionT;

  explicit Trainer(TrainerOptions options = {}, Callbacks... callbacks)
      : Trainer(std::move(options), StrategyT{}, PrecisionT{}, std::move(callbacks)...) {}

  Trainer(TrainerOptions options, StrategyT strategy, PrecisionT precision, Callbacks... callbacks)
      : options_(validated(std::move(options))), effective_(options_.effective()), strategy_(std::move(strategy)),
        precision_(std::move(precision)), callbacks_(std::move(callbacks)...) {}

  // Lightning's trainer.fit(model, datamodule).
  void fit(Module& module, DataModule& data) {
    if constexpr (usable) {
      auto run = make_run(module, data);
      loops::fit_loop(run);
    }
  }

  // Lightning's trainer.validate / trainer.test: returns the metrics logged on epoch level.
  std::map<std::string, double> validate(Module& module, DataModule& data) {
    if constexpr (!has_step_for<loader_or_void_t<DataModule, hooks::val_dataloader_t>, hooks::validation_step_t>()) {
      static_assert(diagnostic::trainer_validate_needs_validation_step_and_val_dataloader<Module, DataModule>::value,
                    "volt: trainer.validate() needs a validation_step on the Module that takes the batches of the "
                    "DataModule's val_dataloader(); add both: auto validation_step(const Batch& batch, int64_t "
                    "batch_idx, volt::Context& ctx).");
      return {};
    } else {
      return evaluate<loops::ValidationHooks>(module, data, Stage::validate, hooks::val_dataloader,
                                             effective_.limit_val_batches, "limit_val_batches");
    }
  }

  std::map<std::string, double> test(Module& module, DataModule& data) {
    if constexpr (!has_step_for<loader_or_void_t<DataModule, hooks::test_dataloader_t>, hooks::test_step_t>()) {
      static_assert(diagnostic::trainer_test_needs_test_step_and_test_dataloader<Module, DataModule>::value,
                    "volt: trainer.test() needs a test_step on the Module that takes the batches of the DataModule's "
                    "test_dataloader(); add both: auto test_step(const Batch& batch, int64_t batch_idx, "
                    "volt::Context& ctx).");
      return {};
    } else {
      return evaluate<loops::TestHooks>(module, data, Stage::test, hooks::test_dataloader, effective_.limit_test_batches,
                                        "limit_test_batches");
    }
  }

  // Lightning's trainer.predict: every predict_step result, in batch order.
  auto predict(Module& module, DataModule& data) {
    if constexpr (!has_step_for<loader_or_void_t<DataModule, hooks::predict_dataloader_t>, hooks::predict_step_t>()) {
      static_assert(
          diagnostic::trainer_predict_needs_predict_step_and_predict_dataloader<Module, DataModule>::value,
          "volt: trainer.predict() needs a predict_step on the Module that takes the batches of the DataModule's "
          "predict_dataloader(); add both: auto predict_step(const Batch& batch, int64_t batch_idx, volt::Context& "
          "ctx).");
    } else {
      auto run = make_run(module, data);
      loops::setup_stage(run, Stage::predict);
      auto loader = run.call_data(hooks::predict_dataloader);
      auto predictions = loops::prediction_loop(
          run, loader, effective_.limit_predict_batches.resolve(loops::loader_size(loader), "limit_predict_batches"));
      loops::teardown_stage(run, Stage::predict);
      return predictions;
    }
  }

  const TrainerOptions& options() const noexcept { return options_; }
  // The options runs use: fast_dev_run and overfit_batches applied.
  const TrainerOptions& effective_options() const noexcept { return effective_; }
  const RunState& state() const noexcept { return state_; }
  std::int64_t current_epoch() const noexcept { return state_.current_epoch; }
  std::int64_t global_step() const noexcept { return state_.global_step; }
  bool should_stop() const noexcept { return state_.should_stop; }
  std::map<std::string, double> callback_metrics() const { return metrics_.callback_metrics(); }
  std::map<std::string, double> progress_bar_metrics() const { return metrics_.progress_bar_metrics(); }
  StrategyT& strategy() noexcept { return strategy_; }
  PrecisionT& precision() noexcept { return precision_; }
  std::tuple<Callbacks...>& callbacks() noexcept { return callbacks_; }

 private:
  static TrainerOptions validated(TrainerOptions options) {
    options.validate();
    return options;
  }

  auto make_run(Module& module, DataModule& data) {
    return loops::Run<Module, DataModule, StrategyT, PrecisionT, Callbacks...>(
        module, data, strategy_, precision_, callbacks_, effective_, state_, metrics_);
  }

  template <class Kind, class LoaderHook>
  std::map<std::string, double> evaluate(Module& module, DataModule& data, Stage stage, LoaderHook loader_hook,
                                         const BatchCount& limit, const char* flag) {
    auto run = make_run(module, data);
    loops::setup_stage(run, stage);
    auto loader = run.call_data(loader_hook);
    loops::evaluation_loop<Kind>(run, loader, limit.resolve(loops::loader_size(loader), flag));
    loops::teardown_stage(run, stage);
    return metrics_.callback_metrics();
  }

  TrainerOptions options_;
  TrainerOptions effective_;
  [[no_unique_address]] StrategyT strategy_;
  [[no_unique_address]] PrecisionT precision_;
  std::tuple<Callbacks...> callbacks_;
  RunState state_{};
  MetricStore metrics_{};
};

}  // namespace volt
