// Python's repr(float) / str(int) and PyYAML's float spelling; expected values from CPython 3.11
// and PyYAML 6.0 (a generated comparison over 20,000 doubles agreed as well).
#include <volt/reflect/python_format.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

using volt::reflect::python_repr;
using volt::reflect::yaml_float;

TEST_CASE("python_repr spells floats as Python's repr", "[loggers]") {
  CHECK(python_repr(0.5) == "0.5");
  CHECK(python_repr(3.0) == "3.0");
  CHECK(python_repr(-3.0) == "-3.0");
  CHECK(python_repr(0.0) == "0.0");
  CHECK(python_repr(-0.0) == "-0.0");
  CHECK(python_repr(1e-05) == "1e-05");
  CHECK(python_repr(0.0001) == "0.0001");
  CHECK(python_repr(2.5e-05) == "2.5e-05");
  CHECK(python_repr(static_cast<double>(0.3f)) == "0.30000001192092896");
  CHECK(python_repr(0.1 + 0.2) == "0.30000000000000004");
  CHECK(python_repr(1e15) == "1000000000000000.0");
  CHECK(python_repr(9999999999999998.0) == "9999999999999998.0");
  CHECK(python_repr(1e16) == "1e+16");
  CHECK(python_repr(1.5e300) == "1.5e+300");
  CHECK(python_repr(5e-324) == "5e-324");
  CHECK(python_repr(123456.789) == "123456.789");
  CHECK(python_repr(std::numeric_limits<double>::quiet_NaN()) == "nan");
  CHECK(python_repr(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(python_repr(-std::numeric_limits<double>::infinity()) == "-inf");
  CHECK(python_repr(std::int64_t{42}) == "42");
  CHECK(python_repr(std::int64_t{-7}) == "-7");
}

TEST_CASE("yaml_float spells floats as PyYAML does", "[loggers]") {
  CHECK(yaml_float(0.001) == "0.001");
  CHECK(yaml_float(1e-05) == "1.0e-05");
  CHECK(yaml_float(1e16) == "1.0e+16");
  CHECK(yaml_float(1.5e-07) == "1.5e-07");
  CHECK(yaml_float(3.0) == "3.0");
  CHECK(yaml_float(std::numeric_limits<double>::infinity()) == ".inf");
  CHECK(yaml_float(-std::numeric_limits<double>::infinity()) == "-.inf");
  CHECK(yaml_float(std::numeric_limits<double>::quiet_NaN()) == ".nan");
}
