#pragma once
// volt::Mode: whether a monitored metric gets better by going down (min: losses) or up (max:
// accuracies). One type for every place that monitors a metric: Lightning's mode="min" /
// mode="max" of ModelCheckpoint and EarlyStopping, and torch's ReduceLROnPlateau(mode=...).
#include <limits>
#include <string_view>

namespace volt {

enum class Mode { min, max };

constexpr std::string_view to_string(Mode mode) noexcept { return mode == Mode::min ? "min" : "max"; }

// Lightning's monitor_op: strictly better (a NaN is never better).
constexpr bool improves(Mode mode, double candidate, double reference) noexcept {
  return mode == Mode::min ? candidate < reference : candidate > reference;
}

// The score nothing has beaten yet: +inf for min, -inf for max.
constexpr double worst_score(Mode mode) noexcept {
  return mode == Mode::min ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}

}  // namespace volt
