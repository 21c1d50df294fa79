#pragma once
// Numbers spelled the way Python spells them. Lightning's CSV files hold `repr(float)` and
// `str(int)`, and users diff them against files written by Python: fmt's "{}" is the same
// shortest round-trip digits, but lays them out differently (3.0 -> "3", 1e15 -> "1e+15"), so
// the layout rules of CPython's float_repr (Python/pystrtod.c, mode 'r') are redone here.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

namespace volt::reflect {

// Python's repr(x) for a float: "0.5", "3.0", "1e-05", "1e+16", "0.30000001192092896", "nan",
// "inf", "-0.0". Fixed notation while the decimal point position p (value = 0.d1d2... * 10^p)
// satisfies -4 < p <= 16, else d.ddde+XX with at least two exponent digits.
inline std::string python_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  // Shortest digits that round-trip, the same digits Python's dtoa mode 0 picks.
  const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
  std::string out;
  if (!s.empty() && s.front() == '-') {
    out += '-';
    s.remove_prefix(1);
  }
  const auto e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits += c;
  std::string_view exp_text = s.substr(e + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  int exp10 = 0;
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp10);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();

  const int decpt = exp10 + 1;  // digits d1d2... represent 0.d1d2... * 10^decpt
  const int n = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (n > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    const int shown = decpt - 1;
    out += shown < 0 ? "e-" : "e+";
    const int mag = std::abs(shown);
    if (mag < 10) out += '0';
    out += std::to_string(mag);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= n) {
    out += digits;
    out.append(static_cast<std::size_t>(decpt - n), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<std::size_t>(decpt));
    out += '.';
    out.append(digits, static_cast<std::size_t>(decpt), std::string::npos);
  }
  return out;
}

// Python's str(int).
inline std::string python_repr(std::int64_t x) { return std::to_string(x); }

// PyYAML's float spelling (representer.represent_float): repr lowered, ".0" put before an
// exponent that has no dot (1e-05 -> 1.0e-05, so YAML 1.1 readers see a float), .inf / .nan.
inline std::string yaml_float(double x) {
  if (std::isnan(x)) return ".nan";
  if (std::isinf(x)) return x > 0 ? ".inf" : "-.inf";
  std::string r = python_repr(x);
  const auto e = r.find('e');
  if (e != std::string::npos && r.find('.') == std::string::npos) r.insert(e, ".0");
  return r;
}

}  // namespace volt::reflect
