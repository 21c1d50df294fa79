// Checkpoint filename templates: Lightning's examples (ModelCheckpoint.format_checkpoint_name
// docstring), Python's number formatting, and the errors for what volt cannot format.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include <volt/callbacks/filename_template.hpp>
#include <volt/reflect/python_format.hpp>

namespace {
using volt::FilenameValues;
std::string fmt_name(const std::string& tmpl, const FilenameValues& values, bool auto_insert = true) {
  return volt::format_checkpoint_filename(tmpl, values, auto_insert);
}
}  // namespace

TEST_CASE("filename templates: Lightning's documented examples", "[callbacks][filename_template]") {
  CHECK(fmt_name("{epoch}-{step}", {{"epoch", std::int64_t{3}}, {"step", std::int64_t{120}}}) == "epoch=3-step=120");
  CHECK(fmt_name("{epoch}", {{"epoch", std::int64_t{0}}}) == "epoch=0");
  CHECK(fmt_name("{epoch:03d}", {{"epoch", std::int64_t{5}}}) == "epoch=005");
  CHECK(fmt_name("{epoch}-{val_loss:.2f}", {{"epoch", std::int64_t{2}}, {"val_loss", 0.123456}}) ==
        "epoch=2-val_loss=0.12");
  CHECK(fmt_name("{epoch:d}", {{"epoch", std::int64_t{2}}, {"val_loss", 0.12}}) == "epoch=2");
  CHECK(fmt_name("epoch={epoch}-validation_loss={val_loss:.2f}", {{"epoch", std::int64_t{2}}, {"val_loss", 0.123456}},
                 false) == "epoch=2-validation_loss=0.12");
  CHECK(fmt_name("{missing:d}", {}) == "missing=0");
  CHECK(fmt_name("{step}", {{"step", std::int64_t{0}}}) == "step=0");
  CHECK(fmt_name("checkpoint_{epoch:02d}-{acc:02.0f}", {{"epoch", std::int64_t{1}}, {"acc", 1.12}}) ==
        "checkpoint_epoch=01-acc=01");
  CHECK(fmt_name("sample-mnist-epoch{epoch:02d}-val_loss{val/loss:.2f}", {{"epoch", std::int64_t{2}}, {"val/loss", 0.321}},
                 false) == "sample-mnist-epoch02-val_loss0.32");
}

TEST_CASE("filename templates: names run to ':' or '}', braces escape", "[callbacks][filename_template]") {
  CHECK(fmt_name("{val/loss:.1f}", {{"val/loss", 0.25}}) == "val/loss=0.2");  // Python rounds half to even too
  CHECK(fmt_name("{a.b}", {{"a.b", 2.5}}) == "a.b=2.5");
  CHECK(fmt_name("{{literal}}-{epoch}", {{"epoch", std::int64_t{1}}}) == "{literal}-epoch=1");
  CHECK(fmt_name("no fields", {}) == "no fields");
  CHECK(fmt_name("{epoch}{epoch}", {{"epoch", std::int64_t{4}}}) == "epoch=4epoch=4");
}

TEST_CASE("filename templates: numbers formatted as Python formats them", "[callbacks][filename_template]") {
  SECTION("no spec: Python's str(float)") {
    CHECK(fmt_name("{x}", {{"x", 0.5}}) == "x=0.5");
    CHECK(fmt_name("{x}", {{"x", 3.0}}) == "x=3.0");
    CHECK(fmt_name("{x}", {{"x", 1e-05}}) == "x=1e-05");
    CHECK(fmt_name("{x}", {{"x", 1e16}}) == "x=1e+16");
    CHECK(fmt_name("{x}", {{"x", 1e15}}) == "x=1000000000000000.0");
    CHECK(fmt_name("{x}", {{"x", -0.0}}) == "x=-0.0");
    CHECK(fmt_name("{x}", {{"x", std::numeric_limits<double>::infinity()}}) == "x=inf");
    CHECK(fmt_name("{x}", {{"x", std::numeric_limits<double>::quiet_NaN()}}) == "x=nan");
    CHECK(fmt_name("{x}", {{"x", 0.30000001192092896}}) == "x=0.30000001192092896");
  }
  SECTION("no spec: the same spelling as reflect::python_repr (one implementation), any magnitude and sign") {
    for (int e = -30; e <= 30; ++e)
      for (double mantissa : {1.0, -1.0, 1.5, -2.25, 3.0000000000000004, 7.123456789012345, 9.999999999999998}) {
        const double x = mantissa * std::pow(10.0, e);
        CHECK(fmt_name("{x}", {{"x", x}}) == "x=" + volt::reflect::python_repr(x));
      }
  }
  SECTION("a precision without a type: Python's general format keeping '.0'") {
    CHECK(fmt_name("{x:.3}", {{"x", 1.0}}) == "x=1.0");
    CHECK(fmt_name("{x:.3}", {{"x", 0.123456}}) == "x=0.123");
    CHECK(fmt_name("{x:.3}", {{"x", 100.0}}) == "x=1e+02");
    CHECK(fmt_name("{x:.3}", {{"x", 12.5}}) == "x=12.5");
    CHECK(fmt_name("{x:8.3}", {{"x", 1.0}}) == "x=     1.0");
  }
  SECTION("integers with float presentations, whole doubles with integer presentations") {
    CHECK(fmt_name("{epoch:.1f}", {{"epoch", std::int64_t{3}}}) == "epoch=3.0");
    CHECK(fmt_name("{epoch:e}", {{"epoch", std::int64_t{3}}}) == "epoch=3.000000e+00");
    CHECK(fmt_name("{m:d}", {{"m", 3.0}}) == "m=3");
    CHECK(fmt_name("{m:03d}", {{"m", 7.0}}) == "m=007");
    CHECK_THROWS_WITH(fmt_name("{m:d}", {{"m", 3.5}}), Catch::Contains("{m:d}") && Catch::Contains("3.5"));
  }
  SECTION("fill, alignment, sign, width, percent") {
    CHECK(fmt_name("{epoch:>4}", {{"epoch", std::int64_t{3}}}) == "epoch=   3");
    CHECK(fmt_name("{epoch:_<4}", {{"epoch", std::int64_t{3}}}) == "epoch=3___");
    CHECK(fmt_name("{v:08.3f}", {{"v", 3.14159}}) == "v=0003.142");
    CHECK(fmt_name("{v:+.1f}", {{"v", 3.14159}}) == "v=+3.1");
    CHECK(fmt_name("{acc:.1%}", {{"acc", 0.5}}) == "acc=50.0%");
    CHECK(fmt_name("{x:x}", {{"x", std::int64_t{255}}}) == "x=ff");
  }
}

TEST_CASE("filename templates: malformed templates and specs are errors that say where", "[callbacks][filename_template]") {
  CHECK_THROWS_AS(fmt_name("{epoch", {}), std::invalid_argument);
  CHECK_THROWS_WITH(fmt_name("{epoch", {}), Catch::Contains("without a closing"));
  CHECK_THROWS_WITH(fmt_name("a}b", {}), Catch::Contains("single '}'"));
  CHECK_THROWS_WITH(fmt_name("{:d}", {}), Catch::Contains("without a name"));
  CHECK_THROWS_WITH(fmt_name("{x:,}", {{"x", 1.0}}), Catch::Contains("grouping"));
  CHECK_THROWS_WITH(fmt_name("{x:=5}", {{"x", 1.0}}), Catch::Contains("'=' alignment"));
  CHECK_THROWS_WITH(fmt_name("{x:q}", {{"x", 1.0}}), Catch::Contains("unknown presentation type 'q'"));
  CHECK_THROWS_WITH(fmt_name("{x:s}", {{"x", 1.0}}), Catch::Contains("'s'"));
}
