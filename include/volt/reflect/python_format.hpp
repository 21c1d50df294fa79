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
#include <volt/detail/config.hpp>

namespace volt::reflect {

// Python's repr(x) for a float: "0.5", "3.0", "1e-05", "1e+16", "0.30000001192092896", "nan",
// "inf", "-0.0". Fixed notation while the decimal point position p (value = 0.d1d2... * 10^p)
// satisfies -4 < p <= 16, else d.ddde+XX with at least two exponent digits.
VOLT_INLINE std::string python_repr(double x);

// Python's str(int).
inline std::string python_repr(std::int64_t x) { return std::to_string(x); }

// PyYAML's float spelling (representer.represent_float): repr lowered, ".0" put before an
// exponent that has no dot (1e-05 -> 1.0e-05, so YAML 1.1 readers see a float), .inf / .nan.
VOLT_INLINE std::string yaml_float(double x);

}  // namespace volt::reflect

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/reflect/impl/python_format.ipp>
#endif
