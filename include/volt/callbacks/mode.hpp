#pragma once
// volt::Mode: whether a monitored metric gets better by going down (min: losses) or up (max:
// accuracies), Lightning's mode="min" / mode="max" of ModelCheckpoint and EarlyStopping.
// Also the two things both of those callbacks do with a score: compare it (torch.lt /
// torch.gt, strict) and write it into a JSON state, where +-inf and NaN must survive (JSON
// numbers cannot hold them, and nlohmann::json would write them as null).
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

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

namespace callback_detail {

// A score as JSON: a number when finite, else the string "inf", "-inf" or "nan".
inline nlohmann::json score_to_json(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

inline double score_from_json(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto s = j.get<std::string>();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  }
  throw std::invalid_argument("volt: a callback state holds the score " + j.dump() +
                              "; expected a number, \"inf\", \"-inf\" or \"nan\".");
}

}  // namespace callback_detail
}  // namespace volt
