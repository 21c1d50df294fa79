#pragma once
// Definitions of <volt/loops/fit_loop.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loops/fit_loop.hpp>

namespace volt::loops {

VOLT_INLINE AnomalyDetection::AnomalyDetection(bool on) {
  if (on) guard_.emplace();
}

VOLT_INLINE AnomalyDetection::~AnomalyDetection() = default;

VOLT_INLINE std::filesystem::path preempted_checkpoint_path(const TrainerOptions& opt, bool create_root) {
  std::filesystem::path path = std::filesystem::path(opt.default_root_dir) / "preempted.ckpt";
  if (create_root) std::filesystem::create_directories(opt.default_root_dir);
  return path;
}

VOLT_INLINE void check_max_time(RunState& state, const TrainerOptions& options,
                                std::chrono::steady_clock::time_point fit_started) {
  if (!options.max_time) return;
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - fit_started;
  if (elapsed < *options.max_time) return;
  state.should_stop = true;
  if (state.stop_reason.empty())
    state.stop_reason = fmt::format("`Trainer.fit` stopped: `max_time={:g}s` reached (elapsed {:.1f}s).",
                                    options.max_time->count(), elapsed.count());
}

VOLT_INLINE void record_stop_reason(RunState& state, const TrainerOptions& options, std::int64_t max_epochs) {
  if (!state.stop_reason.empty()) return;
  if (options.max_steps >= 0 && state.global_step >= options.max_steps)  // max_steps_reached
    state.stop_reason = fmt::format("`Trainer.fit` stopped: `max_steps={}` reached.", options.max_steps);
  else if (max_epochs >= 0 && state.current_epoch >= max_epochs)
    state.stop_reason = fmt::format("`Trainer.fit` stopped: `max_epochs={}` reached.", max_epochs);
  else if (state.should_stop)
    state.stop_reason = "`Trainer.fit` stopped: a hook asked it to (ctx.request_stop()).";
}

VOLT_INLINE ValidationPlan plan_validation(const TrainerOptions& opt, bool validates, std::int64_t epoch_batches,
                                           std::int64_t val_batches) {
  ValidationPlan plan;
  if (validates) {
    plan.max_batches = val_batches;
    if (opt.val_check_interval.is_fraction()) {
      if (epoch_batches < 0 && opt.val_check_interval.fraction() != 1.0)
        throw std::invalid_argument(fmt::format(
            "volt: TrainerOptions::val_check_interval={} is a fraction of the epoch, but the train loader cannot tell "
            "how many batches it has (no size()); give a number of batches (e.g. val_check_interval=100) or use a "
            "sized loader.",
            opt.val_check_interval.fraction()));
      plan.check_batch = epoch_batches < 0 ? -1
                                           : std::max<std::int64_t>(
                                                 1, static_cast<std::int64_t>(opt.val_check_interval.fraction() *
                                                                              static_cast<double>(epoch_batches)));
    } else {
      plan.check_batch = opt.val_check_interval.count();
      if (epoch_batches >= 0 && plan.check_batch > epoch_batches)
        throw std::invalid_argument(fmt::format(
            "volt: TrainerOptions::val_check_interval={} is more than the {} training batches of an epoch; use a "
            "number of batches <= {} or a fraction of the epoch (e.g. 0.5).",
            plan.check_batch, epoch_batches, epoch_batches));
    }
  }
  return plan;
}

}  // namespace volt::loops
