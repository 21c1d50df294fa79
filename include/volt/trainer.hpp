#pragma once
// volt::Trainer<Module, DataModule, Strategy, Precision, Callbacks...>: Lightning's Trainer.
// Everything it calls is found at compile time; a missing or mis-declared hook is a
// static_assert naming the fix (core/diagnose.hpp), and loops for absent hooks are never
// instantiated.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <ostream>
#include <stdexcept>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include <volt/core/callback_list.hpp>
#include <volt/core/context.hpp>
#include <volt/core/datamodule.hpp>
#include <volt/core/diagnose.hpp>
#include <volt/core/metrics.hpp>
#include <volt/core/module.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/callbacks/model_checkpoint.hpp>
#include <volt/callbacks/model_summary.hpp>
#include <volt/callbacks/progress_bar.hpp>
#include <volt/loggers/csv_logger.hpp>
#include <volt/loggers/logger.hpp>
#include <volt/loops/evaluation_loop.hpp>
#include <volt/loops/logging.hpp>
#include <volt/loops/fit_loop.hpp>
#include <volt/loops/prediction_loop.hpp>
#include <volt/loops/preemption.hpp>
#include <volt/loops/results_table.hpp>
#include <volt/loops/run.hpp>
#include <volt/loops/stage_hooks.hpp>
#include <volt/precision/fp32.hpp>
#include <volt/precision/precision.hpp>
#include <volt/strategy/single_device.hpp>
#include <volt/strategy/strategy.hpp>
#include <volt/detail/config.hpp>

namespace volt {

using loops::FitResult;
using loops::FitStatus;

// trainer.fit's options beyond the module and data (Lightning's fit keyword arguments).
struct FitOptions {
  std::optional<std::string> ckpt_path{};  // a file, "last" or "best": resume exactly from it
};

// trainer.validate / test / predict's options beyond the module and data (Lightning's keyword
// arguments `ckpt_path` and `verbose`).
struct EvalOptions {
  std::optional<std::string> ckpt_path{};  // a file, "last" or "best": evaluate those weights
  // validate / test: whether global rank 0 prints the results table (loops/results_table.hpp)
  // when the stage ends, and where. predict prints no table.
  bool verbose = true;
  std::ostream* out = &std::cout;
};

namespace diagnostic {
template <class Module, class DataModule> struct trainer_validate_needs_validation_step_and_val_dataloader {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
template <class Module, class DataModule> struct trainer_test_needs_test_step_and_test_dataloader {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
template <class Module, class DataModule> struct trainer_predict_needs_predict_step_and_predict_dataloader {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
}  // namespace diagnostic

namespace detail {
// default_root_dir receives preempted.ckpt, the default checkpoints and logs: a folder that cannot
// be created or written is reported when fit starts, before anything is written or trained,
// instead of as a bare filesystem_error at the first save. Creates nothing.
VOLT_INLINE void check_root_dir_writable(const std::filesystem::path& root);

// Trainer::resolve_ckpt_path's type-independent steps. A ckpt_path that is a file name: it must
// exist. "last" / "best": `found` is what the run's ModelCheckpoint knows (empty: nothing); "last"
// falls back to the newest earlier logger version's checkpoints/last.ckpt, then to
// <default_root_dir>/checkpoints/last.ckpt; nothing found is an error.
VOLT_INLINE std::filesystem::path existing_ckpt_path(const std::string& requested, std::string_view entry);
VOLT_INLINE std::filesystem::path resolve_named_ckpt_path(std::string found, const std::string& requested,
                                                          std::string_view entry,
                                                          const std::filesystem::path& first_logger_dir,
                                                          const std::filesystem::path& default_root_dir);

// Lightning's configure_callbacks, called at the start of every entry point (before
// prepare_data); a declared hook of the wrong form is a compile error in hooks::call.
template <class Module>
auto configured_callbacks(Module& module, hooks::hook_context_t<Module>& ctx) {
  if constexpr (hooks::has<hooks::configure_callbacks_t, Module>) {
    return as_callback_tuple<Module>(hooks::call(hooks::configure_callbacks, module, ctx));
  } else {
    if constexpr (hooks::configure_callbacks_t::declared<Module>) hooks::call(hooks::configure_callbacks, module, ctx);
    return std::tuple<>{};
  }
}
}  // namespace detail

template <class Module, class DataModule, Strategy StrategyT = SingleDevice, Precision PrecisionT = precision::FP32,
          class... Callbacks>
class Trainer {
  // The first unmet requirement of Module/DataModule fires its static_assert here, once.
  static constexpr bool fit_requirements_met() {
    if constexpr (!diagnostic::diagnose_automatic_optimization<Module>()) {
      return false;
    } else {
      diagnostic::diagnose_fit<Module, DataModule>();
      (diagnostic::diagnose_wrong_callback_hook_names<Callbacks>(), ...);
      if constexpr (HasTrainLoader<DataModule>)
        (diagnostic::diagnose_callback_hooks<Callbacks, Module, DataModule>(), ...);
      if constexpr (TorchModule<Module> && HasTrainLoader<DataModule>)
        return TrainableModule<Module, train_batch_t<DataModule>>;
      else
        return false;
    }
  }
  static constexpr bool usable = fit_requirements_met();
  // A Strategy/Precision pair that cannot work together fails here, naming both (precision/precision.hpp).
  static_assert((precision::check_strategy_precision<StrategyT, PrecisionT>(), true));

  template <class Loader, class StepHook>
  static constexpr bool has_step_for() {
    if constexpr (!std::is_void_v<Loader> && BatchLoader<Loader>)
      return hooks::has<StepHook, Module, const batch_type_t<Loader>&, std::int64_t> ||
             (std::is_same_v<StepHook, hooks::predict_step_t> &&
              hooks::has<hooks::forward_t, Module, const batch_type_t<Loader>&>);  // Lightning's default predict_step
    else
      return false;
  }

 public:
  using module_type = Module;
  using datamodule_type = DataModule;
  using strategy_type = StrategyT;
  using precision_type = PrecisionT;

  // The callbacks the Trainer runs: the user's, then the built-ins it adds when their flag is on
  // and the user gave none of that kind (Lightning's defaults), engaged at run time.
  using callbacks_type = std::tuple<Callbacks..., std::optional<ModelSummary>, std::optional<ProgressBar>,
                                    std::optional<loggers::CSVLogger>, std::optional<ModelCheckpoint>>;
  // What the module's configure_callbacks() returns, as a tuple (std::tuple<> without the hook).
  // Runs merge them with callbacks_type: core/callback_list.hpp.
  using model_callbacks_type =
      decltype(detail::configured_callbacks(std::declval<Module&>(), std::declval<hooks::hook_context_t<Module>&>()));

  explicit Trainer(TrainerOptions options = {}, Callbacks... callbacks)
      : Trainer(std::move(options), StrategyT{}, PrecisionT{}, std::move(callbacks)...) {}

  // Callbacks default-built: Trainer<M, D, S, P, volt::ProgressBar> trainer{{.max_epochs = 3}}.
  explicit Trainer(TrainerOptions options)
    requires(sizeof...(Callbacks) > 0 && (std::default_initializable<Callbacks> && ...))
      : Trainer(std::move(options), StrategyT{}, PrecisionT{}, Callbacks{}...) {}

  Trainer(TrainerOptions options, StrategyT strategy, PrecisionT precision, Callbacks... callbacks)
      : options_(validated(std::move(options))), effective_(options_.effective()), strategy_(std::move(strategy)),
        precision_(std::move(precision)),
        callbacks_(std::move(callbacks)..., std::nullopt, std::nullopt, std::nullopt, std::nullopt) {}

  // Lightning's trainer.fit(model, datamodule, ckpt_path=...): ckpt_path resumes exactly from a
  // checkpoint file, or from "last" / "best" of the ModelCheckpoint among the callbacks.
  FitResult fit(Module& module, DataModule& data, FitOptions fit_options = {}) {
    if constexpr (usable) {
      // From the first line of fit to its last, SIGTERM / SIGUSR1 only set a flag (also during
      // set-up, configure_optimizers and the loading of a checkpoint); the loop then saves
      // preempted.ckpt before its first batch or at the next batch boundary.
      loops::PreemptionGuard preemption_guard;
      detail::check_root_dir_writable(effective_.default_root_dir);
      auto run = make_run(module, data);
      try {
        return loops::fit_loop(run, resolve_ckpt_path(run.callbacks, fit_options.ckpt_path));
      } catch (const std::exception& error) {
        // Lightning's on_exception: callbacks (e.g. OnExceptionCheckpoint) see the error first
        // (fit_loop reports errors from training itself; this covers set-up).
        if (!std::exchange(run.state.exception_reported, false)) run.emit(hooks::on_exception, error);
        run.state.facade = {};
        loops::finalize_loggers(run, "failed");
        throw;
      }
    } else {
      return {};
    }
  }

  // Lightning's trainer.validate / trainer.test: returns the metrics logged on epoch level, and
  // prints them as Lightning's results table (EvalOptions::verbose).
  // ckpt_path: the weights (and DataModule state) of that checkpoint first, as Lightning's.
  std::map<std::string, double> validate(Module& module, DataModule& data, EvalOptions eval_options = {}) {
    if constexpr (!has_step_for<loader_or_void_t<DataModule, hooks::val_dataloader_t>, hooks::validation_step_t>()) {
      static_assert(diagnostic::trainer_validate_needs_validation_step_and_val_dataloader<Module, DataModule>::value,
                    "volt: trainer.validate() needs a validation_step on the Module that takes the batches of the "
                    "DataModule's val_dataloader(); add both: auto validation_step(const Batch& batch, int64_t "
                    "batch_idx, volt::Context& ctx).");
      return {};
    } else {
      return evaluate<loops::ValidationHooks>(module, data, Stage::validate, hooks::val_dataloader,
                                             effective_.limit_val_batches, "limit_val_batches", eval_options);
    }
  }

  std::map<std::string, double> test(Module& module, DataModule& data, EvalOptions eval_options = {}) {
    if constexpr (!has_step_for<loader_or_void_t<DataModule, hooks::test_dataloader_t>, hooks::test_step_t>()) {
      static_assert(diagnostic::trainer_test_needs_test_step_and_test_dataloader<Module, DataModule>::value,
                    "volt: trainer.test() needs a test_step on the Module that takes the batches of the DataModule's "
                    "test_dataloader(); add both: auto test_step(const Batch& batch, int64_t batch_idx, "
                    "volt::Context& ctx).");
      return {};
    } else {
      return evaluate<loops::TestHooks>(module, data, Stage::test, hooks::test_dataloader, effective_.limit_test_batches,
                                        "limit_test_batches", eval_options);
    }
  }

  // Lightning's trainer.predict: every predict_step result, in batch order.
  auto predict(Module& module, DataModule& data, EvalOptions eval_options = {}) {
    if constexpr (!has_step_for<loader_or_void_t<DataModule, hooks::predict_dataloader_t>, hooks::predict_step_t>()) {
      static_assert(
          diagnostic::trainer_predict_needs_predict_step_and_predict_dataloader<Module, DataModule>::value,
          "volt: trainer.predict() needs a predict_step on the Module that takes the batches of the DataModule's "
          "predict_dataloader(); add both: auto predict_step(const Batch& batch, int64_t batch_idx, volt::Context& "
          "ctx).");
    } else {
      auto run = make_run(module, data);
      load_weights(run, resolve_ckpt_path(run.callbacks, eval_options.ckpt_path, "predict"));
      loops::setup_stage(run, Stage::predict);
      auto loader = run.call_data(hooks::predict_dataloader);
      auto predictions = loops::prediction_loop(
          run, loader, effective_.limit_predict_batches.resolve(loops::loader_size(loader), "limit_predict_batches"));
      loops::teardown_stage(run, Stage::predict);
      return predictions;
    }
  }

  // The hooks volt found on the Module, at compile time (Lightning looks them up by name at
  // run time): e.g. static_assert(std::ranges::count(Trainer<...>::detected_hooks(), "validation_step") == 1).
  // Only hooks fit/validate/test/predict will call; a step whose loader the DataModule lacks,
  // or a member template no call fits, is in unused_hooks() with the reason.
  static constexpr auto detected_hooks() noexcept {
    return hook_inventory<Module, train_batch_t<DataModule>, DataModule>::names;
  }
  static constexpr auto unused_hooks() noexcept {
    return hook_inventory<Module, train_batch_t<DataModule>, DataModule>::unused;
  }
  // Whether fit() contains a validation loop at all (false: none is instantiated).
  static constexpr bool validates_in_fit() noexcept {
    using ValLoader = std::conditional_t<HasValLoader<DataModule>, loader_or_void_t<DataModule, hooks::val_dataloader_t>,
                                         loops::NoLoader>;
    return loops::validates_on<Module, ValLoader>();
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
  callbacks_type& callbacks() noexcept { return callbacks_; }
  // The callbacks configure_callbacks() returned for the latest run (empty before the first).
  std::optional<model_callbacks_type>& model_callbacks() noexcept { return model_callbacks_; }
  // The default logger, once a run created it (logger on, and no logger among the callbacks).
  const std::optional<loggers::CSVLogger>& default_logger() const noexcept {
    return std::get<std::optional<loggers::CSVLogger>>(callbacks_);
  }

  // Lightning's trainer.log_dir: the first logger's folder (the default CSVLogger's, created now
  // and kept for the run, when the user gave none), else default_root_dir. Used by the CLI to
  // save config.yaml before fit.
  std::filesystem::path log_dir() {
    engage_builtins();
    std::optional<std::filesystem::path> dir;
    auto visit = [&](auto& c) {
      using C = std::remove_cvref_t<decltype(c)>;
      if constexpr (Logger<C>) {
        if (!dir) dir = c.log_dir();
      } else if constexpr (std::is_same_v<C, std::optional<loggers::CSVLogger>>) {
        if (!dir && c) dir = c->log_dir();
      }
    };
    std::apply([&](auto&... c) { (visit(c), ...); }, callbacks_);
    return dir.value_or(effective_.default_root_dir);
  }

 private:
  // "last" / "best" name the ModelCheckpoint's files (Lightning's ckpt_path="last" / "best");
  // "last" falls back to the newest <logger root>/version_<N>/checkpoints/last.ckpt, then to
  // <default_root_dir>/checkpoints/last.ckpt.
  // Once per run ([[gnu::cold]]: g++ optimizes it for size).
  template <class RunCallbacks>
  [[gnu::cold]] std::optional<std::filesystem::path> resolve_ckpt_path(RunCallbacks& run_callbacks,
                                                         const std::optional<std::string>& requested,
                                                         std::string_view entry = "fit") {
    if (!requested) return std::nullopt;
    if (*requested != "last" && *requested != "best") return detail::existing_ckpt_path(*requested, entry);
    std::string found;
    hooks::for_each_callback(run_callbacks, [&](auto& cb) {
      if constexpr (requires { cb.best_model_path(); cb.last_model_path(); }) {
        const std::string p = *requested == "best" ? std::string(cb.best_model_path()) : std::string(cb.last_model_path());
        if (found.empty() && !p.empty()) found = p;
      }
    });
    return detail::resolve_named_ckpt_path(std::move(found), *requested, entry, state_.first_logger_dir,
                                           effective_.default_root_dir);
  }

  // validate / test / predict(ckpt_path=...): the module's weights and the DataModule's state
  // from the checkpoint (Lightning restores the model only; the loop state stays as it is).
  // Once per run ([[gnu::cold]]: g++ optimizes it for size).
  template <class Run>
  [[gnu::cold]] static void load_weights(Run& run, const std::optional<std::filesystem::path>& path) {
    if (!path) return;
    const auto reader = checkpoint::CheckpointReader::open(*path);
    checkpoint::load_state_dict(run.module, reader.tensors("state_dict"), *path);
    if constexpr (requires { run.data.load_state_dict(reader.json("datamodule")); })
      if (reader.has("datamodule")) run.data.load_state_dict(reader.json("datamodule"));
  }

  static TrainerOptions validated(TrainerOptions options) {
    options.validate();
    return options;
  }

  template <template <class...> class Kind>
  static constexpr bool user_has = (detail::is_specialization_of_v<Callbacks, Kind> || ...);
  static constexpr bool user_has_logger = (Logger<Callbacks> || ...);

  template <class Merged>
  struct run_type;
  template <class... C>
  struct run_type<std::tuple<C&...>> {
    using type = loops::Run<Module, DataModule, StrategyT, PrecisionT, C...>;
  };

  auto make_run(Module& module, DataModule& data) {
    engage_builtins();
    hooks::hook_context_t<Module> ctx(state_, metrics_, module);
    model_callbacks_.emplace(detail::configured_callbacks(module, ctx));
    auto merged = merge_callbacks(callbacks_, *model_callbacks_);
    state_.monitored_metrics = monitored_metrics(merged);
    state_.first_logger_dir = share_logger_version(merged, strategy_);
    return typename run_type<decltype(merged)>::type(module, data, strategy_, precision_, merged, effective_, state_,
                                                     metrics_);
  }

  // One version_N for all loggers of a run: those that have not fixed theirs take the first
  // fixed one's, else the largest next free version among them. Returns the first logger's
  // folder (empty without a logger), where ModelCheckpoint saves by default, as Lightning's.
  // Several processes take rank 0's choice: their file systems may differ (one per host).
  template <class Merged>
  static std::filesystem::path share_logger_version(Merged& merged, StrategyT& strategy) {
    std::optional<std::int64_t> fixed;
    std::int64_t next = 0;
    hooks::for_each_callback(merged, [&](auto& c) {
      if constexpr (requires { c.versioned_log_dir(); }) {
        const auto& dir = c.versioned_log_dir();
        if (dir.version_chosen()) fixed = fixed.value_or(dir.version());
        else next = std::max(next, loggers::next_version(dir.root_dir()));
      }
    });
    if (!fixed && next_version_needed(merged) && strategy.world_size() > 1)
      next = strategy.broadcast(torch::tensor(next, torch::kInt64), 0).template item<std::int64_t>();
    std::optional<std::filesystem::path> first;
    hooks::for_each_callback(merged, [&](auto& c) {
      if constexpr (requires { c.versioned_log_dir(); }) c.versioned_log_dir().choose_version(fixed.value_or(next));
      if constexpr (Logger<std::remove_cvref_t<decltype(c)>>)
        if (!first) first = c.log_dir();
    });
    return first.value_or(std::filesystem::path{});
  }

  template <class Merged>
  static bool next_version_needed(Merged& merged) {
    bool needed = false;
    hooks::for_each_callback(merged, [&](auto& c) {
      if constexpr (requires { c.versioned_log_dir(); }) needed = true;
    });
    return needed;
  }

  void engage_builtins() {
    auto& summary = std::get<std::optional<ModelSummary>>(callbacks_);
    auto& bar = std::get<std::optional<ProgressBar>>(callbacks_);
    auto& logger = std::get<std::optional<loggers::CSVLogger>>(callbacks_);
    if (effective_.model_summary_on() && !(std::is_same_v<Callbacks, ModelSummary> || ...)) {
      if (!summary) summary.emplace();
    } else {
      summary.reset();
    }
    if (effective_.progress_bar_on() && !user_has<BasicProgressBar>) {
      if (!bar) bar.emplace();
    } else {
      bar.reset();
    }
    // Lightning's default ModelCheckpoint: the latest epoch under <default_root_dir>/checkpoints.
    auto& checkpoint = std::get<std::optional<ModelCheckpoint>>(callbacks_);
    if (effective_.checkpointing_on() && !(std::is_same_v<Callbacks, ModelCheckpoint> || ...)) {
      if (!checkpoint) checkpoint.emplace();
    } else {
      checkpoint.reset();
    }
    // Created once and kept, so fit and a later test write into the same version_N folder.
    if (effective_.logger_on() && !user_has_logger && !logger)
      logger.emplace(loggers::CSVLoggerOptions{.save_dir = effective_.default_root_dir});
  }

  template <class Kind, class LoaderHook>
  std::map<std::string, double> evaluate(Module& module, DataModule& data, Stage stage, LoaderHook loader_hook,
                                         const BatchCount& limit, const char* flag, const EvalOptions& eval_options) {
    auto run = make_run(module, data);
    load_weights(run, resolve_ckpt_path(run.callbacks, eval_options.ckpt_path,
                                        stage == Stage::validate ? "validate" : "test"));
    loops::setup_stage(run, stage);
    auto loader = run.call_data(loader_hook);
    run.strategy.process_dataloader(detail::deref(loader));  // DDP: this rank's share
    auto produced = loops::evaluation_loop<Kind>(run, loader, limit.resolve(loops::loader_size(loader), flag));
    loops::finalize_loggers(run, "success");
    loops::teardown_stage(run, stage);
    if (eval_options.verbose && eval_options.out && state_.global_rank == 0) {
      *eval_options.out << loops::results_table(stage, produced);
      eval_options.out->flush();
    }
    return produced;
  }

  TrainerOptions options_;
  TrainerOptions effective_;
  [[no_unique_address]] StrategyT strategy_;
  [[no_unique_address]] PrecisionT precision_;
  callbacks_type callbacks_;
  std::optional<model_callbacks_type> model_callbacks_{};
  RunState state_{};
  MetricStore metrics_{};
};

// Builds a Trainer whose callback types are deduced from the arguments, so adding one callback
// needs neither the callback types nor SingleDevice{} / FP32{} spelled out (C++20 has no CTAD
// with the Module and DataModule given explicitly):
//   auto trainer = volt::make_trainer<GAN, volt::data::FashionMNIST>({.max_epochs = 3}, SampleImages{});
// A strategy and / or a precision (in that order) may come first among the arguments:
//   volt::make_trainer<GAN, Data>({}, volt::precision::BF16Mixed{}, volt::EarlyStopping{...});
// The explicit form, Trainer<Module, DataModule, Strategy, Precision, Callbacks...>{...}, stays.
template <class T>
concept TrainerCallbackArgument = !Strategy<std::remove_cvref_t<T>> && !Precision<std::remove_cvref_t<T>>;

template <class Module, class DataModule, TrainerCallbackArgument... Callbacks>
auto make_trainer(TrainerOptions options = {}, Callbacks... callbacks) {
  return Trainer<Module, DataModule, SingleDevice, precision::FP32, Callbacks...>(
      std::move(options), SingleDevice{}, precision::FP32{}, std::move(callbacks)...);
}
template <class Module, class DataModule, Strategy StrategyT, TrainerCallbackArgument... Callbacks>
auto make_trainer(TrainerOptions options, StrategyT strategy, Callbacks... callbacks) {
  return Trainer<Module, DataModule, StrategyT, precision::FP32, Callbacks...>(
      std::move(options), std::move(strategy), precision::FP32{}, std::move(callbacks)...);
}
template <class Module, class DataModule, Precision PrecisionT, TrainerCallbackArgument... Callbacks>
  requires(!Strategy<PrecisionT>)
auto make_trainer(TrainerOptions options, PrecisionT precision, Callbacks... callbacks) {
  return Trainer<Module, DataModule, SingleDevice, PrecisionT, Callbacks...>(
      std::move(options), SingleDevice{}, std::move(precision), std::move(callbacks)...);
}
template <class Module, class DataModule, Strategy StrategyT, Precision PrecisionT, TrainerCallbackArgument... Callbacks>
auto make_trainer(TrainerOptions options, StrategyT strategy, PrecisionT precision, Callbacks... callbacks) {
  return Trainer<Module, DataModule, StrategyT, PrecisionT, Callbacks...>(
      std::move(options), std::move(strategy), std::move(precision), std::move(callbacks)...);
}

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/impl/trainer.ipp>
#endif
