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
  std::int64_t resolve(std::optional<std::int64_t> available, std::string_view flag) const {
    if (!is_fraction_) return available ? std::min(count_, *available) : count_;
    if (fraction_ == 1.0) return available ? *available : -1;  // -1: until the loader ends
    if (!available)
      throw std::invalid_argument(fmt::format(
          "volt: {}={} is a fraction, but the loader cannot tell how many batches it has (no size()). "
          "Give a number of batches instead (e.g. {}=100), or use a sized loader such as "
          "volt::data::TensorLoader.",
          flag, str(), flag));
    const auto n = static_cast<std::int64_t>(std::floor(fraction_ * static_cast<double>(*available)));
    if (n == 0 && fraction_ > 0.0 && *available > 0)
      throw std::invalid_argument(fmt::format(
          "volt: {}={} of a loader with {} batches is less than one batch; raise {} to at least {:.4g} or give a "
          "number of batches.",
          flag, str(), *available, flag, 1.0 / static_cast<double>(*available)));
    return n;
  }

  // As Python prints it: a fraction keeps its ".0" (0.0 vs the count 0), a count has none.
  std::string str() const {
    if (!is_fraction_) return fmt::format("{}", count_);
    std::string s = fmt::format("{}", fraction_);
    if (s.find_first_of(".ein") == std::string::npos) s += ".0";
    return s;
  }

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

  std::int64_t resolved_max_epochs() const noexcept {
    if (fast_dev_run) return 1;
    if (max_epochs) return *max_epochs;
    return max_steps == -1 ? 1000 : -1;
  }

  // The options a run actually uses: fast_dev_run and overfit_batches override others the
  // way Lightning's do.
  TrainerOptions effective() const {
    TrainerOptions e = *this;
    if (fast_dev_run) {
      const auto n = fast_dev_run.batches();
      e.max_epochs = 1;
      e.max_steps = n;
      e.limit_train_batches = n;
      e.limit_val_batches = n;
      e.limit_test_batches = n;
      e.limit_predict_batches = n;
      e.val_check_interval = 1.0;
      e.check_val_every_n_epoch = 1;
      e.num_sanity_val_steps = 0;
    }
    if (barebones) e.num_sanity_val_steps = 0;
    if (fast_dev_run) e.logger = false;  // Lightning: no logger writes in a fast_dev_run
    if (overfitting()) {
      e.limit_train_batches = overfit_batches;
      e.limit_val_batches = overfit_batches;
    }
    return e;
  }

  bool overfitting() const noexcept {
    return overfit_batches.is_fraction() ? overfit_batches.fraction() > 0.0 : overfit_batches.count() > 0;
  }

  // Throws std::invalid_argument naming the first bad option, its value and what is allowed.
  void validate() const {
    auto fail = [](std::string_view name, const auto& value, std::string_view allowed) {
      throw std::invalid_argument(
          fmt::format("volt: TrainerOptions::{}={} is invalid: {}.", name, value, allowed));
    };
    if (fast_dev_run.batches() < 0)
      fail("fast_dev_run", fast_dev_run.batches(), "use true, false, or a number of batches >= 0");
    if (max_epochs && *max_epochs < -1) fail("max_epochs", *max_epochs, "use a number >= 0, or -1 for no limit");
    if (min_epochs < 0) fail("min_epochs", min_epochs, "use a number >= 0");
    if (max_steps < -1) fail("max_steps", max_steps, "use a number >= 0, or -1 for no limit");
    if (min_steps < 0) fail("min_steps", min_steps, "use a number >= 0");
    if (max_epochs && *max_epochs >= 0 && min_epochs > *max_epochs)
      fail("min_epochs", min_epochs, fmt::format("it must not exceed max_epochs={}", *max_epochs));
    if (max_steps >= 0 && min_steps > max_steps)
      fail("min_steps", min_steps, fmt::format("it must not exceed max_steps={}", max_steps));
    if (max_time && !(max_time->count() > 0.0))
      fail("max_time", fmt::format("{}s", max_time->count()), "use a positive duration, or leave it unset");
    const std::pair<std::string_view, const BatchCount*> limits[] = {
        {"limit_train_batches", &limit_train_batches},
        {"limit_val_batches", &limit_val_batches},
        {"limit_test_batches", &limit_test_batches},
        {"limit_predict_batches", &limit_predict_batches},
        {"overfit_batches", &overfit_batches}};
    for (const auto& [name, limit] : limits) {
      if (limit->is_fraction() && !(limit->fraction() >= 0.0 && limit->fraction() <= 1.0))
        fail(name, limit->str(), "a fraction must be in [0.0, 1.0]; an integer is a number of batches");
      if (!limit->is_fraction() && limit->count() < 0) fail(name, limit->str(), "a number of batches must be >= 0");
    }
    if (val_check_interval.is_fraction() &&
        !(val_check_interval.fraction() > 0.0 && val_check_interval.fraction() <= 1.0))
      fail("val_check_interval", val_check_interval.str(),
           "a fraction of the epoch must be in (0.0, 1.0]; an integer is a number of training batches");
    if (!val_check_interval.is_fraction() && val_check_interval.count() < 1)
      fail("val_check_interval", val_check_interval.str(), "a number of training batches must be >= 1");
    if (check_val_every_n_epoch < 1)
      fail("check_val_every_n_epoch", check_val_every_n_epoch, "use a number >= 1");
    if (num_sanity_val_steps < -1)
      fail("num_sanity_val_steps", num_sanity_val_steps, "use a number >= 0, or -1 for the whole loader");
    if (accumulate_grad_batches < 1)
      fail("accumulate_grad_batches", accumulate_grad_batches, "use a number >= 1 (1: no accumulation)");
    if (gradient_clip_val && !(*gradient_clip_val >= 0.0))
      fail("gradient_clip_val", *gradient_clip_val, "use a value >= 0, or leave it unset for no clipping");
    if (log_every_n_steps && *log_every_n_steps < 0)
      fail("log_every_n_steps", *log_every_n_steps, "use a number >= 0 (0: no step-level logs)");
    if (barebones) {
      // Lightning's rule: barebones turns these off; asking for one of them too is a contradiction.
      const std::pair<std::string_view, bool> on[] = {
          {"logger", logger.value_or(false)},
          {"enable_checkpointing", enable_checkpointing.value_or(false)},
          {"enable_progress_bar", enable_progress_bar.value_or(false)},
          {"enable_model_summary", enable_model_summary.value_or(false)},
          {"log_every_n_steps", log_every_n_steps.value_or(0) != 0},
          {"detect_anomaly", detect_anomaly}};
      for (const auto& [name, is_on] : on)
        if (is_on)
          fail(name, "on", "barebones=true turns it off; remove one of the two settings");
    }
    // Combinations Lightning also rejects or that cannot mean anything.
    auto is_set = [](const BatchCount& b) { return !(b.is_fraction() && b.fraction() == 1.0); };
    if (overfitting() && is_set(limit_train_batches))
      fail("overfit_batches", overfit_batches.str(),
           fmt::format("it sets the train and val batches itself; leave limit_train_batches (={}) unset",
                       limit_train_batches.str()));
    if (fast_dev_run && overfitting())
      fail("fast_dev_run", fast_dev_run.batches(), "it cannot be combined with overfit_batches; pick one");
  }
};

}  // namespace volt
