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
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include <volt/callbacks/mode.hpp>
#include <volt/callbacks/trainer_flags.hpp>
#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>
#include <volt/detail/config.hpp>

namespace volt {

namespace callback_detail {
// Lightning's EarlyStopping.setup rule: check at the training epoch end when validation runs
// once per epoch, else at the end of each validation.
VOLT_INLINE bool check_on_train_epoch_end(std::optional<bool> option, const TrainerFlags& flags);
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

  VOLT_INLINE explicit EarlyStopping(Options options);

  // ---- hooks ----

  VOLT_INLINE void setup(Stage, Context& ctx);

  VOLT_INLINE void on_train_epoch_end(Context& ctx);

  VOLT_INLINE void on_validation_end(Context& ctx);

  // ---- checkpoint state ----

  VOLT_INLINE nlohmann::json state_dict() const;

  // The same, written into `out`: what the Trainer calls (compiled; no JSON in a user TU).

  VOLT_INLINE void state_dict_into(nlohmann::json& out) const;

  VOLT_INLINE void load_state_dict(const nlohmann::json& state);

  VOLT_INLINE std::string state_key() const;

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

  VOLT_INLINE void run_early_stopping_check(Context& ctx);

  VOLT_INLINE std::pair<bool, std::string> evaluate(double current);

  VOLT_INLINE void print(const Context& ctx, const std::string& message) const;

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

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/early_stopping.ipp>
#endif
