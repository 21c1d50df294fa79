#pragma once
// Handing logged metrics to the loggers among the callbacks (Lightning's logger connector):
// step-level values every log_every_n_steps optimizer steps, epoch-level values when an
// epoch of training or evaluation ends, with an `epoch` column during fit. Values are read
// from their tensors only here, so logging costs no device sync on the steps in between.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>

#include <volt/core/stage.hpp>
#include <volt/hooks/call.hpp>
#include <volt/loggers/logger.hpp>

namespace volt::loops {

// Global rank 0 alone writes logs (Lightning's rank_zero_only loggers); the other ranks' loggers
// are never called, so they create no folders.
template <class Run, class F>
void for_each_logger(Run& run, F&& f) {
  if (run.state.global_rank != 0) return;
  hooks::for_each_callback(run.callbacks, [&](auto& cb) {
    if constexpr (Logger<std::remove_cvref_t<decltype(cb)>>) f(cb);
  });
}

template <class Run>
bool has_logger(Run& run) {
  bool any = false;
  for_each_logger(run, [&](auto&) { any = true; });
  return any;
}

template <class Run>
void write_logs(Run& run, std::map<std::string, double> metrics) {
  if (metrics.empty() || run.state.sanity_checking) return;
  if (run.state.stage == Stage::fit) metrics["epoch"] = static_cast<double>(run.state.current_epoch);
  const std::int64_t step = std::max<std::int64_t>(0, run.state.global_step - 1);
  for_each_logger(run, [&](auto& logger) { logger.log_metrics(metrics, step); });
}

// After a training batch that stepped the optimizer.
template <class Run>
void log_step_metrics(Run& run) {
  const std::int64_t every = run.options.resolved_log_every_n_steps();
  if (every <= 0 || run.state.global_step % every != 0 || !has_logger(run)) return;
  write_logs(run, run.metrics.take_step_logs());
}

// After an epoch of training, validation or test.
template <class Run>
void log_epoch_metrics(Run& run) {
  if (!run.metrics.has_pending_epoch_logs() || !has_logger(run)) return;
  write_logs(run, run.metrics.take_epoch_logs());
}

// At fit start: the module's hyper-parameters (a member `hp`: a map or a Boost.Hana struct).
template <class Run>
void log_hyperparams(Run& run) {
  if constexpr (requires { run.module.hp; }) {
    for_each_logger(run, [&](auto& logger) {
      if constexpr (requires { logger.log_hyperparams(run.module.hp); }) logger.log_hyperparams(run.module.hp);
    });
  }
}

// At the end of fit / validate / test: flush, close, and let a logger that can write a report
// of what it logged do so (CSVLogger: the HTML report of its curves next to metrics.csv).
template <class Run>
void finalize_loggers(Run& run, std::string_view status) {
  // For a report: the best checkpoint of the first ModelCheckpoint-like callback that has one.
  loggers::RunSummary summary;
  hooks::for_each_callback(run.callbacks, [&](auto& cb) {
    if constexpr (requires { cb.best_model_path(); cb.best_model_score(); cb.options().monitor; }) {
      if (summary.best_model_path.empty() && !cb.best_model_path().empty())
        summary = {std::string(cb.best_model_path()), cb.options().monitor.value_or(""), cb.best_model_score()};
    }
  });
  for_each_logger(run, [&](auto& logger) {
    // Lightning's trainer calls only finalize("failed") after an error: a logger that has not
    // written yet creates no folder for a run that never trained.
    if (status != "failed") logger.save();
    logger.finalize(status);
    if constexpr (requires { logger.write_report(summary); }) logger.write_report(summary);
    else if constexpr (requires { logger.write_report(); }) logger.write_report();
  });
}

}  // namespace volt::loops
