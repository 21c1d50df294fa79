#pragma once
// Hyperparameters as loggers see them: an insertion-ordered dict of name -> None / bool / int /
// float / str, the value types Lightning's loggers write. `to_hparams` builds one from a
// std::map (or any map-like type) or from a struct reflected with BOOST_HANA_DEFINE_STRUCT, so a
// module's `HParams` struct is logged without naming its fields twice.
//
// Field values: bool, integers (-> int64), floating point (-> double), enums (-> their integer),
// std::string / string_view / const char* / std::filesystem::path (-> str), std::optional
// (nullopt -> None), HParamValue itself, nested Hana structs (flattened to "outer/inner", the
// delimiter of Lightning's _flatten_dict), and anything else fmt can format (-> str(value), as
// Lightning's _sanitize_params does for unknown types).
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <fmt/format.h>

namespace volt::loggers {

// std::monostate is Python's None.
using HParamValue = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

// Python dict semantics: setting an existing key keeps its position and replaces the value.
class HParamDict {
 public:
  using value_type = std::pair<std::string, HParamValue>;

  void set(std::string key, HParamValue value) {
    for (auto& [k, v] : items_)
      if (k == key) {
        v = std::move(value);
        return;
      }
    items_.emplace_back(std::move(key), std::move(value));
  }
  void update(const HParamDict& other) {
    for (const auto& [k, v] : other.items_) set(k, v);
  }
  const HParamValue* find(std::string_view key) const {
    for (const auto& [k, v] : items_)
      if (k == key) return &v;
    return nullptr;
  }
  const std::vector<value_type>& items() const noexcept { return items_; }
  auto begin() const noexcept { return items_.begin(); }
  auto end() const noexcept { return items_.end(); }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  bool operator==(const HParamDict&) const = default;

 private:
  std::vector<value_type> items_;
};

template <class T>
concept HanaStruct = boost::hana::Struct<std::remove_cvref_t<T>>::value;

// A std::map-like type whose keys are strings.
template <class T>
concept HParamMap = requires(const T& m) {
  typename T::key_type;
  typename T::mapped_type;
  requires std::convertible_to<const typename T::key_type&, std::string_view>;
  m.begin();
  m.end();
};

namespace detail {

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};

template <class T> struct unsupported_hparam_type : std::false_type {};

template <class T>
void add_hparam(HParamDict& out, const std::string& key, const T& value) {
  using V = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<V, HParamValue>) {
    out.set(key, value);
  } else if constexpr (std::is_same_v<V, std::monostate> || std::is_same_v<V, std::nullopt_t> ||
                       std::is_same_v<V, std::nullptr_t>) {
    out.set(key, std::monostate{});
  } else if constexpr (std::is_same_v<V, bool>) {
    out.set(key, value);
  } else if constexpr (std::is_integral_v<V>) {
    out.set(key, static_cast<std::int64_t>(value));
  } else if constexpr (std::is_floating_point_v<V>) {
    out.set(key, static_cast<double>(value));
  } else if constexpr (std::is_enum_v<V>) {
    out.set(key, static_cast<std::int64_t>(static_cast<std::underlying_type_t<V>>(value)));
  } else if constexpr (std::is_same_v<V, std::filesystem::path>) {
    out.set(key, value.string());
  } else if constexpr (std::is_convertible_v<const V&, std::string_view>) {
    out.set(key, std::string(std::string_view(value)));
  } else if constexpr (is_optional<V>::value) {
    if (value)
      add_hparam(out, key, *value);
    else
      out.set(key, std::monostate{});
  } else if constexpr (HanaStruct<V>) {
    boost::hana::for_each(boost::hana::accessors<V>(), [&](auto accessor) {
      const std::string field = boost::hana::to<const char*>(boost::hana::first(accessor));
      add_hparam(out, key.empty() ? field : key + "/" + field, boost::hana::second(accessor)(value));
    });
  } else if constexpr (fmt::is_formattable<V>::value) {
    out.set(key, fmt::format("{}", value));
  } else {
    static_assert(unsupported_hparam_type<V>::value,
                  "volt: log_hyperparams: this hyperparameter's type cannot be logged. Use bool, an integer, a "
                  "floating-point number, an enum, a string, std::filesystem::path, std::optional of those, a "
                  "BOOST_HANA_DEFINE_STRUCT struct, or a type fmt can format.");
  }
}

}  // namespace detail

// Hyperparameters -> HParamDict. Maps keep their iteration order (sorted for std::map); Hana
// structs keep field order.
template <class HParams>
HParamDict to_hparams(const HParams& params) {
  using P = std::remove_cvref_t<HParams>;
  if constexpr (std::is_same_v<P, HParamDict>) {
    return params;
  } else if constexpr (HParamMap<P>) {
    HParamDict out;
    for (const auto& [k, v] : params) detail::add_hparam(out, std::string(std::string_view(k)), v);
    return out;
  } else if constexpr (HanaStruct<P>) {
    HParamDict out;
    detail::add_hparam(out, std::string{}, params);
    return out;
  } else {
    static_assert(detail::unsupported_hparam_type<P>::value,
                  "volt: log_hyperparams takes a std::map<std::string, V> (V: string, number, bool, ...) or a "
                  "struct reflected with BOOST_HANA_DEFINE_STRUCT.");
    return {};
  }
}

}  // namespace volt::loggers
