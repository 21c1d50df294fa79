#pragma once
// Definitions of <volt/callbacks/early_stopping.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/callbacks/early_stopping.hpp>

#include <cmath>
#include <iostream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace volt {

VOLT_INLINE EarlyStopping::EarlyStopping(Options options) : options_(std::move(options)) {
  if (options_.monitor.empty())
    throw std::invalid_argument("volt: EarlyStopping needs the name of the metric to monitor (.monitor = \"val_loss\").");
  if (options_.patience < 0)
    throw std::invalid_argument(fmt::format("volt: EarlyStopping: patience={} must be >= 0.", options_.patience));
  // Lightning keeps min_delta signed so that `current - min_delta` favours the mode's direction.
  min_delta_ = options_.mode == Mode::max ? options_.min_delta : -options_.min_delta;
  best_score_ = worst_score(options_.mode);
  check_on_train_epoch_end_ = options_.check_on_train_epoch_end.value_or(true);  // setup() applies the rule
}

namespace callback_detail {

VOLT_INLINE bool check_on_train_epoch_end(std::optional<bool> option, const TrainerFlags& flags) {
  if (option) return *option;
  return flags.val_check_interval_is_one_epoch && flags.check_val_every_n_epoch == 1;
}

}  // namespace callback_detail

VOLT_INLINE void EarlyStopping::setup(Stage, Context& ctx) {
  check_on_train_epoch_end_ =
      callback_detail::check_on_train_epoch_end(options_.check_on_train_epoch_end, callback_detail::trainer_flags(ctx));
}

VOLT_INLINE void EarlyStopping::on_train_epoch_end(Context& ctx) {
  if (!check_on_train_epoch_end_ || should_skip_check(ctx)) return;
  run_early_stopping_check(ctx);
}

VOLT_INLINE void EarlyStopping::on_validation_end(Context& ctx) {
  if (check_on_train_epoch_end_ || should_skip_check(ctx)) return;
  run_early_stopping_check(ctx);
}

VOLT_INLINE void EarlyStopping::state_dict_into(nlohmann::json& out) const { out = state_dict(); }

VOLT_INLINE nlohmann::json EarlyStopping::state_dict() const {
  return {{"wait_count", wait_count_},
          {"stopped_epoch", stopped_epoch_},
          {"best_score", callback_detail::score_to_json(best_score_)},
          {"patience", options_.patience}};
}

VOLT_INLINE void EarlyStopping::load_state_dict(const nlohmann::json& state) {
  wait_count_ = state.at("wait_count").get<std::int64_t>();
  stopped_epoch_ = state.at("stopped_epoch").get<std::int64_t>();
  best_score_ = callback_detail::score_from_json(state.at("best_score"));
  options_.patience = state.at("patience").get<std::int64_t>();
}

VOLT_INLINE std::string EarlyStopping::state_key() const {
  return fmt::format("EarlyStopping{{'monitor': '{}', 'mode': '{}'}}", options_.monitor, to_string(options_.mode));
}

VOLT_INLINE void EarlyStopping::run_early_stopping_check(Context& ctx) {
  if (callback_detail::trainer_flags(ctx).fast_dev_run) return;
  const auto current = ctx.metric(options_.monitor);
  if (!current) {
    std::string available;
    for (const auto& [name, value] : ctx.callback_metrics()) available += (available.empty() ? "`" : "`, `") + name;
    if (!available.empty()) available += '`';
    const std::string message = fmt::format(
        "Early stopping conditioned on metric `{}` which is not available. Pass in or modify your "
        "`EarlyStopping` callback to use any of the following: {}",
        options_.monitor, available.empty() ? "(no metric has been logged)" : available);
    if (options_.strict) throw std::runtime_error("volt: " + message);
    if (options_.verbose) print(ctx, "warning: " + message);
    return;
  }
  auto [should_stop, message] = evaluate(*current);
  // One decision for every rank (Lightning's reduce_boolean_decision(all=False)): any rank
  // that would stop stops them all, so no rank waits in a collective the others left.
  if (ctx.world_size() > 1) should_stop = ctx.reduce(torch::tensor(should_stop ? 1.0 : 0.0), ReduceOp::max).item<double>() > 0.0;
  last_message_ = message;
  if (should_stop) {
    ctx.request_stop("`Trainer.fit` stopped by EarlyStopping: " + message);
    stopped_epoch_ = ctx.current_epoch();
  }
  if (!message.empty() && options_.verbose) print(ctx, message);
}

VOLT_INLINE std::pair<bool, std::string> EarlyStopping::evaluate(double current) {
  const char* order = options_.mode == Mode::min ? "<" : ">";
  auto stop = [&](StopReason why, std::string message) {
    stopping_reason_ = why;
    stopping_reason_message_ = message;
    return std::pair<bool, std::string>{true, std::move(message)};
  };
  if (options_.check_finite && !std::isfinite(current))
    return stop(StopReason::non_finite_metric,
                fmt::format("Monitored metric {} = {} is not finite. Previous best value was {:.3f}. Signaling "
                            "Trainer to stop.",
                            options_.monitor, current, best_score_));
  if (options_.stopping_threshold && improves(options_.mode, current, *options_.stopping_threshold))
    return stop(StopReason::stopping_threshold,
                fmt::format("Stopping threshold reached: {} = {} {} {}. Signaling Trainer to stop.", options_.monitor,
                            current, order, *options_.stopping_threshold));
  if (options_.divergence_threshold && improves(options_.mode, -current, -*options_.divergence_threshold))
    return stop(StopReason::divergence_threshold,
                fmt::format("Divergence threshold reached: {} = {} {} {}. Signaling Trainer to stop.",
                            options_.monitor, current, order, *options_.divergence_threshold));
  if (improves(options_.mode, current - min_delta_, best_score_)) {
    std::string message =
        std::isfinite(best_score_)
            ? fmt::format("Metric {} improved by {:.3f} >= min_delta = {}. New best score: {:.3f}", options_.monitor,
                          std::abs(best_score_ - current), std::abs(min_delta_), current)
            : fmt::format("Metric {} improved. New best score: {:.3f}", options_.monitor, current);
    best_score_ = current;
    wait_count_ = 0;
    return {false, std::move(message)};
  }
  ++wait_count_;
  if (wait_count_ >= options_.patience)
    return stop(StopReason::patience_exhausted,
                fmt::format("Monitored metric {} did not improve in the last {} records. Best score: {:.3f}. "
                            "Signaling Trainer to stop.",
                            options_.monitor, wait_count_, best_score_));
  return {false, std::string{}};
}

VOLT_INLINE void EarlyStopping::print(const Context& ctx, const std::string& message) const {
  if (options_.log_rank_zero_only && !ctx.is_global_zero()) return;
  // Lightning prefixes the rank when there are several processes.
  if (ctx.world_size() > 1) std::cout << fmt::format("[rank: {}] {}\n", ctx.global_rank(), message);
  else std::cout << message << '\n';
}

}  // namespace volt
