#pragma once
// How the CLI reads and writes one option's value. Every value arrives as a YAML node: a config
// file's, or a command-line / environment value parsed as YAML the way jsonargparse does
// (`--trainer.max_epochs 3` is the int 3, `--trainer.max_epochs null` is None). A string or path
// field takes the command-line text as it is. Values are written back in PyYAML's spelling
// (`1.0e-05`, `null`, `true`), so a printed config reads back to the same values.
//
// Field types: bool, integers (range-checked), floating point, std::string,
// std::filesystem::path, enums with cli::enum_names, std::optional of those, volt::BatchCount
// (an int is a number of batches, a float a fraction), volt::FastDevRun (bool or int),
// std::chrono::duration (seconds, or Lightning's "DD:HH:MM:SS"), nested BOOST_HANA structs, and
// std::variant of Hana structs that each name themselves (`static constexpr std::string_view
// cli_name = "Adam";`, written as LightningCLI's class_path / init_args). Any other field type is
// a compile error naming the struct and the field (cli/config.hpp).
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/hana/concept/struct.hpp>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <volt/callbacks/mode.hpp>
#include <volt/callbacks/timer.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/reflect/python_format.hpp>

namespace volt::cli {

// Every CLI error: the message names the key, where the value came from (file and line, the
// environment variable, or the flag) and what would be valid.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where a value came from, for messages: "c.yaml:4", "environment variable VOLT_TRAINER__MAX_EPOCHS",
// "command line".
struct Source {
  std::string where = "command line";
  static Source file(const std::string& path, const YAML::Node& node) {
    const auto mark = node.Mark();
    return {mark.line >= 0 ? fmt::format("{}:{}", path, mark.line + 1) : path};
  }
};

// The names an enum's values have on the command line and in config files. Specialize it for an
// enum used in an options struct: `static constexpr std::array values{std::pair{"min", Mode::min}, ...}`.
template <class E>
struct enum_names;

template <>
struct enum_names<Mode> {
  static constexpr std::array values{std::pair<std::string_view, Mode>{"min", Mode::min},
                                     std::pair<std::string_view, Mode>{"max", Mode::max}};
};
template <>
struct enum_names<GradClipAlgorithm> {
  static constexpr std::array values{std::pair<std::string_view, GradClipAlgorithm>{"norm", GradClipAlgorithm::norm},
                                     std::pair<std::string_view, GradClipAlgorithm>{"value", GradClipAlgorithm::value}};
};

// Lightning's seed_everything: true (a random seed, chosen when the run starts), false (no
// seeding) or a seed.
struct SeedEverything {
  std::variant<bool, std::int64_t> value = true;
  SeedEverything() = default;
  SeedEverything(bool on) : value(on) {}                  // NOLINT: implicit, as the YAML value
  SeedEverything(std::int64_t seed) : value(seed) {}      // NOLINT
  SeedEverything(int seed) : value(std::int64_t{seed}) {}  // NOLINT
  bool operator==(const SeedEverything&) const = default;
};

namespace detail {

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_variant : std::false_type {};
template <class... T> struct is_variant<std::variant<T...>> : std::true_type {};
template <class T> struct is_duration : std::false_type {};
template <class R, class P> struct is_duration<std::chrono::duration<R, P>> : std::true_type {};

template <class T>
concept HanaStruct = boost::hana::Struct<T>::value;

template <class T>
concept NamedEnum = std::is_enum_v<T> && requires { enum_names<T>::values; };

template <class T>
concept NamedAlternative = HanaStruct<T> && requires {
  { T::cli_name } -> std::convertible_to<std::string_view>;
};

template <class T>
struct alternatives_named : std::false_type {};
template <class... A>
struct alternatives_named<std::variant<A...>> : std::bool_constant<(NamedAlternative<A> && ...)> {};

// A leaf: one scalar value on the command line.
template <class T>
constexpr bool is_scalar_field() {
  if constexpr (is_optional<T>::value) return is_scalar_field<typename T::value_type>();
  else
    return std::is_same_v<T, bool> || std::is_integral_v<T> || std::is_floating_point_v<T> ||
           std::is_same_v<T, std::string> || std::is_same_v<T, std::filesystem::path> || NamedEnum<T> ||
           std::is_same_v<T, BatchCount> || std::is_same_v<T, FastDevRun> || std::is_same_v<T, SeedEverything> ||
           is_duration<T>::value;
}

// Whether the CLI can hold a field of type T (structs are checked field by field in config.hpp).
template <class T>
constexpr bool is_supported_field() {
  if constexpr (is_optional<T>::value) return is_scalar_field<typename T::value_type>();
  else if constexpr (is_variant<T>::value) return alternatives_named<T>::value;
  else return is_scalar_field<T>() || HanaStruct<T>;
}

// The text a string-like field takes from the command line as it is, without YAML parsing.
template <class T>
constexpr bool takes_raw_text() {
  if constexpr (is_optional<T>::value) return takes_raw_text<typename T::value_type>();
  else return std::is_same_v<T, std::string> || std::is_same_v<T, std::filesystem::path>;
}

// ---- YAML 1.1 plain scalars, as PyYAML resolves them -----------------------------------------

inline bool is_quoted(const YAML::Node& n) { return n.Tag() == "!"; }

inline bool plain_is_null(const YAML::Node& n) {
  if (n.IsNull()) return true;
  if (!n.IsScalar() || is_quoted(n)) return false;
  const auto& s = n.Scalar();
  return s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty();
}

inline std::optional<bool> plain_bool(const YAML::Node& n) {
  if (!n.IsScalar() || is_quoted(n)) return std::nullopt;
  const auto& s = n.Scalar();
  for (std::string_view t : {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
    if (s == t) return true;
  for (std::string_view f : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
    if (s == f) return false;
  return std::nullopt;
}

enum class NumberKind { none, integer, floating, integer_out_of_range };

struct Number {
  NumberKind kind = NumberKind::none;
  std::int64_t i = 0;
  double d = 0.0;
};

inline Number plain_number(const YAML::Node& n) {
  if (!n.IsScalar() || is_quoted(n)) return {};
  std::string s = n.Scalar();
  std::erase(s, '_');  // YAML 1.1 allows 1_000
  if (s.empty()) return {};
  const char* first = s.data() + (s[0] == '+' ? 1 : 0);
  const char* last = s.data() + s.size();
  std::int64_t i = 0;
  const auto [end, ec] = std::from_chars(first, last, i);
  if (end == last && ec == std::errc{}) return {NumberKind::integer, i, static_cast<double>(i)};
  if (end == last && ec == std::errc::result_out_of_range) return {NumberKind::integer_out_of_range};
  std::string_view body(s);
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF")
    return {NumberKind::floating, 0, negative ? -std::numeric_limits<double>::infinity()
                                              : std::numeric_limits<double>::infinity()};
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return {NumberKind::floating, 0, std::nan("")};
  // A float needs a digit; strtod alone would also take "inf", "nan" and hex.
  if (body.empty() || body.find_first_not_of("0123456789.eE+-") != std::string_view::npos ||
      body.find_first_of("0123456789") == std::string_view::npos)
    return {};
  double d = 0.0;
  const auto [fend, fec] = std::from_chars(first, last, d);
  if (fend != last || (fec != std::errc{} && fec != std::errc::result_out_of_range)) return {};
  if (fec == std::errc::result_out_of_range) return {NumberKind::integer_out_of_range};
  return {NumberKind::floating, 0, d};
}

inline std::string shown(const YAML::Node& n) {
  if (n.IsScalar()) return fmt::format("\"{}\"", n.Scalar());
  if (n.IsNull()) return "null";
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

inline Error wrong_type(const std::string& key, const Source& src, const YAML::Node& n, std::string_view wanted) {
  return Error(fmt::format("volt: cli: {}: key \"{}\": expected {}, got {}.", src.where, key, wanted, shown(n)));
}

inline Error out_of_range(const std::string& key, const Source& src, const YAML::Node& n, std::string_view range) {
  return Error(fmt::format("volt: cli: {}: key \"{}\": {} is out of range; {}.", src.where, key, shown(n), range));
}

// ---- PyYAML's spelling of a string scalar (plain when it reads back as the same string) --------

inline bool plain_resolves_to_other(const std::string& s) {
  YAML::Node n(s);  // an unquoted scalar
  return plain_is_null(n) || plain_bool(n) || plain_number(n).kind != NumberKind::none;
}

inline std::string yaml_string(const std::string& s) {
  bool plain = !s.empty() && s.front() != ' ' && s.back() != ' ' && !plain_resolves_to_other(s) &&
               std::string_view("-?:,[]{}#&*!|>'\"%@`").find(s.front()) == std::string_view::npos &&
               s.find(": ") == std::string::npos && s.find(" #") == std::string::npos && s.back() != ':';
  bool printable = true;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || u >= 0x80) printable = false;
  }
  if (plain && printable) return s;
  if (printable) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  std::string out = "\"";  // bytes outside printable ASCII as escapes (PyYAML's allow_unicode=False)
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') out += fmt::format("\\{}", c);
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (u < 0x20 || u >= 0x7F) out += fmt::format("\\x{:02X}", u);
    else out += c;
  }
  return out + "\"";
}

// Lightning's "DD:HH:MM:SS" for whole seconds, else the seconds as a float.
inline std::string duration_text(double seconds) {
  if (seconds >= 0 && std::floor(seconds) == seconds && seconds < 1e15) {
    auto s = static_cast<std::int64_t>(seconds);
    return fmt::format("'{:02}:{:02}:{:02}:{:02}'", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
  }
  return reflect::yaml_float(seconds);
}

// Lightning's "DD:HH:MM:SS", read by Timer's own parser (nullopt: not that shape).
inline std::optional<double> parse_dd_hh_mm_ss(const std::string& text) {
  try {
    return Timer::parse_duration(text).count();
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

}  // namespace detail

// ---- reading one scalar field ------------------------------------------------------------------

template <class T>
void read_scalar(const YAML::Node& n, T& out, const std::string& key, const Source& src) {
  using detail::NumberKind;
  if constexpr (detail::is_optional<T>::value) {
    if (detail::plain_is_null(n)) {
      out.reset();
    } else {
      typename T::value_type inner = out ? *out : typename T::value_type{};
      read_scalar(n, inner, key, src);
      out = std::move(inner);
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    const auto b = detail::plain_bool(n);
    if (!b) throw detail::wrong_type(key, src, n, "a bool (true or false)");
    out = *b;
  } else if constexpr (std::is_integral_v<T>) {
    const auto num = detail::plain_number(n);
    constexpr auto lo = std::numeric_limits<T>::min();
    constexpr auto hi = std::numeric_limits<T>::max();
    const auto range = fmt::format("use an integer in [{}, {}]", lo, hi);
    if (num.kind == NumberKind::integer_out_of_range) throw detail::out_of_range(key, src, n, range);
    if (num.kind != NumberKind::integer) throw detail::wrong_type(key, src, n, "an integer");
    if constexpr (std::is_unsigned_v<T>) {
      if (num.i < 0 || static_cast<std::uint64_t>(num.i) > hi) throw detail::out_of_range(key, src, n, range);
    } else {
      if (num.i < static_cast<std::int64_t>(lo) || num.i > static_cast<std::int64_t>(hi))
        throw detail::out_of_range(key, src, n, range);
    }
    out = static_cast<T>(num.i);
  } else if constexpr (std::is_floating_point_v<T>) {
    const auto num = detail::plain_number(n);
    if (num.kind == NumberKind::integer_out_of_range)
      throw detail::out_of_range(key, src, n, "use a finite floating-point number, .inf or .nan");
    if (num.kind == NumberKind::none) throw detail::wrong_type(key, src, n, "a floating-point number");
    if (static_cast<double>(num.d) > static_cast<double>(std::numeric_limits<T>::max()) && std::isfinite(num.d))
      throw detail::out_of_range(key, src, n, "the number does not fit the field's type");
    out = static_cast<T>(num.d);
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::filesystem::path>) {
    if (!n.IsScalar()) throw detail::wrong_type(key, src, n, "a string");
    out = T(n.Scalar());
  } else if constexpr (detail::NamedEnum<T>) {
    std::string names;
    for (const auto& [name, value] : enum_names<T>::values) {
      if (n.IsScalar() && n.Scalar() == name) {
        out = value;
        return;
      }
      names += fmt::format("{}{}", names.empty() ? "" : ", ", name);
    }
    throw detail::wrong_type(key, src, n, fmt::format("one of {}", names));
  } else if constexpr (std::is_same_v<T, BatchCount>) {
    const auto num = detail::plain_number(n);
    if (num.kind == NumberKind::integer_out_of_range)
      throw detail::out_of_range(key, src, n, "use a number of batches or a fraction in [0.0, 1.0]");
    if (num.kind == NumberKind::none)
      throw detail::wrong_type(key, src, n, "an int (a number of batches) or a float (a fraction)");
    out = num.kind == NumberKind::integer ? BatchCount(num.i) : BatchCount(num.d);
  } else if constexpr (std::is_same_v<T, FastDevRun>) {
    if (const auto b = detail::plain_bool(n)) {
      out = *b;
      return;
    }
    const auto num = detail::plain_number(n);
    if (num.kind != NumberKind::integer) throw detail::wrong_type(key, src, n, "a bool or a number of batches");
    out = num.i;
  } else if constexpr (std::is_same_v<T, SeedEverything>) {
    if (const auto b = detail::plain_bool(n)) {
      out = *b;
      return;
    }
    const auto num = detail::plain_number(n);
    if (num.kind == NumberKind::integer_out_of_range) throw detail::out_of_range(key, src, n, "use a 64-bit seed");
    if (num.kind != NumberKind::integer) throw detail::wrong_type(key, src, n, "true, false or an integer seed");
    out = num.i;
  } else if constexpr (detail::is_duration<T>::value) {
    const auto num = detail::plain_number(n);
    double seconds = 0.0;
    if (num.kind == NumberKind::integer || num.kind == NumberKind::floating) {
      seconds = num.d;
    } else if (const auto parsed = n.IsScalar() ? detail::parse_dd_hh_mm_ss(n.Scalar()) : std::nullopt) {
      seconds = *parsed;
    } else {
      throw detail::wrong_type(key, src, n, "a duration: seconds, or \"DD:HH:MM:SS\"");
    }
    out = std::chrono::duration_cast<T>(std::chrono::duration<double>(seconds));
  }
}

// ---- writing one scalar field ------------------------------------------------------------------

template <class T>
std::string scalar_text(const T& v) {
  if constexpr (detail::is_optional<T>::value) {
    return v ? scalar_text(*v) : std::string("null");
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_integral_v<T>) {
    return fmt::format("{}", v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return reflect::yaml_float(static_cast<double>(v));
  } else if constexpr (std::is_same_v<T, std::string>) {
    return detail::yaml_string(v);
  } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
    return detail::yaml_string(v.string());
  } else if constexpr (detail::NamedEnum<T>) {
    for (const auto& [name, value] : enum_names<T>::values)
      if (value == v) return std::string(name);
    return "null";
  } else if constexpr (std::is_same_v<T, BatchCount>) {
    return v.is_fraction() ? reflect::yaml_float(v.fraction()) : fmt::format("{}", v.count());
  } else if constexpr (std::is_same_v<T, FastDevRun>) {
    return v.batches() == 0 ? "false" : v.batches() == 1 ? "true" : fmt::format("{}", v.batches());
  } else if constexpr (std::is_same_v<T, SeedEverything>) {
    if (const bool* b = std::get_if<bool>(&v.value)) return *b ? "true" : "false";
    return fmt::format("{}", std::get<std::int64_t>(v.value));
  } else if constexpr (detail::is_duration<T>::value) {
    return detail::duration_text(std::chrono::duration<double>(v).count());
  }
}

// What --help shows as a field's type.
template <class T>
std::string type_name() {
  if constexpr (detail::is_optional<T>::value) return fmt::format("{} | null", type_name<typename T::value_type>());
  else if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_integral_v<T>) return "int";
  else if constexpr (std::is_floating_point_v<T>) return "float";
  else if constexpr (std::is_same_v<T, std::string>) return "str";
  else if constexpr (std::is_same_v<T, std::filesystem::path>) return "path";
  else if constexpr (detail::NamedEnum<T>) {
    std::string names;
    for (const auto& [name, value] : enum_names<T>::values) names += fmt::format("{}{}", names.empty() ? "" : "|", name);
    return names;
  } else if constexpr (std::is_same_v<T, BatchCount>) return "int | float";
  else if constexpr (std::is_same_v<T, FastDevRun>) return "bool | int";
  else if constexpr (std::is_same_v<T, SeedEverything>) return "bool | int";
  else if constexpr (detail::is_duration<T>::value) return "seconds | DD:HH:MM:SS";
  else return "";
}

}  // namespace volt::cli
