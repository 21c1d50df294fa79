#pragma once
// Definitions of <volt/reflect/hparams_yaml.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/reflect/hparams_yaml.hpp>

namespace volt::reflect {

namespace detail::yaml {

VOLT_INLINE std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = len > 0 && i + static_cast<std::size_t>(len) <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      ok = (c >> 6) == 0x2;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) {
      out += static_cast<char32_t>(b);
      ++i;
    } else {
      out += cp;
      i += static_cast<std::size_t>(len);
    }
  }
  return out;
}

VOLT_INLINE bool is_space_or_break(char32_t c) {
  return c == 0 || c == U' ' || c == U'\t' || c == U'\r' || is_break(c);
}

namespace resolver {

VOLT_INLINE bool Scan::eat_any(std::string_view set) noexcept {
  return i < s.size() && set.find(s[i]) != std::string_view::npos ? (++i, true) : false;
}

VOLT_INLINE bool exponent_then_end(Scan& p) {
  if (p.end()) return true;
  return p.eat_any("eE") && p.eat_any("+-") && p.eat_all(digit) > 0 && p.end();
}

VOLT_INLINE bool sexagesimal_groups(Scan& p) {
  std::size_t groups = 0;
  while (p.eat(':')) {
    if (!p.at(digit)) return false;
    const char first = p.s[p.i++];
    if (p.at(digit)) {
      if (first > '5') return false;
      ++p.i;
    }
    ++groups;
  }
  return groups > 0;
}

VOLT_INLINE bool is_bool(std::string_view s) {
  for (std::string_view w : {"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
                             "on", "On", "ON", "off", "Off", "OFF"})
    if (s == w) return true;
  return false;
}

VOLT_INLINE bool is_float(std::string_view s) {
  {  // [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    Scan p{s};
    p.sign();
    if (p.eat_if(digit) && (p.eat_all(digit_), p.eat('.')) && (p.eat_all(digit_), exponent_then_end(p))) return true;
  }
  {  // \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    Scan p{s};
    if (p.eat('.') && p.eat_if(digit) && (p.eat_all(digit_), exponent_then_end(p))) return true;
  }
  {  // [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    Scan p{s};
    p.sign();
    if (p.eat_if(digit) && (p.eat_all(digit_), sexagesimal_groups(p)) && p.eat('.') && (p.eat_all(digit_), p.end()))
      return true;
  }
  {  // [-+]?\.(?:inf|Inf|INF)  |  \.(?:nan|NaN|NAN)
    const std::string_view unsigned_part = !s.empty() && (s[0] == '+' || s[0] == '-') ? s.substr(1) : s;
    if (unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF") return true;
    if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  }
  return false;
}

VOLT_INLINE bool is_int(std::string_view s) {
  Scan after_sign{s};  // every int form starts with [-+]?
  after_sign.sign();
  {  // [-+]?0b[0-1_]+
    Scan p = after_sign;
    if (p.eat('0') && p.eat('b') && p.eat_all([](char c) { return c == '0' || c == '1' || c == '_'; }) > 0 && p.end())
      return true;
  }
  {  // [-+]?0[0-7_]+
    Scan p = after_sign;
    if (p.eat('0') && p.eat_all([](char c) { return (c >= '0' && c <= '7') || c == '_'; }) > 0 && p.end())
      return true;
  }
  {  // [-+]?(?:0|[1-9][0-9_]*)
    Scan p = after_sign;
    if (p.eat('0') ? p.end() : (p.eat_if(nonzero_digit) && (p.eat_all(digit_), p.end())))
      return true;
  }
  {  // [-+]?0x[0-9a-fA-F_]+
    Scan p = after_sign;
    const auto hex_ = [](char c) { return digit_(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
    if (p.eat('0') && p.eat('x') && p.eat_all(hex_) > 0 && p.end()) return true;
  }
  {  // [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    Scan p = after_sign;
    if (p.eat_if(nonzero_digit) && (p.eat_all(digit_), sexagesimal_groups(p)) && p.end())
      return true;
  }
  return false;
}

VOLT_INLINE bool is_merge_null_or_value(std::string_view s) {
  return s == "<<" || s == "~" || s == "null" || s == "Null" || s == "NULL" || s == "=";
}

VOLT_INLINE bool is_timestamp(std::string_view s) {
  const auto digits = [](Scan& p, std::size_t min, std::size_t max) {
    std::size_t n = 0;
    while (n < max && p.eat_if(digit)) ++n;
    return n >= min;
  };
  {  // [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    Scan p{s};
    if (digits(p, 4, 4) && p.eat('-') && digits(p, 2, 2) && p.eat('-') && digits(p, 2, 2) && p.end()) return true;
  }
  // [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?
  //   (?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?
  Scan p{s};
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  if (!(digits(p, 4, 4) && p.eat('-') && digits(p, 1, 2) && p.eat('-') && digits(p, 1, 2))) return false;
  if (!p.eat_any("Tt") && p.eat_all(blank) == 0) return false;
  if (!(digits(p, 1, 2) && p.eat(':') && digits(p, 2, 2) && p.eat(':') && digits(p, 2, 2))) return false;
  if (p.eat('.')) p.eat_all(digit);
  p.eat_all(blank);
  if (p.end() || p.eat('Z')) return p.end();
  if (!(p.eat_any("+-") && digits(p, 1, 2))) return false;
  if (p.eat(':') && !digits(p, 2, 2)) return false;
  return p.end();
}

}  // namespace resolver

VOLT_INLINE bool resolves_to_non_string(std::string_view s) {
  return s.empty() || resolver::is_bool(s) || resolver::is_float(s) || resolver::is_int(s) ||
         resolver::is_merge_null_or_value(s) || resolver::is_timestamp(s);
}

VOLT_INLINE Analysis analyze(const std::u32string& s) {
  Analysis a;
  if (s.empty()) {
    a.empty = true;
    a.allow_block_plain = true;
    return a;
  }
  bool block_indicators = false, line_breaks = false, special = false;
  bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
  bool break_space = false, space_break = false;
  const auto starts = [&](std::u32string_view p) { return std::u32string_view(s).substr(0, p.size()) == p; };
  if (starts(U"---") || starts(U"...")) block_indicators = true;
  bool preceded_by_ws = true;
  bool followed_by_ws = s.size() == 1 || is_space_or_break(s[1]);
  bool prev_space = false, prev_break = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char32_t ch = s[i];
    if (i == 0) {
      if (std::u32string_view(U"#,[]{}&*!|>'\"%@`").find(ch) != std::u32string_view::npos) block_indicators = true;
      if ((ch == U'?' || ch == U':') && followed_by_ws) block_indicators = true;
      if (ch == U'-' && followed_by_ws) block_indicators = true;
    } else {
      if (ch == U':' && followed_by_ws) block_indicators = true;
      if (ch == U'#' && preceded_by_ws) block_indicators = true;
    }
    if (is_break(ch)) line_breaks = true;
    if (!(ch == U'\n' || (ch >= 0x20 && ch <= 0x7E))) special = true;  // allow_unicode=False
    if (ch == U' ') {
      if (i == 0) leading_space = true;
      if (i == s.size() - 1) trailing_space = true;
      if (prev_break) break_space = true;
      prev_space = true;
      prev_break = false;
    } else if (is_break(ch)) {
      if (i == 0) leading_break = true;
      if (i == s.size() - 1) trailing_break = true;
      if (prev_space) space_break = true;
      prev_space = false;
      prev_break = true;
    } else {
      prev_space = prev_break = false;
    }
    preceded_by_ws = is_space_or_break(ch);
    followed_by_ws = i + 2 >= s.size() || is_space_or_break(s[i + 2]);
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break) a.allow_block_plain = false;
  if (break_space) a.allow_block_plain = a.allow_single_quoted = false;
  if (space_break || special) a.allow_block_plain = a.allow_single_quoted = false;
  if (line_breaks) a.allow_block_plain = false;
  if (block_indicators) a.allow_block_plain = false;
  return a;
}

VOLT_INLINE void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

VOLT_INLINE void Writer::write(std::u32string_view text) {
  for (char32_t c : text) append_utf8(out, c);
  column += text.size();
  if (!text.empty()) indention = false;
}

VOLT_INLINE void Writer::line_break() {
  out += '\n';
  column = 0;
  indention = true;
}

VOLT_INLINE void Writer::write_indent() {
  if (!indention || column > indent) line_break();
  if (column < indent) {
    out.append(indent - column, ' ');
    column = indent;
  }
}

VOLT_INLINE void write_folded(Writer& w, const std::u32string& text, bool split, bool single_quoted) {
  if (single_quoted) w.write(U"'");
  const std::u32string_view t(text);
  std::size_t start = 0;
  bool spaces = false, breaks = false;
  for (std::size_t end = 0; end <= t.size(); ++end) {
    const bool at_end = end == t.size();
    const char32_t ch = at_end ? 0 : t[end];
    if (spaces) {
      if (at_end || ch != U' ') {
        const bool may_break = !single_quoted || (start != 0 && !at_end);
        if (start + 1 == end && w.column > Writer::best_width && split && may_break)
          w.write_indent();
        else
          w.write(t.substr(start, end - start));
        start = end;
      }
    } else if (breaks) {
      if (at_end || ch != U'\n') {
        if (t[start] == U'\n') w.line_break();
        for (std::size_t i = start; i < end; ++i) w.line_break();
        w.write_indent();
        start = end;
      }
    } else if (at_end || ch == U' ' || ch == U'\n' || (single_quoted && ch == U'\'')) {
      w.write(t.substr(start, end - start));
      start = end;
    }
    if (single_quoted && !at_end && ch == U'\'') {
      w.write(U"''");
      start = end + 1;
    }
    if (!at_end) {
      spaces = ch == U' ';
      breaks = ch == U'\n';
    }
  }
  if (single_quoted) w.write(U"'");
}

VOLT_INLINE std::string double_quoted_escape(char32_t ch) {
  switch (ch) {
    case 0x00: return "\\0";
    case 0x07: return "\\a";
    case 0x08: return "\\b";
    case 0x09: return "\\t";
    case 0x0A: return "\\n";
    case 0x0B: return "\\v";
    case 0x0C: return "\\f";
    case 0x0D: return "\\r";
    case 0x1B: return "\\e";
    case 0x22: return "\\\"";
    case 0x5C: return "\\\\";
    case 0x85: return "\\N";
    case 0xA0: return "\\_";
    case 0x2028: return "\\L";
    case 0x2029: return "\\P";
    default: break;
  }
  if (ch >= 0x20 && ch <= 0x7E) return {};
  const auto v = static_cast<std::uint32_t>(ch);
  if (ch <= 0xFF) return fmt::format("\\x{:02X}", v);
  if (ch <= 0xFFFF) return fmt::format("\\u{:04X}", v);
  return fmt::format("\\U{:08X}", v);
}

VOLT_INLINE void write_double_quoted(Writer& w, const std::u32string& text, bool split) {
  const std::u32string_view t(text);
  const auto emit = [&](std::string_view data) {
    w.out += data;
    w.column += data.size();
    w.indention = false;
  };
  emit("\"");
  std::size_t start = 0;
  for (std::size_t end = 0; end <= t.size(); ++end) {
    const bool at_end = end == t.size();
    const char32_t ch = at_end ? 0 : t[end];
    const std::string esc = at_end ? std::string{} : double_quoted_escape(ch);
    if (at_end || !esc.empty()) {
      if (start < end) {
        w.write(t.substr(start, end - start));
        start = end;
      }
      if (!at_end) {
        emit(esc);
        start = end + 1;
      }
    }
    // Python's column + (end - start), where start may be end + 1 just after an escape.
    const auto reach = static_cast<long>(w.column) + static_cast<long>(end) - static_cast<long>(start);
    if (end > 0 && end + 1 < t.size() && (ch == U' ' || start >= end) &&
        reach > static_cast<long>(Writer::best_width) && split) {
      if (start < end) {
        w.write(t.substr(start, end - start));
        start = end;
      }
      emit("\\");
      w.write_indent();
      w.indention = false;
      if (t[start] == U' ') emit("\\");
    }
  }
  emit("\"");
}

VOLT_INLINE void write_string(Writer& w, const std::u32string& s, const Analysis& a, bool simple_key) {
  std::string utf8;
  for (char32_t c : s) append_utf8(utf8, c);
  const bool implicit = !resolves_to_non_string(utf8);
  if (implicit && !(simple_key && (a.empty || a.multiline)) && a.allow_block_plain) {
    write_folded(w, s, !simple_key, false);
  } else if (a.allow_single_quoted && !(simple_key && a.multiline)) {
    write_folded(w, s, !simple_key, true);
  } else {
    write_double_quoted(w, s, !simple_key);
  }
}

VOLT_INLINE void write_entry(Writer& w, std::string_view key, const std::string& value_text, const std::string* value_str) {
  const std::u32string k = decode_utf8(key);
  const Analysis ka = analyze(k);
  // PyYAML counts the key's tag ("!!str", 5 characters) against the 128 limit.
  const bool simple = k.size() + 5 < 128 && !ka.empty && !ka.multiline;
  w.column = 0;
  w.indention = true;
  if (simple) {
    write_string(w, k, ka, true);
    w.write(U":");
  } else {
    w.write(U"? ");
    write_string(w, k, ka, false);
    w.line_break();
    w.write(U":");
  }
  w.write(U" ");
  if (value_str) {
    const std::u32string v = decode_utf8(*value_str);
    write_string(w, v, analyze(v), false);
  } else {
    w.out += value_text;
  }
  w.line_break();
}

}  // namespace detail::yaml

VOLT_INLINE std::string hparams_yaml(const HParamDict& hparams) {
  if (hparams.empty()) return "{}\n";
  std::vector<const HParamDict::value_type*> items;
  for (const auto& item : hparams) items.push_back(&item);
  std::sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
  detail::yaml::Writer w;
  for (const auto* item : items) {
    std::string scalar;
    const std::string* str = std::get_if<std::string>(&item->second);
    if (std::holds_alternative<std::monostate>(item->second))
      scalar = "null";
    else if (const bool* b = std::get_if<bool>(&item->second))
      scalar = *b ? "true" : "false";
    else if (const std::int64_t* i = std::get_if<std::int64_t>(&item->second))
      scalar = python_repr(*i);
    else if (const double* d = std::get_if<double>(&item->second))
      scalar = yaml_float(*d);
    detail::yaml::write_entry(w, item->first, scalar, str);
  }
  return std::move(w.out);
}

}  // namespace volt::reflect
