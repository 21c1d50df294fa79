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
//
// The leaves (reading a YAML scalar into a bool, an integer, a float, a string, an enum's name;
// the error messages; writing a value back) do not depend on the user's structs: they are
// non-template functions, defined in cli/impl/value.ipp (compiled once in the separately compiled
// mode), and the templates here only pick one and convert. The templates never touch a
// YAML::Node's members, so this header needs only yaml-cpp's forward declaration (yaml-cpp's own
// headers declare `namespace YAML { class Node; }` the same way).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/hana/concept/struct.hpp>

#include <volt/callbacks/mode.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/detail/config.hpp>

namespace YAML {
class Node;
}  // namespace YAML

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
  VOLT_INLINE static Source file(const std::string& path, const YAML::Node& node);
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

// ---- YAML nodes where yaml-cpp is only declared ------------------------------------------------

// A YAML node owned by value (yaml-cpp's Node is incomplete here).
class OwnedNode {
 public:
  VOLT_INLINE OwnedNode();  // a null node
  VOLT_INLINE explicit OwnedNode(const YAML::Node& node);
  VOLT_INLINE OwnedNode(OwnedNode&& other) noexcept;
  VOLT_INLINE OwnedNode& operator=(OwnedNode&& other) noexcept;
  VOLT_INLINE ~OwnedNode();
  const YAML::Node& operator*() const noexcept { return *node_; }

 private:
  std::unique_ptr<YAML::Node> node_;
};

// One `key: value` of a mapping, in the file's order.
struct MapEntry {
  std::string name;
  OwnedNode key;
  OwnedNode value;
};

VOLT_INLINE bool is_null(const YAML::Node& n);
VOLT_INLINE bool is_map(const YAML::Node& n);
VOLT_INLINE bool is_scalar(const YAML::Node& n);
VOLT_INLINE std::string scalar(const YAML::Node& n);
VOLT_INLINE std::vector<MapEntry> map_entries(const YAML::Node& n);
// n[name], or nullopt when the mapping has no such key.
VOLT_INLINE std::optional<OwnedNode> child(const YAML::Node& n, const char* name);
// A command-line or environment value as a node: parsed as YAML, or (`raw`, for a string or path
// field) the text as it is, "null" being null. A text that is not YAML throws cli::Error.
VOLT_INLINE OwnedNode value_node(const std::string& text, bool raw, const std::string& key, const Source& src);
// A --config file, parsed; cli::Error when it cannot be read or is not YAML / JSON.
VOLT_INLINE OwnedNode load_config_file(const std::string& file);

// ---- YAML 1.1 plain scalars, as PyYAML resolves them -----------------------------------------

VOLT_INLINE bool is_quoted(const YAML::Node& n);
VOLT_INLINE bool plain_is_null(const YAML::Node& n);
VOLT_INLINE std::optional<bool> plain_bool(const YAML::Node& n);

enum class NumberKind { none, integer, floating, integer_out_of_range };

struct Number {
  NumberKind kind = NumberKind::none;
  std::int64_t i = 0;
  double d = 0.0;
};

VOLT_INLINE Number plain_number(const YAML::Node& n);
// A value as a message shows it: "\"abc\"", null, or the node in flow style.
VOLT_INLINE std::string shown(const YAML::Node& n);
VOLT_INLINE Error wrong_type(const std::string& key, const Source& src, const YAML::Node& n, std::string_view wanted);
VOLT_INLINE Error out_of_range(const std::string& key, const Source& src, const YAML::Node& n, std::string_view range);

// ---- PyYAML's spelling of a string scalar (plain when it reads back as the same string) --------

VOLT_INLINE bool plain_resolves_to_other(const std::string& s);
VOLT_INLINE std::string yaml_string(const std::string& s);
// Lightning's "DD:HH:MM:SS" for whole seconds, else the seconds as a float.
VOLT_INLINE std::string duration_text(double seconds);
// Lightning's "DD:HH:MM:SS", read by Timer's own parser (nullopt: not that shape).
VOLT_INLINE std::optional<double> parse_dd_hh_mm_ss(const std::string& text);

// ---- the leaves, one function per kind of value (each throws cli::Error naming key and source) ----

VOLT_INLINE bool read_bool(const YAML::Node& n, const std::string& key, const Source& src);
// An integer in [lo, hi].
VOLT_INLINE std::int64_t read_integer(const YAML::Node& n, const std::string& key, const Source& src, std::int64_t lo,
                                      std::uint64_t hi);
// A float whose finite value is at most `max` (the field type's largest).
VOLT_INLINE double read_floating(const YAML::Node& n, const std::string& key, const Source& src, double max);
VOLT_INLINE std::string read_text(const YAML::Node& n, const std::string& key, const Source& src);
// The index of the scalar's value among an enum's `names`.
VOLT_INLINE std::size_t read_choice(const YAML::Node& n, const std::string& key, const Source& src,
                                    std::span<const std::string_view> names);
VOLT_INLINE BatchCount read_batch_count(const YAML::Node& n, const std::string& key, const Source& src);
VOLT_INLINE FastDevRun read_fast_dev_run(const YAML::Node& n, const std::string& key, const Source& src);
VOLT_INLINE SeedEverything read_seed(const YAML::Node& n, const std::string& key, const Source& src);
// Seconds, or "DD:HH:MM:SS".
VOLT_INLINE double read_seconds(const YAML::Node& n, const std::string& key, const Source& src);

VOLT_INLINE std::string integer_text(std::int64_t v);
VOLT_INLINE std::string unsigned_text(std::uint64_t v);
VOLT_INLINE std::string floating_text(double v);
VOLT_INLINE std::string batch_count_text(const BatchCount& v);
VOLT_INLINE std::string fast_dev_run_text(const FastDevRun& v);
VOLT_INLINE std::string seed_text(const SeedEverything& v);
VOLT_INLINE std::string join_names(std::span<const std::string_view> names, std::string_view separator);

// An enum's names, in enum_names' order.
template <class E>
constexpr auto enum_name_list() {
  constexpr auto& values = enum_names<E>::values;
  std::array<std::string_view, std::size(values)> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = values[i].first;
  return out;
}
template <class E>
inline constexpr auto enum_name_list_v = enum_name_list<E>();

}  // namespace detail

// ---- reading one scalar field ------------------------------------------------------------------

template <class T>
void read_scalar(const YAML::Node& n, T& out, const std::string& key, const Source& src) {
  if constexpr (detail::is_optional<T>::value) {
    if (detail::plain_is_null(n)) {
      out.reset();
    } else {
      typename T::value_type inner = out ? *out : typename T::value_type{};
      read_scalar(n, inner, key, src);
      out = std::move(inner);
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    out = detail::read_bool(n, key, src);
  } else if constexpr (std::is_integral_v<T>) {
    out = static_cast<T>(detail::read_integer(n, key, src, static_cast<std::int64_t>(std::numeric_limits<T>::min()),
                                              static_cast<std::uint64_t>(std::numeric_limits<T>::max())));
  } else if constexpr (std::is_floating_point_v<T>) {
    out = static_cast<T>(detail::read_floating(n, key, src, static_cast<double>(std::numeric_limits<T>::max())));
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::filesystem::path>) {
    out = T(detail::read_text(n, key, src));
  } else if constexpr (detail::NamedEnum<T>) {
    out = enum_names<T>::values[detail::read_choice(n, key, src, detail::enum_name_list_v<T>)].second;
  } else if constexpr (std::is_same_v<T, BatchCount>) {
    out = detail::read_batch_count(n, key, src);
  } else if constexpr (std::is_same_v<T, FastDevRun>) {
    out = detail::read_fast_dev_run(n, key, src);
  } else if constexpr (std::is_same_v<T, SeedEverything>) {
    out = detail::read_seed(n, key, src);
  } else if constexpr (detail::is_duration<T>::value) {
    out = std::chrono::duration_cast<T>(std::chrono::duration<double>(detail::read_seconds(n, key, src)));
  }
}

// ---- writing one scalar field ------------------------------------------------------------------

template <class T>
std::string scalar_text(const T& v) {
  if constexpr (detail::is_optional<T>::value) {
    return v ? scalar_text(*v) : std::string("null");
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    return detail::integer_text(v);
  } else if constexpr (std::is_integral_v<T>) {
    return detail::unsigned_text(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return detail::floating_text(static_cast<double>(v));
  } else if constexpr (std::is_same_v<T, std::string>) {
    return detail::yaml_string(v);
  } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
    return detail::yaml_string(v.string());
  } else if constexpr (detail::NamedEnum<T>) {
    for (const auto& [name, value] : enum_names<T>::values)
      if (value == v) return std::string(name);
    return "null";
  } else if constexpr (std::is_same_v<T, BatchCount>) {
    return detail::batch_count_text(v);
  } else if constexpr (std::is_same_v<T, FastDevRun>) {
    return detail::fast_dev_run_text(v);
  } else if constexpr (std::is_same_v<T, SeedEverything>) {
    return detail::seed_text(v);
  } else if constexpr (detail::is_duration<T>::value) {
    return detail::duration_text(std::chrono::duration<double>(v).count());
  }
}

// What --help shows as a field's type.
template <class T>
std::string type_name() {
  if constexpr (detail::is_optional<T>::value) return type_name<typename T::value_type>() + " | null";
  else if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_integral_v<T>) return "int";
  else if constexpr (std::is_floating_point_v<T>) return "float";
  else if constexpr (std::is_same_v<T, std::string>) return "str";
  else if constexpr (std::is_same_v<T, std::filesystem::path>) return "path";
  else if constexpr (detail::NamedEnum<T>) return detail::join_names(detail::enum_name_list_v<T>, "|");
  else if constexpr (std::is_same_v<T, BatchCount>) return "int | float";
  else if constexpr (std::is_same_v<T, FastDevRun>) return "bool | int";
  else if constexpr (std::is_same_v<T, SeedEverything>) return "bool | int";
  else if constexpr (detail::is_duration<T>::value) return "seconds | DD:HH:MM:SS";
  else return "";
}

}  // namespace volt::cli

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/cli/impl/value.ipp>
#endif
