#pragma once
// volt::EarlyStopping: Lightning 2.x's EarlyStopping (callbacks/early_stopping.py). After each
// check it reads ctx.metric(monitor) and asks the Trainer to stop (ctx.request_stop()) when
//   - check_finite and the value is NaN or infinite, or
//   - it has reached stopping_threshold (better than or equal is not enough: strictly better), or
//   - it is strictly worse than divergence_threshold, or
//   - it has not improved on the best by more than min_delta for `patience` checks in a row.
// A check happens at the end of the training epoch or at the end of validation: with
// check_on_train_epoch_end unset, Lightning's rule picks the training epoch end when validation
// runs once per epoch (val_check_interval 1.0, check_val_every_n_epoch 1), else validation end.
// No check runs during the sanity check, outside fit, or under fast_dev_run. `patience` counts
// checks, not epochs. The Trainer stops once min_epochs / min_steps allow it.
// A missing metric is an error naming it and the metrics that exist (strict), or skips the check.
// Messages (verbose) go to std::cout on every rank, or rank 0 only with log_rank_zero_only.
// Under several processes each rank decides from its own metric values (Lightning stops all
// ranks when any one decides to; volt's callbacks have no collective to ask yet).
#include <cmath>
#include <cstdint>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <volt/callbacks/mode.hpp>
#include <volt/callbacks/trainer_flags.hpp>
#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>

namespace volt {

namespace callback_detail {
// Lightning's EarlyStopping.setup rule: check at the training epoch end when validation runs
// once per epoch, else at the end of each validation.
inline bool check_on_train_epoch_end(std::optional<bool> option, const TrainerFlags& flags) {
  if (option) return *option;
  return flags.val_check_interval_is_one_epoch && flags.check_val_every_n_epoch == 1;
}
}  // namespace callback_detail

class EarlyStopping {
 public:
  // Runs after the module's on_train_epoch_end (core/callback_list.hpp), as in Lightning.
  static constexpr bool monitoring_callback = true;
  // Lightning's EarlyStoppingReason.
  enum class StopReason { not_stopped, stopping_threshold, divergence_threshold, patience_exhausted, non_finite_metric };

  struct Options {
    std::string monitor;                 // required
    double min_delta = 0.0;              // an improvement must exceed this (absolute)
    std::int64_t patience = 3;           // checks without improvement before stopping
    bool verbose = false;
    Mode mode = Mode::min;
    bool strict = true;                  // a missing metric is an error (else the check is skipped)
    bool check_finite = true;            // stop on NaN / inf
    std::optional<double> stopping_threshold{};
    std::optional<double> divergence_threshold{};
    std::optional<bool> check_on_train_epoch_end{};  // none: Lightning's rule (see above)
    bool log_rank_zero_only = false;
  };

  explicit EarlyStopping(Options options) : options_(std::move(options)) {
    if (options_.monitor.empty())
      throw std::invalid_argument("volt: EarlyStopping needs the name of the metric to monitor (.monitor = \"val_loss\").");
    if (options_.patience < 0)
      throw std::invalid_argument(fmt::format("volt: EarlyStopping: patience={} must be >= 0.", options_.patience));
    // Lightning keeps min_delta signed so that `current - min_delta` favours the mode's direction.
    min_delta_ = options_.mode == Mode::max ? options_.min_delta : -options_.min_delta;
    best_score_ = worst_score(options_.mode);
    check_on_train_epoch_end_ = options_.check_on_train_epoch_end.value_or(true);  // setup() applies the rule
  }

  // ---- hooks ----

  void setup(Stage, Context& ctx) {
    check_on_train_epoch_end_ =
        callback_detail::check_on_train_epoch_end(options_.check_on_train_epoch_end, callback_detail::trainer_flags(ctx));
  }

  void on_train_epoch_end(Context& ctx) {
    if (!check_on_train_epoch_end_ || should_skip_check(ctx)) return;
    run_early_stopping_check(ctx);
  }

  void on_validation_end(Context& ctx) {
    if (check_on_train_epoch_end_ || should_skip_check(ctx)) return;
    run_early_stopping_check(ctx);
  }

  // ---- checkpoint state ----

  nlohmann::json state_dict() const {
    return {{"wait_count", wait_count_},
            {"stopped_epoch", stopped_epoch_},
            {"best_score", callback_detail::score_to_json(best_score_)},
            {"patience", options_.patience}};
  }

  void load_state_dict(const nlohmann::json& state) {
    wait_count_ = state.at("wait_count").get<std::int64_t>();
    stopped_epoch_ = state.at("stopped_epoch").get<std::int64_t>();
    best_score_ = callback_detail::score_from_json(state.at("best_score"));
    options_.patience = state.at("patience").get<std::int64_t>();
  }

  std::string state_key() const {
    return fmt::format("EarlyStopping{{'monitor': '{}', 'mode': '{}'}}", options_.monitor, to_string(options_.mode));
  }

  // ---- results ----

  std::int64_t wait_count() const noexcept { return wait_count_; }
  std::int64_t stopped_epoch() const noexcept { return stopped_epoch_; }  // 0 until it stops the run
  double best_score() const noexcept { return best_score_; }
  StopReason stopping_reason() const noexcept { return stopping_reason_; }
  // Why it stopped the run (empty while it has not).
  const std::string& stopping_reason_message() const noexcept { return stopping_reason_message_; }
  // The message of the last check: an improvement, a stop, or empty (no improvement yet within patience).
  const std::string& reason() const noexcept { return last_message_; }
  // Whether checks run at the training epoch end (resolved in setup()).
  bool check_on_train_epoch_end() const noexcept { return check_on_train_epoch_end_; }
  const Options& options() const noexcept { return options_; }

 private:
  static bool should_skip_check(const Context& ctx) { return ctx.stage() != Stage::fit || ctx.sanity_checking(); }

  void run_early_stopping_check(Context& ctx) {
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

  std::pair<bool, std::string> evaluate(double current) {
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

  void print(const Context& ctx, const std::string& message) const {
    if (options_.log_rank_zero_only && !ctx.is_global_zero()) return;
    // Lightning prefixes the rank when there are several processes.
    if (ctx.world_size() > 1) std::cout << fmt::format("[rank: {}] {}\n", ctx.global_rank(), message);
    else std::cout << message << '\n';
  }

  Options options_;
  double min_delta_ = 0.0;
  double best_score_ = 0.0;
  std::int64_t wait_count_ = 0;
  std::int64_t stopped_epoch_ = 0;
  bool check_on_train_epoch_end_ = true;
  StopReason stopping_reason_ = StopReason::not_stopped;
  std::string stopping_reason_message_{};
  std::string last_message_{};
};

}  // namespace volt
