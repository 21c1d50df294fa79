#pragma once
// Definitions of <volt/callbacks/filename_template.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/callbacks/filename_template.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include <volt/reflect/python_format.hpp>

namespace volt {

namespace callback_detail {

[[noreturn]] VOLT_INLINE void bad_spec(std::string_view field, std::string_view spec, std::string_view why) {
  throw std::invalid_argument(
      fmt::format("volt: the checkpoint filename field {{{}:{}}} has a format spec volt cannot use: {}.", field, spec, why));
}

VOLT_INLINE FormatSpec parse_spec(std::string_view field, std::string_view spec) {
  FormatSpec f;
  std::size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (spec.size() >= 2 && is_align(spec[1])) {
    f.fill = spec[0];
    f.align = spec[1];
    i = 2;
  } else if (!spec.empty() && is_align(spec[0])) {
    f.align = spec[0];
    i = 1;
  }
  if (f.align == '=') bad_spec(field, spec, "'=' alignment is not supported (use a '0' width, e.g. 05d)");
  if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) f.sign = spec[i++];
  if (i < spec.size() && spec[i] == '#') f.alternate = true, ++i;
  if (i < spec.size() && spec[i] == '0') f.zero = true, ++i;
  while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') f.width = f.width * 10 + (spec[i++] - '0');
  if (i < spec.size() && (spec[i] == ',' || spec[i] == '_')) bad_spec(field, spec, "digit grouping is not supported");
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    if (i >= spec.size() || spec[i] < '0' || spec[i] > '9') bad_spec(field, spec, "'.' must be followed by a precision");
    int p = 0;
    while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') p = p * 10 + (spec[i++] - '0');
    f.precision = p;
  }
  if (i < spec.size()) f.type = spec[i++];
  if (i != spec.size()) bad_spec(field, spec, "unexpected characters after the presentation type");
  return f;
}

VOLT_INLINE std::string fmt_spec(const FormatSpec& f, char type) {
  std::string s;
  if (f.align) {
    if (f.fill) s += *f.fill;
    s += f.align;
  }
  if (f.sign) s += f.sign;
  if (f.alternate) s += '#';
  if (f.zero) s += '0';
  if (f.width) s += std::to_string(f.width);
  if (f.precision) s += '.' + std::to_string(*f.precision);
  if (type) s += type;
  return s;
}

VOLT_INLINE std::string python_float_no_type(double v, const FormatSpec& f) {
  std::string body;
  const double a = std::abs(v);
  if (f.precision && std::isfinite(a)) {
    // Python: like 'g', but scientific from exponent p-1 on, and ".0" kept in fixed notation.
    const int p = *f.precision == 0 ? 1 : *f.precision;
    const std::string sci = fmt::format("{:.{}e}", a, p - 1);
    const auto epos = sci.find('e');
    const int exp10 = std::atoi(sci.c_str() + epos + 1);
    auto strip = [](std::string s, bool keep_one) {
      if (s.find('.') == std::string::npos) return keep_one ? s + ".0" : s;
      while (s.back() == '0') s.pop_back();
      if (s.back() == '.') {
        if (keep_one) s += '0';
        else s.pop_back();
      }
      return s;
    };
    if (exp10 >= -4 && exp10 < p - 1) body = strip(fmt::format("{:.{}f}", a, p - 1 - exp10), true);
    else body = strip(sci.substr(0, epos), false) + sci.substr(epos);
  } else {
    body = reflect::python_repr(a);
  }
  std::string sign = std::signbit(v) && !std::isnan(v) ? "-" : f.sign == '+' ? "+" : f.sign == ' ' ? " " : "";
  const auto len = sign.size() + body.size();
  if (static_cast<std::size_t>(f.width) <= len) return sign + body;
  const std::size_t pad = static_cast<std::size_t>(f.width) - len;
  if (f.zero && !f.align) return sign + std::string(pad, '0') + body;
  const char fill = f.fill.value_or(f.zero && !f.align ? '0' : ' ');
  switch (f.align ? f.align : '>') {
    case '<': return sign + body + std::string(pad, fill);
    case '^': return std::string(pad / 2, fill) + sign + body + std::string(pad - pad / 2, fill);
    default: return std::string(pad, fill) + sign + body;
  }
}

VOLT_INLINE std::string format_value(std::string_view field, std::string_view spec, const FilenameValue& value) {
  const FormatSpec f = parse_spec(field, spec);
  const bool float_type = f.type && std::string_view("eEfFgG%").find(f.type) != std::string_view::npos;
  const bool int_type = f.type && std::string_view("dxXobcn").find(f.type) != std::string_view::npos;
  if (f.type && !float_type && !int_type && f.type != 's')
    bad_spec(field, spec, fmt::format("unknown presentation type '{}'", f.type));
  try {
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
      if (float_type) return format_value(field, spec, static_cast<double>(*i));
      if (f.type == 's') bad_spec(field, spec, "'s' does not apply to a number");
      const char type = f.type == 'n' ? 'd' : f.type;
      return fmt::format(fmt::runtime("{:" + fmt_spec(f, type) + "}"), *i);
    }
    const double d = std::get<double>(value);
    if (int_type) {
      if (!std::isfinite(d) || d != std::floor(d))
        throw std::invalid_argument(fmt::format(
            "volt: the checkpoint filename field {{{}:{}}} formats an integer, but the value is {}; use a float "
            "format such as {{{}:.4f}}.",
            field, spec, reflect::python_repr(d), field));
      return format_value(field, spec, static_cast<std::int64_t>(d));
    }
    if (f.type == 's') bad_spec(field, spec, "'s' does not apply to a number");
    if (f.type == '%') {
      FormatSpec g = f;
      g.width = 0;
      std::string body = fmt::format(fmt::runtime("{:" + fmt_spec(g, 'f') + "}"), d * 100.0) + "%";
      if (static_cast<std::size_t>(f.width) > body.size()) {
        const std::size_t pad = static_cast<std::size_t>(f.width) - body.size();
        const char fill = f.fill.value_or(' ');
        body = f.align == '<' ? body + std::string(pad, fill) : std::string(pad, fill) + body;
      }
      return body;
    }
    if (!f.type) return python_float_no_type(d, f);
    return fmt::format(fmt::runtime("{:" + fmt_spec(f, f.type) + "}"), d);
  } catch (const fmt::format_error& e) {
    bad_spec(field, spec, e.what());
  }
}

}  // namespace callback_detail

VOLT_INLINE std::string format_checkpoint_filename(std::string_view tmpl, const FilenameValues& values,
                                              bool auto_insert_metric_name) {
  std::string out;
  for (std::size_t i = 0; i < tmpl.size();) {
    const char c = tmpl[i];
    if (c == '{' && i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      out += '{';
      i += 2;
    } else if (c == '}' && i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
      out += '}';
      i += 2;
    } else if (c == '}') {
      throw std::invalid_argument(fmt::format(
          "volt: the checkpoint filename template \"{}\" has a single '}}' at position {}; write '}}}}' for a "
          "literal brace.",
          tmpl, i));
    } else if (c == '{') {
      const auto close = tmpl.find('}', i + 1);
      if (close == std::string_view::npos)
        throw std::invalid_argument(fmt::format(
            "volt: the checkpoint filename template \"{}\" has a '{{' at position {} without a closing '}}'.", tmpl, i));
      const std::string_view inside = tmpl.substr(i + 1, close - i - 1);
      const auto colon = inside.find(':');
      const std::string_view name = inside.substr(0, colon);
      const std::string_view spec = colon == std::string_view::npos ? std::string_view{} : inside.substr(colon + 1);
      if (name.empty())
        throw std::invalid_argument(fmt::format(
            "volt: the checkpoint filename template \"{}\" has a field without a name at position {}; fields are "
            "{{metric}} or {{metric:spec}}.",
            tmpl, i));
      if (auto_insert_metric_name) {
        out += name;
        out += '=';
      }
      const auto it = values.find(name);
      out += callback_detail::format_value(name, spec, it == values.end() ? FilenameValue{std::int64_t{0}} : it->second);
      i = close + 1;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace volt
