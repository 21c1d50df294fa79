#pragma once
// Definitions of <volt/cli/value.hpp>: included by the header in header-only mode, compiled once
// under VOLT_SEPARATE_COMPILATION (include/volt/impl/src_cli.hpp, volt::compiled's second TU).
#include <volt/cli/value.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <volt/callbacks/timer.hpp>
#include <volt/reflect/python_format.hpp>

namespace volt::cli {

VOLT_INLINE Source Source::file(const std::string& path, const YAML::Node& node) {
  const auto mark = node.Mark();
  return {mark.line >= 0 ? fmt::format("{}:{}", path, mark.line + 1) : path};
}

namespace detail {

// ---- YAML nodes where yaml-cpp is only declared ------------------------------------------------

VOLT_INLINE OwnedNode::OwnedNode() : node_(std::make_unique<YAML::Node>()) {}
VOLT_INLINE OwnedNode::OwnedNode(const YAML::Node& node) : node_(std::make_unique<YAML::Node>(node)) {}
VOLT_INLINE OwnedNode::OwnedNode(OwnedNode&& other) noexcept = default;
VOLT_INLINE OwnedNode& OwnedNode::operator=(OwnedNode&& other) noexcept = default;
VOLT_INLINE OwnedNode::~OwnedNode() = default;

VOLT_INLINE bool is_null(const YAML::Node& n) { return n.IsNull(); }
VOLT_INLINE bool is_map(const YAML::Node& n) { return n.IsMap(); }
VOLT_INLINE bool is_scalar(const YAML::Node& n) { return n.IsScalar(); }
VOLT_INLINE std::string scalar(const YAML::Node& n) { return n.Scalar(); }

VOLT_INLINE std::vector<MapEntry> map_entries(const YAML::Node& n) {
  std::vector<MapEntry> out;
  for (auto it = n.begin(); it != n.end(); ++it)
    out.push_back({it->first.Scalar(), OwnedNode(it->first), OwnedNode(it->second)});
  return out;
}

VOLT_INLINE std::optional<OwnedNode> child(const YAML::Node& n, const char* name) {
  const YAML::Node found = n[name];
  if (!found) return std::nullopt;
  return OwnedNode(found);
}

VOLT_INLINE OwnedNode value_node(const std::string& text, bool raw, const std::string& key, const Source& src) {
  if (raw) return text == "null" ? OwnedNode() : OwnedNode(YAML::Node(text));
  try {
    return OwnedNode(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("volt: cli: {}: key \"{}\": \"{}\" is not a valid value: {}.", src.where, key, text, e.msg));
  }
}

VOLT_INLINE OwnedNode load_config_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw Error(fmt::format("volt: cli: --config {}: the file cannot be read.", file));
  try {
    return OwnedNode(YAML::Load(in));
  } catch (const YAML::ParserException& e) {
    throw Error(fmt::format("volt: cli: {}:{}: not valid YAML or JSON: {}.", file, e.mark.line + 1, e.msg));
  }
}

// ---- YAML 1.1 plain scalars, as PyYAML resolves them -----------------------------------------

VOLT_INLINE bool is_quoted(const YAML::Node& n) { return n.Tag() == "!"; }

VOLT_INLINE bool plain_is_null(const YAML::Node& n) {
  if (n.IsNull()) return true;
  if (!n.IsScalar() || is_quoted(n)) return false;
  const auto& s = n.Scalar();
  return s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty();
}

VOLT_INLINE std::optional<bool> plain_bool(const YAML::Node& n) {
  if (!n.IsScalar() || is_quoted(n)) return std::nullopt;
  const auto& s = n.Scalar();
  for (std::string_view t : {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
    if (s == t) return true;
  for (std::string_view f : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
    if (s == f) return false;
  return std::nullopt;
}

VOLT_INLINE Number plain_number(const YAML::Node& n) {
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

VOLT_INLINE std::string shown(const YAML::Node& n) {
  if (n.IsScalar()) return fmt::format("\"{}\"", n.Scalar());
  if (n.IsNull()) return "null";
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

VOLT_INLINE Error wrong_type(const std::string& key, const Source& src, const YAML::Node& n, std::string_view wanted) {
  return Error(fmt::format("volt: cli: {}: key \"{}\": expected {}, got {}.", src.where, key, wanted, shown(n)));
}

VOLT_INLINE Error out_of_range(const std::string& key, const Source& src, const YAML::Node& n, std::string_view range) {
  return Error(fmt::format("volt: cli: {}: key \"{}\": {} is out of range; {}.", src.where, key, shown(n), range));
}

// ---- PyYAML's spelling of a string scalar (plain when it reads back as the same string) --------

VOLT_INLINE bool plain_resolves_to_other(const std::string& s) {
  YAML::Node n(s);  // an unquoted scalar
  return plain_is_null(n) || plain_bool(n) || plain_number(n).kind != NumberKind::none;
}

VOLT_INLINE std::string yaml_string(const std::string& s) {
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

VOLT_INLINE std::string duration_text(double seconds) {
  if (seconds >= 0 && std::floor(seconds) == seconds && seconds < 1e15) {
    auto s = static_cast<std::int64_t>(seconds);
    return fmt::format("'{:02}:{:02}:{:02}:{:02}'", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
  }
  return reflect::yaml_float(seconds);
}

VOLT_INLINE std::optional<double> parse_dd_hh_mm_ss(const std::string& text) {
  try {
    return Timer::parse_duration(text).count();
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

// ---- the leaves --------------------------------------------------------------------------------

VOLT_INLINE bool read_bool(const YAML::Node& n, const std::string& key, const Source& src) {
  const auto b = plain_bool(n);
  if (!b) throw wrong_type(key, src, n, "a bool (true or false)");
  return *b;
}

VOLT_INLINE std::int64_t read_integer(const YAML::Node& n, const std::string& key, const Source& src, std::int64_t lo,
                                      std::uint64_t hi) {
  const auto num = plain_number(n);
  const auto range = fmt::format("use an integer in [{}, {}]", lo, hi);
  if (num.kind == NumberKind::integer_out_of_range) throw out_of_range(key, src, n, range);
  if (num.kind != NumberKind::integer) throw wrong_type(key, src, n, "an integer");
  if (num.i < lo || (num.i > 0 && static_cast<std::uint64_t>(num.i) > hi)) throw out_of_range(key, src, n, range);
  return num.i;
}

VOLT_INLINE double read_floating(const YAML::Node& n, const std::string& key, const Source& src, double max) {
  const auto num = plain_number(n);
  if (num.kind == NumberKind::integer_out_of_range)
    throw out_of_range(key, src, n, "use a finite floating-point number, .inf or .nan");
  if (num.kind == NumberKind::none) throw wrong_type(key, src, n, "a floating-point number");
  if (num.d > max && std::isfinite(num.d)) throw out_of_range(key, src, n, "the number does not fit the field's type");
  return num.d;
}

VOLT_INLINE std::string read_text(const YAML::Node& n, const std::string& key, const Source& src) {
  if (!n.IsScalar()) throw wrong_type(key, src, n, "a string");
  return n.Scalar();
}

VOLT_INLINE std::size_t read_choice(const YAML::Node& n, const std::string& key, const Source& src,
                                    std::span<const std::string_view> names) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (n.IsScalar() && n.Scalar() == names[i]) return i;
  throw wrong_type(key, src, n, fmt::format("one of {}", join_names(names, ", ")));
}

VOLT_INLINE BatchCount read_batch_count(const YAML::Node& n, const std::string& key, const Source& src) {
  const auto num = plain_number(n);
  if (num.kind == NumberKind::integer_out_of_range)
    throw out_of_range(key, src, n, "use a number of batches or a fraction in [0.0, 1.0]");
  if (num.kind == NumberKind::none)
    throw wrong_type(key, src, n, "an int (a number of batches) or a float (a fraction)");
  return num.kind == NumberKind::integer ? BatchCount(num.i) : BatchCount(num.d);
}

VOLT_INLINE FastDevRun read_fast_dev_run(const YAML::Node& n, const std::string& key, const Source& src) {
  if (const auto b = plain_bool(n)) return *b;
  const auto num = plain_number(n);
  if (num.kind != NumberKind::integer) throw wrong_type(key, src, n, "a bool or a number of batches");
  return num.i;
}

VOLT_INLINE SeedEverything read_seed(const YAML::Node& n, const std::string& key, const Source& src) {
  if (const auto b = plain_bool(n)) return *b;
  const auto num = plain_number(n);
  if (num.kind == NumberKind::integer_out_of_range) throw out_of_range(key, src, n, "use a 64-bit seed");
  if (num.kind != NumberKind::integer) throw wrong_type(key, src, n, "true, false or an integer seed");
  return num.i;
}

VOLT_INLINE double read_seconds(const YAML::Node& n, const std::string& key, const Source& src) {
  const auto num = plain_number(n);
  if (num.kind == NumberKind::integer || num.kind == NumberKind::floating) return num.d;
  if (const auto parsed = n.IsScalar() ? parse_dd_hh_mm_ss(n.Scalar()) : std::nullopt) return *parsed;
  throw wrong_type(key, src, n, "a duration: seconds, or \"DD:HH:MM:SS\"");
}

VOLT_INLINE std::string integer_text(std::int64_t v) { return fmt::format("{}", v); }
VOLT_INLINE std::string unsigned_text(std::uint64_t v) { return fmt::format("{}", v); }
VOLT_INLINE std::string floating_text(double v) { return reflect::yaml_float(v); }

VOLT_INLINE std::string batch_count_text(const BatchCount& v) {
  return v.is_fraction() ? reflect::yaml_float(v.fraction()) : fmt::format("{}", v.count());
}

VOLT_INLINE std::string fast_dev_run_text(const FastDevRun& v) {
  return v.batches() == 0 ? "false" : v.batches() == 1 ? "true" : fmt::format("{}", v.batches());
}

VOLT_INLINE std::string seed_text(const SeedEverything& v) {
  if (const bool* b = std::get_if<bool>(&v.value)) return *b ? "true" : "false";
  return fmt::format("{}", std::get<std::int64_t>(v.value));
}

VOLT_INLINE std::string join_names(std::span<const std::string_view> names, std::string_view separator) {
  std::string out;
  for (const auto name : names) out += fmt::format("{}{}", out.empty() ? "" : separator, name);
  return out;
}

}  // namespace detail

}  // namespace volt::cli
