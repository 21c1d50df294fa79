#pragma once
// TrainerOptions: Lightning's Trainer flags, with Lightning's names and defaults, checked
// when the Trainer is built so a bad value fails before anything runs or is written.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <volt/detail/config.hpp>

namespace volt {

// Lightning's int-or-float flags: an integer is a number of batches, a floating-point value
// a fraction of the loader (`.limit_train_batches = 10` vs `.limit_train_batches = 0.25`).
class BatchCount {
 public:
  BatchCount(double fraction) noexcept : fraction_(fraction), is_fraction_(true) {}  // NOLINT: implicit by design
  BatchCount(int count) noexcept : count_(count) {}                                  // NOLINT
  BatchCount(long count) noexcept : count_(count) {}                                 // NOLINT
  BatchCount(long long count) noexcept : count_(count) {}                            // NOLINT
  BatchCount(unsigned count) noexcept : count_(count) {}                             // NOLINT
  BatchCount(unsigned long count) noexcept : count_(static_cast<std::int64_t>(count)) {}       // NOLINT
  BatchCount(unsigned long long count) noexcept : count_(static_cast<std::int64_t>(count)) {}  // NOLINT

  bool is_fraction() const noexcept { return is_fraction_; }
  double fraction() const noexcept { return fraction_; }
  std::int64_t count() const noexcept { return count_; }

  // Batches to use from a loader of `available` batches (nullopt: the loader cannot tell).
  VOLT_INLINE std::int64_t resolve(std::optional<std::int64_t> available, std::string_view flag) const;

  // As Python prints it: a fraction keeps its ".0" (0.0 vs the count 0), a count has none.
  VOLT_INLINE std::string str() const;

 private:
  double fraction_ = 1.0;
  std::int64_t count_ = 0;
  bool is_fraction_ = false;
};

// Lightning's fast_dev_run: `true` runs 1 batch of each loop, an integer n runs n batches.
class FastDevRun {
 public:
  FastDevRun(bool on) noexcept : batches_(on ? 1 : 0) {}  // NOLINT: implicit by design
  // Any integer (int, std::int64_t, size_t): one constructor per type would be ambiguous
  // against the bool one for the types not listed.
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  FastDevRun(I batches) noexcept : batches_(static_cast<std::int64_t>(batches)) {}  // NOLINT
  std::int64_t batches() const noexcept { return batches_; }
  explicit operator bool() const noexcept { return batches_ > 0; }

 private:
  std::int64_t batches_ = 0;
};

enum class GradClipAlgorithm { norm, value };

constexpr std::string_view to_string(GradClipAlgorithm a) noexcept {
  return a == GradClipAlgorithm::norm ? "norm" : "value";
}

// Trainer flags with Lightning's names, meanings and defaults, in Lightning's order (C++
// designated initializers must follow declaration order).
struct TrainerOptions {
  // The default logger (a CSVLogger under default_root_dir) when no logger is among the
  // callbacks. Unset: on, unless barebones.
  std::optional<bool> logger{};
  // Debugging run: n batches of each loop, one epoch, no sanity check, no logger or
  // checkpoint writes.
  FastDevRun fast_dev_run = false;
  // Run length. max_epochs unset means 1000 when max_steps is -1, as in Lightning.
  std::optional<std::int64_t> max_epochs{};
  std::int64_t min_epochs = 0;
  std::int64_t max_steps = -1;  // optimizer steps
  std::int64_t min_steps = 0;
  // Wall-clock limit for fit, checked after every training batch and epoch.
  std::optional<std::chrono::duration<double>> max_time{};
  // Data limits per loop.
  BatchCount limit_train_batches = 1.0;
  BatchCount limit_val_batches = 1.0;
  BatchCount limit_test_batches = 1.0;
  BatchCount limit_predict_batches = 1.0;
  // Train on the same first batches every epoch (shuffling off) and validate on them.
  BatchCount overfit_batches = 0.0;
  // Validation schedule.
  BatchCount val_check_interval = 1.0;
  std::int64_t check_val_every_n_epoch = 1;
  std::int64_t num_sanity_val_steps = 2;  // -1: the whole validation loader
  // Conveniences. Unset: on (log every 50 steps), unless barebones.
  std::optional<std::int64_t> log_every_n_steps{};
  std::optional<bool> enable_checkpointing{};
  std::optional<bool> enable_progress_bar{};
  std::optional<bool> enable_model_summary{};
  // Optimization.
  std::int64_t accumulate_grad_batches = 1;
  std::optional<double> gradient_clip_val{};
  GradClipAlgorithm gradient_clip_algorithm = GradClipAlgorithm::norm;
  // Reproducibility and debugging.
  bool deterministic = false;        // torch's deterministic algorithms
  bool inference_mode = true;        // evaluation under torch::InferenceMode, else NoGradGuard
  bool detect_anomaly = false;       // autograd anomaly mode during fit
  // Everything that costs time per step off (for measuring the loop itself): no logger,
  // checkpointing, progress bar, model summary, sanity check, and ctx.log is an error.
  bool barebones = false;
  bool terminate_on_nan = false;     // throw, naming the step, when the loss is NaN or infinite
  std::filesystem::path default_root_dir = ".";

  bool logger_on() const noexcept { return logger.value_or(!barebones); }
  bool checkpointing_on() const noexcept { return enable_checkpointing.value_or(!barebones) && !fast_dev_run; }
  bool progress_bar_on() const noexcept { return enable_progress_bar.value_or(!barebones); }
  bool model_summary_on() const noexcept { return enable_model_summary.value_or(!barebones); }
  std::int64_t resolved_log_every_n_steps() const noexcept { return log_every_n_steps.value_or(barebones ? 0 : 50); }

  VOLT_INLINE std::int64_t resolved_max_epochs() const noexcept;

  // The options a run actually uses: fast_dev_run and overfit_batches override others the
  // way Lightning's do.
  VOLT_INLINE TrainerOptions effective() const;

  VOLT_INLINE bool overfitting() const noexcept;

  // Throws std::invalid_argument naming the first bad option, its value and what is allowed.
  VOLT_INLINE void validate() const;
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/core/impl/trainer_options.ipp>
#endif
