#pragma once
// Definitions of <volt/core/trainer_options.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/core/trainer_options.hpp>

namespace volt {

VOLT_INLINE std::int64_t BatchCount::resolve(std::optional<std::int64_t> available, std::string_view flag) const {
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

VOLT_INLINE std::string BatchCount::str() const {
  if (!is_fraction_) return fmt::format("{}", count_);
  std::string s = fmt::format("{}", fraction_);
  if (s.find_first_of(".ein") == std::string::npos) s += ".0";
  return s;
}

VOLT_INLINE std::int64_t TrainerOptions::resolved_max_epochs() const noexcept {
  if (fast_dev_run) return 1;
  if (max_epochs) return *max_epochs;
  return max_steps == -1 ? 1000 : -1;
}

VOLT_INLINE TrainerOptions TrainerOptions::effective() const {
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

VOLT_INLINE bool TrainerOptions::overfitting() const noexcept {
  return overfit_batches.is_fraction() ? overfit_batches.fraction() > 0.0 : overfit_batches.count() > 0;
}

VOLT_INLINE void TrainerOptions::validate() const {
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

}  // namespace volt
