#pragma once
// Hyperparameters as loggers, checkpoints and the CLI see them (reflect/: shared by all three,
// so none reaches into another): an insertion-ordered dict of name -> None / bool / int /
// float / str, the value types Lightning's loggers write. `to_hparams` builds one from a
// std::map (or any map-like type) or from a struct reflected with BOOST_HANA_DEFINE_STRUCT (or
// BOOST_HANA_ADAPT_STRUCT, which keeps default member initializers: `double lr = 1e-3;`), so a
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

#include <stdexcept>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <fmt/format.h>
#include <nlohmann/json_fwd.hpp>

#include <volt/detail/meta.hpp>
#include <volt/detail/config.hpp>

namespace volt::reflect {

// std::monostate is Python's None.
using HParamValue = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

// Python dict semantics: setting an existing key keeps its position and replaces the value.
class HParamDict {
 public:
  using value_type = std::pair<std::string, HParamValue>;

  VOLT_INLINE void set(std::string key, HParamValue value);
  VOLT_INLINE void update(const HParamDict& other);
  VOLT_INLINE const HParamValue* find(std::string_view key) const;
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

template <class T>
inline constexpr bool is_optional_v = ::volt::detail::is_specialization_of_v<T, std::optional>;

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
  } else if constexpr (is_optional_v<V>) {
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
                  "struct reflected with BOOST_HANA_DEFINE_STRUCT (or, for a struct with default member initializers, "
                  "BOOST_HANA_ADAPT_STRUCT(Type, field...) at global scope).");
    return {};
  }
}

// ---- The way back: a stored HParamDict -> the module's hyper-parameter type -------------------
// load_from_checkpoint rebuilds a module from the hyper-parameters its checkpoint holds, the way
// Lightning's load_from_checkpoint calls __init__(**hparams). Every field is read by the name
// to_hparams wrote it under; a missing name or a value of another kind throws
// std::invalid_argument naming the field.

namespace detail {

VOLT_INLINE const char* hparam_kind(const HParamValue& v);

// The errors of the way back, the same for every field type: built once, not in each template.
VOLT_INLINE std::invalid_argument hparam_mismatch(const HParamValue& v, const std::string& key, const char* wanted);
// The value stored under `key`; std::invalid_argument when there is none.
VOLT_INLINE const HParamValue& stored_hparam(const HParamDict& in, const std::string& key);

template <class V>
void read_hparam_value(const HParamValue& v, const std::string& key, V& out) {
  const auto mismatch = [&](const char* wanted) { return hparam_mismatch(v, key, wanted); };
  if constexpr (std::is_same_v<V, HParamValue>) {
    out = v;
  } else if constexpr (std::is_same_v<V, bool>) {
    if (!std::holds_alternative<bool>(v)) throw mismatch("a bool");
    out = std::get<bool>(v);
  } else if constexpr (std::is_integral_v<V> || std::is_enum_v<V>) {
    if (!std::holds_alternative<std::int64_t>(v)) throw mismatch("an integer");
    out = static_cast<V>(std::get<std::int64_t>(v));
  } else if constexpr (std::is_floating_point_v<V>) {
    // Python writes 2.0 as a float but a user may have stored 2: both read as a number.
    if (const auto* i = std::get_if<std::int64_t>(&v)) out = static_cast<V>(*i);
    else if (const auto* d = std::get_if<double>(&v)) out = static_cast<V>(*d);
    else throw mismatch("a floating-point number");
  } else if constexpr (std::is_same_v<V, std::string> || std::is_same_v<V, std::filesystem::path>) {
    if (!std::holds_alternative<std::string>(v)) throw mismatch("a string");
    out = V(std::get<std::string>(v));
  } else if constexpr (is_optional_v<V>) {
    if (std::holds_alternative<std::monostate>(v)) {
      out.reset();
    } else {
      typename V::value_type inner{};
      read_hparam_value(v, key, inner);
      out = std::move(inner);
    }
  } else {
    static_assert(unsupported_hparam_type<V>::value,
                  "volt: load_from_checkpoint / read_hparams: this hyperparameter field's type cannot be read back "
                  "from a checkpoint. Use bool, an integer, a floating-point number, an enum, std::string, "
                  "std::filesystem::path, std::optional of those, or a nested BOOST_HANA_DEFINE_STRUCT struct.");
  }
}

template <class T>
void read_hparam(const HParamDict& in, const std::string& key, T& out) {
  if constexpr (HanaStruct<T>) {
    boost::hana::for_each(boost::hana::accessors<T>(), [&](auto accessor) {
      const std::string field = boost::hana::to<const char*>(boost::hana::first(accessor));
      read_hparam(in, key.empty() ? field : key + "/" + field, boost::hana::second(accessor)(out));
    });
  } else {
    read_hparam_value(stored_hparam(in, key), key, out);
  }
}

}  // namespace detail

// HParamDict -> HParams: a Hana struct field by field, or a map with every entry.
template <class HParams>
HParams from_hparams(const HParamDict& dict) {
  if constexpr (std::is_same_v<HParams, HParamDict>) {
    return dict;
  } else if constexpr (HanaStruct<HParams>) {
    HParams out{};
    detail::read_hparam(dict, std::string{}, out);
    return out;
  } else if constexpr (HParamMap<HParams>) {
    HParams out;
    for (const auto& [k, v] : dict) {
      typename HParams::mapped_type value{};
      detail::read_hparam_value(v, k, value);
      out.emplace(k, std::move(value));
    }
    return out;
  } else {
    static_assert(detail::unsupported_hparam_type<HParams>::value,
                  "volt: read_hparams reads into a std::map<std::string, V> or a struct reflected with "
                  "BOOST_HANA_DEFINE_STRUCT.");
    return {};
  }
}

// JSON form, as checkpoints store it: [[name, value], ...] in the dict's order (a JSON object
// would lose it), with None as null.
VOLT_INLINE nlohmann::json hparams_to_json(const HParamDict& dict);

// Throws std::invalid_argument when `j` is not what hparams_to_json writes.
VOLT_INLINE HParamDict hparams_from_json(const nlohmann::json& j);

}  // namespace volt::reflect

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/reflect/impl/hparams.ipp>
#endif
