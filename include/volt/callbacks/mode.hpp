#pragma once
// What ModelCheckpoint and EarlyStopping both do with a score besides comparing it (volt::Mode,
// core/mode.hpp): write it into a JSON state, where +-inf and NaN must survive (JSON numbers
// cannot hold them, and nlohmann::json would write them as null).
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include <volt/core/mode.hpp>

namespace volt {

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
