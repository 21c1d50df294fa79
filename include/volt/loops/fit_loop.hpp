#pragma once
// fit(): Lightning 2.x's hook order, in one place (docs/fit.md has it as pseudocode).
//   setup_stage(fit) | configure_optimizers | on_fit_start |
//   [sanity check: on_sanity_check_start, validation loop, on_sanity_check_end] |
//   on_train_start | per epoch: training_epoch (below) | on_train_end | on_fit_end | teardown_stage
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/datamodule.hpp>
#include <volt/core/module.hpp>
#include <volt/loops/automatic_optimization.hpp>
#include <volt/loops/batches.hpp>
#include <volt/checkpoint/trainer_checkpoint.hpp>
#include <volt/loops/evaluation_loop.hpp>
#include <volt/loops/preemption.hpp>
#include <volt/loops/profiling.hpp>
#include <volt/loops/fit_summary.hpp>
#include <volt/loops/logging.hpp>
#include <volt/loops/lr_scheduler_step.hpp>
#include <volt/loops/manual_optimization.hpp>
#include <volt/loops/run_facade.hpp>
#include <volt/core/step_output.hpp>
#include <volt/loops/stage_hooks.hpp>
#include <volt/optim/configure_optimizers.hpp>
#include <volt/detail/config.hpp>

namespace volt::loops {

// How this epoch validates: every `check_batch` training batches, or at the epoch's last
// batch when the loader cannot tell its length (check_batch == -1).
struct ValidationPlan {
  bool this_epoch = false;
  std::int64_t check_batch = -1;
  std::int64_t max_batches = -1;
};

template <class Run>
bool may_stop_early(const Run& run) {
  return run.state.current_epoch >= run.options.min_epochs && run.state.global_step >= run.options.min_steps;
}

template <class Run>
bool max_steps_reached(const Run& run) {
  return run.options.max_steps >= 0 && run.state.global_step >= run.options.max_steps;
}

// max_time: like Lightning's Timer, asks the fit loop to stop (min_epochs / min_steps still apply).
VOLT_INLINE void check_max_time(RunState& state, const TrainerOptions& options,
                                std::chrono::steady_clock::time_point fit_started);
template <class Run>
void check_max_time(Run& run) {
  check_max_time(run.state, run.options, run.fit_started);
}

// The line the progress bar prints when fit ends: the reason a callback or max_time gave, else
// the limit that ended the loop (Lightning's "`Trainer.fit` stopped: `max_epochs=3` reached.").
VOLT_INLINE void record_stop_reason(RunState& state, const TrainerOptions& options, std::int64_t max_epochs);
template <class Run>
void record_stop_reason(Run& run, std::int64_t max_epochs) {
  record_stop_reason(run.state, run.options, max_epochs);
}

// The validation plan of a fit: validation every check_batch training batches (val_check_interval,
// a count or a fraction of epoch_batches) on at most val_batches batches. Throws for an interval
// the train loader cannot give (a fraction of an unsized loader, more batches than an epoch has).
VOLT_INLINE ValidationPlan plan_validation(const TrainerOptions& opt, bool validates, std::int64_t epoch_batches,
                                           std::int64_t val_batches);

// Whether validation in fit can run on batches of type Batch: decided at compile time.
template <class Module, class Loader>
constexpr bool validates_on() {
  if constexpr (std::is_same_v<Loader, NoLoader> || std::is_void_v<Loader>) return false;
  else return HasValidationStep<Module, batch_type_t<Loader>>;
}

// Lightning's overfit_batches validates on the training batches.
template <class Run, class TrainLoader, class ValLoader>
void run_validation(Run& run, TrainLoader* train_loader, ValLoader* val_loader, std::int64_t max_batches) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  if (run.options.overfitting()) {
    if constexpr (validates_on<Module, TrainLoader>()) evaluation_loop<ValidationHooks>(run, *train_loader, max_batches);
  } else {
    if constexpr (validates_on<Module, ValLoader>()) evaluation_loop<ValidationHooks>(run, *val_loader, max_batches);
  }
}

// One training epoch:
//   on_train_epoch_start | per batch: on_train_batch_start (true / -1: skip the rest of the
//   epoch), automatic_optimization_step, [last batch: epoch-interval scheduler step],
//   on_train_batch_end, [validation when due], step-interval schedulers that monitor a metric |
//   training_epoch_end(outputs) (1.x, only if declared) | on_train_epoch_end (other callbacks, module,
//   then callbacks that monitor metrics: checkpointing, early stopping) | [all batches ran:
//   epoch-interval schedulers that monitor a metric (ReduceLROnPlateau)]
template <class Run, class TrainLoader, class ValLoader, class Optimization>
void training_epoch(Run& run, TrainLoader& train_loader, ValLoader* val_loader, Optimization& optimization,
                    const ValidationPlan& val) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  using Batch = batch_type_t<TrainLoader>;
  auto train_step = [&](const Batch& batch, std::int64_t batch_idx, bool is_last) {
    if constexpr (ManualOptimization<Module>) return manual_optimization_step(run, batch, batch_idx);
    else return automatic_optimization_step(run, optimization, batch, batch_idx, is_last);
  };
  using Output = decltype(train_step(std::declval<const Batch&>(), std::int64_t{}, bool{}));
  // outputs are kept only when the 1.x training_epoch_end(outputs) hook exists
  constexpr bool collect = hooks::has<hooks::training_epoch_end_t, Module, std::vector<Output>&&>;
  if constexpr (!collect && hooks::training_epoch_end_t::declared<Module>)
    hooks::training_epoch_end_t::signature_mismatch<Module, std::vector<Output>&&>();
  const std::int64_t epoch = run.state.current_epoch;
  set_epoch(train_loader, epoch);
  const std::int64_t n_batches =
      run.options.limit_train_batches.resolve(loader_size(train_loader), "limit_train_batches");

  run.emit(hooks::on_train_epoch_start);
  std::conditional_t<collect, std::vector<Output>, NoStepOutput> outputs{};
  const std::int64_t skip = std::exchange(run.state.resume_skip, 0);
  // A checkpoint saved after the epoch's last batch resumes with every batch done: the
  // epoch-interval schedulers stepped then, before it was saved.
  bool last_batch_ran = skip > 0 && n_batches > 0 && skip >= n_batches;
  run.state.batches_done = skip;
  if (skip == 0) run.state.validated_batches = 0;
  run.state.epoch_complete = false;
  // Resumed from a checkpoint saved after batch skip-1 but before its due validation ran (e.g.
  // by a save in on_train_batch_end): that validation runs now, before batch skip.
  const auto validation_due_after = [&](std::int64_t batch_idx, bool is_last) {
    return val.check_batch > 0 ? (batch_idx + 1) % val.check_batch == 0 : is_last;
  };
  if (skip > 0 && run.state.validated_batches < skip && val.this_epoch &&
      validation_due_after(skip - 1, n_batches > 0 && skip >= n_batches)) {
    run.state.validated_batches = skip;
    run_validation(run, &train_loader, val_loader, val.max_batches);
    if constexpr (!ManualOptimization<Module>)
      step_schedulers(run, optimization, Interval::step, run.state.global_step, SchedulerFilter::monitored);
  }
  for_each_batch(train_loader, n_batches, [&](auto&& raw_batch, std::int64_t batch_idx, bool is_last) {
    if (batch_idx < skip) return true;  // a resumed fit: these ran before the checkpoint
    // Arrived before this batch (e.g. during set-up). Several processes decide together, which
    // costs a collective: only before the first batch, the end-of-batch check covers the rest.
    if ((run.state.world_size <= 1 || batch_idx == skip) && preemption_requested(run)) {
      run.state.preempted = true;
      return false;
    }
    const Batch batch = run.prepare_batch(std::forward<decltype(raw_batch)>(raw_batch));
    bool skip_rest = false;
    run.emit_callbacks(hooks::on_train_batch_start, batch, batch_idx);
    using Signal = decltype(run.call(hooks::on_train_batch_start, batch, batch_idx));
    if constexpr (std::is_same_v<Signal, bool>) skip_rest = run.call(hooks::on_train_batch_start, batch, batch_idx);
    else if constexpr (std::is_integral_v<Signal>) skip_rest = run.call(hooks::on_train_batch_start, batch, batch_idx) == -1;
    else run.call(hooks::on_train_batch_start, batch, batch_idx);
    if (skip_rest) return false;

    const std::int64_t steps_before = run.state.global_step;
    // Several processes: the end-of-step preemption decision runs alongside the step.
    PreemptionDecision preemption(run, ManualOptimization<Module> || is_last ||
                                           (batch_idx + 1) % run.state.accumulate_grad_batches == 0);
    auto timed_batch = run.template profile_phase<RunTrainingBatch>();
    Output output = train_step(batch, batch_idx, is_last);
    timed_batch.stop();
    // Progress first: every hook from here on may save a checkpoint, and the weights, optimizer
    // and global step it saves already include this batch (Lightning's "processed" counter).
    run.state.batches_done = batch_idx + 1;
    if constexpr (!ManualOptimization<Module>) {
      if (is_last) {
        step_schedulers(run, optimization, Interval::epoch, epoch + 1, SchedulerFilter::unmonitored);
        last_batch_ran = true;
      }
    }
    run.emit(hooks::on_train_batch_end, std::as_const(output), batch, batch_idx);
    if constexpr (collect) outputs.push_back(std::move(output));
    // Lightning's _batches_that_stepped: every batch under manual optimization, the last of each
    // accumulation window under automatic optimization (stepped or not: a skipped step counts).
    if (ManualOptimization<Module> || run.state.global_step != steps_before) {
      ++run.state.batches_stepped;
      log_step_metrics(run);
    }

    if (val.this_epoch && validation_due_after(batch_idx, is_last)) {
      run.state.validated_batches = batch_idx + 1;
      run_validation(run, &train_loader, val_loader, val.max_batches);
    }
    if constexpr (!ManualOptimization<Module>)
      step_schedulers(run, optimization, Interval::step, run.state.global_step, SchedulerFilter::monitored);
    // Several processes stop only where gradients are in sync: inside an accumulation window each
    // rank holds its own local gradients, which rank 0's one checkpoint cannot carry.
    const bool in_sync = ManualOptimization<Module> || run.state.global_step != steps_before || is_last;
    if ((run.state.world_size <= 1 || in_sync) && preemption.requested()) {
      run.state.preempted = true;
      return false;
    }
    check_max_time(run);
    return !(max_steps_reached(run) || (run.state.should_stop && may_stop_early(run)));
  }, [&] { return run.template profile_phase<TrainDataloaderNext>(); });
  if (run.state.preempted) return;  // the checkpoint resumes inside this epoch: no epoch end

  run.state.epoch_complete = true;
  if constexpr (collect) run.call(hooks::training_epoch_end, std::move(outputs));
  run.metrics.end_epoch(HookFamily::train_epoch);
  run.template emit_callbacks_monitoring<false>(hooks::on_train_epoch_end);
  run.call(hooks::on_train_epoch_end);
  run.metrics.end_epoch(HookFamily::train_epoch);  // what on_train_epoch_end itself logged
  run.template emit_callbacks_monitoring<true>(hooks::on_train_epoch_end);  // they see it (Lightning)
  log_epoch_metrics(run);
  if constexpr (!ManualOptimization<Module>) {
    if (last_batch_ran)
      step_schedulers(run, optimization, Interval::epoch, epoch + 1, SchedulerFilter::monitored);
  }
  check_max_time(run);
}

// How fit() ended, and the checkpoint a preempted fit wrote.
enum class FitStatus { finished, preempted };
struct FitResult {
  FitStatus status = FitStatus::finished;
  std::filesystem::path checkpoint{};
};

// TrainerOptions::detect_anomaly: autograd's anomaly detection for the whole fit
// (torch::autograd::DetectAnomalyGuard). Compiled once (fast mode), not an optional in every TU.
class AnomalyDetection {
 public:
  VOLT_INLINE explicit AnomalyDetection(bool on);
  VOLT_INLINE ~AnomalyDetection();
  AnomalyDetection(const AnomalyDetection&) = delete;
  AnomalyDetection& operator=(const AnomalyDetection&) = delete;

 private:
  std::optional<torch::autograd::DetectAnomalyGuard> guard_;
};

// <default_root_dir>/preempted.ckpt, the checkpoint a preempted fit writes; `create_root`: the
// folder is created first (the rank that writes).
VOLT_INLINE std::filesystem::path preempted_checkpoint_path(const TrainerOptions& opt, bool create_root);

template <class Run>
FitResult fit_loop(Run& run, const std::optional<std::filesystem::path>& ckpt_path = std::nullopt) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  using Data = std::remove_reference_t<decltype(run.data)>;
  using TrainLoader = loader_t<Data, hooks::train_dataloader_t>;
  using ValLoader = std::conditional_t<HasValLoader<Data>, loader_or_void_t<Data, hooks::val_dataloader_t>, NoLoader>;
  constexpr bool val_loader_validates = validates_on<Module, ValLoader>();
  constexpr bool train_loader_validates = validates_on<Module, TrainLoader>();
  const auto& opt = run.options;
  const bool overfit = opt.overfitting();
  // Validation happens if the module can validate the loader this run validates on.
  const bool validates = overfit ? train_loader_validates : val_loader_validates;

  run.state.preempted = false;  // Trainer::fit installed the PreemptionGuard before anything else
  run.fit_started = std::chrono::steady_clock::now();
  const AnomalyDetection anomaly(opt.detect_anomaly);

  setup_stage(run, Stage::fit);
  if constexpr (ManualOptimization<Module>) check_manual_optimization_options(opt);
  auto optimization = optim::normalize(run.call(hooks::configure_optimizers));
  install_fit_operations(run, optimization);
  // Callbacks' on_exception (e.g. OnExceptionCheckpoint) runs here, while the optimizers the
  // checkpoint needs still exist.
  auto train = [&]() -> FitResult {
    if constexpr (!ManualOptimization<Module>)
      check_automatic_optimizer_count<Module, batch_type_t<TrainLoader>>(optimization);
    bool resumed = false;
    if (ckpt_path) {
      const auto point = checkpoint::load_trainer_checkpoint(run, optimization, *ckpt_path);
      run.state.current_epoch = point.epoch;
      run.state.global_step = point.global_step;
      run.state.batches_stepped = point.batches_stepped;
      run.state.resume_skip = point.batches_done;
      run.state.validated_batches = point.validated_batches;
      resumed = true;
    }
    if (run.state.global_rank == 0) warn_loaders_without_steps<Module, Data>(std::cerr, opt.overfitting());
    if (opt.model_summary_on() && run.state.global_rank == 0)
      print_fit_summary<Module, batch_type_t<TrainLoader>>(run, optimization);
    run.emit(hooks::on_fit_start);

    // Lightning asks for the val loader inside the sanity check, after on_sanity_check_start;
    // the train loader comes after the sanity check (first, when overfit_batches validates on it).
    std::optional<ValLoader> val_loader;
    std::optional<TrainLoader> train_loader;
    auto load_train = [&] {
      if (train_loader) return;
      train_loader.emplace(run.call_data(hooks::train_dataloader));
      run.strategy.process_dataloader(detail::deref(*train_loader));  // DDP: this rank's share
      if (overfit) {
        if constexpr (requires { detail::deref(*train_loader).set_shuffle(false); })
          detail::deref(*train_loader).set_shuffle(false);
        else
          throw std::invalid_argument(
              "volt: overfit_batches needs a train loader whose shuffling can be turned off (set_shuffle(false), "
              "as volt::data::TensorLoader has); build your loader without shuffling and use limit_train_batches.");
      }
    };
    std::int64_t val_batches = 0;
    auto load_for_validation = [&] {
      if (overfit) {
        load_train();
        val_batches = opt.limit_val_batches.resolve(loader_size(*train_loader), "overfit_batches");
      } else if constexpr (val_loader_validates) {
        val_loader.emplace(run.call_data(hooks::val_dataloader));
        run.strategy.process_dataloader(detail::deref(*val_loader));
        val_batches = opt.limit_val_batches.resolve(loader_size(*val_loader), "limit_val_batches");
      }
    };
    const bool val_disabled = opt.limit_val_batches.is_fraction() ? opt.limit_val_batches.fraction() == 0.0
                                                                   : opt.limit_val_batches.count() == 0;
    if (validates && opt.num_sanity_val_steps != 0 && !val_disabled && !resumed) {
      run.state.sanity_checking = true;
      run.emit_callbacks(hooks::on_sanity_check_start);
      load_for_validation();
      const std::int64_t sanity = opt.num_sanity_val_steps == -1 ? val_batches
                                  : val_batches == -1            ? opt.num_sanity_val_steps
                                                                 : std::min(opt.num_sanity_val_steps, val_batches);
      if (sanity != 0)
        run_validation(run, train_loader ? &*train_loader : nullptr, val_loader ? &*val_loader : nullptr, sanity);
      run.emit_callbacks(hooks::on_sanity_check_end);
      run.state.sanity_checking = false;
      run.metrics.reset();  // Lightning discards what the sanity check logged
    } else if (validates && !val_disabled) {  // limit_val_batches = 0: the val loader is never asked for
      load_for_validation();
    }
    load_train();

    const auto train_size = loader_size(*train_loader);
    const std::int64_t epoch_batches = opt.limit_train_batches.resolve(train_size, "limit_train_batches");
    run.state.num_training_batches = epoch_batches;
    run.state.num_val_batches = validates ? val_batches : 0;
    ValidationPlan plan = plan_validation(opt, validates, epoch_batches, val_batches);

    // The first file a logger writes: after everything above was checked (loaders, batch counts,
    // validation plan), so that an invalid option leaves no version_N folder behind.
    log_hyperparams(run);
    run.module.train();
    run.emit(hooks::on_train_start);
    const std::int64_t max_epochs = opt.resolved_max_epochs();
    while (!(max_epochs >= 0 && run.state.current_epoch >= max_epochs) && !max_steps_reached(run) &&
           !(run.state.should_stop && may_stop_early(run))) {
      plan.this_epoch = validates && val_batches != 0 && (run.state.current_epoch + 1) % opt.check_val_every_n_epoch == 0;
      {
        [[maybe_unused]] auto timed = run.template profile_phase<RunTrainingEpoch>();
        training_epoch(run, *train_loader, val_loader ? &*val_loader : nullptr, optimization, plan);
      }
      if (run.state.preempted) break;
      ++run.state.current_epoch;
    }
    if (run.state.preempted) {
      // One file, written once by rank 0 (DDP: the others wait).
      FitResult result{FitStatus::preempted, preempted_checkpoint_path(opt, run.state.global_rank == 0)};
      if (run.state.global_rank == 0)
        checkpoint::save_trainer_checkpoint(run, optimization, result.checkpoint, /*weights_only=*/false);
      run.strategy.barrier();
      finalize_loggers(run, "interrupted");
      teardown_stage(run, Stage::fit);
      return result;
    }
    record_stop_reason(run, max_epochs);
    run.emit(hooks::on_train_end);
    run.emit(hooks::on_fit_end);
    finalize_loggers(run, "success");
    teardown_stage(run, Stage::fit);
    return {};
  };
  try {
    return train();
  } catch (const std::exception& error) {
    run.state.exception_reported = true;
    run.emit(hooks::on_exception, error);
    run.state.facade = {};
    throw;
  }
}

}  // namespace volt::loops

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loops/impl/fit_loop.ipp>
#endif
