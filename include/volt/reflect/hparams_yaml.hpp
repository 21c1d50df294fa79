#pragma once
// hparams.yaml as Lightning writes it: `yaml.dump(hparams)` of a flat dict (PyYAML defaults:
// keys sorted, block style, `{}` when empty, ASCII only). Written with fmt instead of a YAML
// library because the file is a list of `key: scalar` lines; the one hard part, choosing how to
// spell a string scalar, is a port of PyYAML's emitter (analyze_scalar, choose_scalar_style,
// write_plain / write_single_quoted / write_double_quoted, and the YAML 1.1 implicit resolvers
// that force quotes on strings like "true", "1e3", "null" or "2024-01-01").
//
// Checked against PyYAML 6.0's yaml.dump on a few thousand generated keys and values (plain,
// quoted, multi-line, long and non-ASCII strings; floats; ints; bools; None).
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include <volt/reflect/hparams.hpp>
#include <volt/reflect/python_format.hpp>
#include <volt/detail/config.hpp>

namespace volt::reflect {

namespace detail::yaml {

// UTF-8 -> code points; a byte that does not start a valid sequence stands for itself (U+0080..U+00FF).
VOLT_INLINE std::u32string decode_utf8(std::string_view s);

inline bool is_break(char32_t c) { return c == U'\n' || c == 0x85 || c == 0x2028 || c == 0x2029; }
VOLT_INLINE bool is_space_or_break(char32_t c);

// PyYAML's YAML 1.1 implicit resolvers (resolver.py), hand-written: std::regex costs every TU
// that includes this header about 80 KB of code and seconds of compile time. Each function
// matches one resolver's pattern against the whole string; the patterns need no backtracking
// (each optional or repeated part is followed by a character it cannot contain), so each is one
// left-to-right scan. tests/reflect/hparams_yaml_test.cpp checks them against the original
// regular expression on a generated corpus.
namespace resolver {

struct Scan {
  std::string_view s;
  std::size_t i = 0;

  bool end() const noexcept { return i == s.size(); }
  bool at(auto pred) const noexcept { return i < s.size() && pred(s[i]); }
  bool eat(char c) noexcept { return i < s.size() && s[i] == c ? (++i, true) : false; }
  VOLT_INLINE bool eat_any(std::string_view set) noexcept;
  bool eat_if(auto pred) noexcept { return at(pred) ? (++i, true) : false; }
  std::size_t eat_all(auto pred) noexcept {
    const std::size_t from = i;
    while (at(pred)) ++i;
    return i - from;
  }
  void sign() noexcept { eat_any("+-"); }
};

constexpr bool digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool digit_(char c) noexcept { return digit(c) || c == '_'; }
constexpr bool nonzero_digit(char c) noexcept { return c >= '1' && c <= '9'; }

// (?:[eE][-+][0-9]+)?$
VOLT_INLINE bool exponent_then_end(Scan& p);

// (?::[0-5]?[0-9])+  (one or two digits after each colon; two only when the first is 0-5)
VOLT_INLINE bool sexagesimal_groups(Scan& p);

VOLT_INLINE bool is_bool(std::string_view s);

VOLT_INLINE bool is_float(std::string_view s);

VOLT_INLINE bool is_int(std::string_view s);

// <<  ~  null|Null|NULL  =
VOLT_INLINE bool is_merge_null_or_value(std::string_view s);

VOLT_INLINE bool is_timestamp(std::string_view s);

}  // namespace resolver

// Would PyYAML's resolver read this plain scalar as something other than a str?
VOLT_INLINE bool resolves_to_non_string(std::string_view s);

struct Analysis {
  bool empty = false, multiline = false, allow_block_plain = true, allow_single_quoted = true;
};

// PyYAML emitter.analyze_scalar, for block context with allow_unicode=False.
VOLT_INLINE Analysis analyze(const std::u32string& s);

VOLT_INLINE void append_utf8(std::string& out, char32_t cp);

// The emitter's output position, for PyYAML's folding of long plain / single-quoted scalars.
struct Writer {
  std::string out;
  std::size_t column = 0;
  bool indention = true;  // nothing but indentation written on this line yet
  static constexpr std::size_t best_width = 80;
  static constexpr std::size_t indent = 2;  // continuation indent of a top-level key or value
  VOLT_INLINE void write(std::u32string_view text);
  VOLT_INLINE void line_break();
  VOLT_INLINE void write_indent();
};

// write_plain / write_single_quoted (split=false for simple keys). Both break a line at a single
// space once the column has passed 80; single-quoted text keeps its '\n' as a blank line.
// Other line breaks (U+0085, U+2028, U+2029) never reach here: they make a string double-quoted.
VOLT_INLINE void write_folded(Writer& w, const std::u32string& text, bool split, bool single_quoted);

// PyYAML's escape for one character of a double-quoted scalar, or "" when it stands for itself.
VOLT_INLINE std::string double_quoted_escape(char32_t ch);

// write_double_quoted, allow_unicode=False: escapes, and a long line is continued after a
// trailing backslash (an escaped leading space keeps the space).
VOLT_INLINE void write_double_quoted(Writer& w, const std::u32string& text, bool split);

// A str scalar as a simple key (simple_key=true) or as a block mapping value / complex key.
VOLT_INLINE void write_string(Writer& w, const std::u32string& s, const Analysis& a, bool simple_key);

// One "key: value" entry of the top-level block mapping. PyYAML writes a key that is empty,
// multi-line or 128+ characters long as a complex key: "? key" then ": value" on the next line.
VOLT_INLINE void write_entry(Writer& w, std::string_view key, const std::string& value_text, const std::string* value_str);

}  // namespace detail::yaml

// `yaml.dump(dict(hparams))`: "{}\n" when empty, else one "key: value" line per key, sorted.
VOLT_INLINE std::string hparams_yaml(const HParamDict& hparams);

}  // namespace volt::reflect

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/reflect/impl/hparams_yaml.ipp>
#endif
