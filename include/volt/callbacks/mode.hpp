#pragma once
// What ModelCheckpoint and EarlyStopping both do with a score besides comparing it (volt::Mode,
// core/mode.hpp): write it into a JSON state, where +-inf and NaN must survive (JSON numbers
// cannot hold them, and nlohmann::json would write them as null).
#include <nlohmann/json_fwd.hpp>

#include <volt/core/mode.hpp>
#include <volt/detail/config.hpp>

namespace volt {

namespace callback_detail {

// A score as JSON: a number when finite, else the string "inf", "-inf" or "nan".
VOLT_INLINE nlohmann::json score_to_json(double value);
VOLT_INLINE double score_from_json(const nlohmann::json& j);

}  // namespace callback_detail
}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/mode.ipp>
#endif
