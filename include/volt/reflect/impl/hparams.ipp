#pragma once
// Definitions of <volt/reflect/hparams.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/reflect/hparams.hpp>

#include <nlohmann/json.hpp>

namespace volt::reflect {

VOLT_INLINE void HParamDict::set(std::string key, HParamValue value) {
  for (auto& [k, v] : items_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  items_.emplace_back(std::move(key), std::move(value));
}

VOLT_INLINE void HParamDict::update(const HParamDict& other) {
  for (const auto& [k, v] : other.items_) set(k, v);
}

VOLT_INLINE const HParamValue* HParamDict::find(std::string_view key) const {
  for (const auto& [k, v] : items_)
    if (k == key) return &v;
  return nullptr;
}

namespace detail {

VOLT_INLINE const char* hparam_kind(const HParamValue& v) {
  constexpr const char* names[] = {"None", "a bool", "an integer", "a floating-point number", "a string"};
  return names[v.index()];
}

VOLT_INLINE std::invalid_argument hparam_mismatch(const HParamValue& v, const std::string& key, const char* wanted) {
  return std::invalid_argument(
      fmt::format("hyperparameter \"{}\" is {} in the checkpoint, but the field wants {}", key, hparam_kind(v), wanted));
}

VOLT_INLINE const HParamValue& stored_hparam(const HParamDict& in, const std::string& key) {
  const HParamValue* v = in.find(key);
  if (v == nullptr) throw std::invalid_argument(fmt::format("hyperparameter \"{}\" is missing", key));
  return *v;
}

}  // namespace detail

VOLT_INLINE nlohmann::json hparams_to_json(const HParamDict& dict) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [k, v] : dict)
    out.push_back({k, std::visit(
                          [](const auto& x) -> nlohmann::json {
                            if constexpr (std::is_same_v<std::remove_cvref_t<decltype(x)>, std::monostate>) return nullptr;
                            else return x;
                          },
                          v)});
  return out;
}

VOLT_INLINE HParamDict hparams_from_json(const nlohmann::json& j) {
  if (!j.is_array()) throw std::invalid_argument("hyperparameters are not a JSON array of [name, value] pairs");
  HParamDict out;
  for (const auto& item : j) {
    if (!item.is_array() || item.size() != 2 || !item[0].is_string())
      throw std::invalid_argument(fmt::format("hyperparameter entry {} is not a [name, value] pair", item.dump()));
    const auto& v = item[1];
    HParamValue value;
    if (v.is_null()) value = std::monostate{};
    else if (v.is_boolean()) value = v.get<bool>();
    else if (v.is_number_integer()) value = v.get<std::int64_t>();
    else if (v.is_number_float()) value = v.get<double>();
    else if (v.is_string()) value = v.get<std::string>();
    else throw std::invalid_argument(fmt::format("hyperparameter \"{}\" holds {}, not a scalar", item[0].get<std::string>(), v.dump()));
    out.set(item[0].get<std::string>(), std::move(value));
  }
  return out;
}

}  // namespace volt::reflect
