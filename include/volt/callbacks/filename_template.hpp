#pragma once
// Lightning's checkpoint filename templates (ModelCheckpoint._format_checkpoint_name):
//   "{epoch}-{step}"             -> "epoch=3-step=120"
//   "{epoch:02d}-{val_loss:.2f}" -> "epoch=03-val_loss=0.12"
//   auto_insert_metric_name=false: "e{epoch}"  -> "e3"
// A field is `{name}` or `{name:spec}` with a Python format spec; the name runs to the first
// ':' or '}' (so "val/loss" and "a.b" are names), `{{` and `}}` are literal braces, and a name
// with no value formats as the integer 0, as Lightning does. Values are integers (epoch, step)
// or doubles (logged metrics), formatted the way Python formats an int or a float:
//   - no spec: Python's str() ("0.5", "3.0", "1e-05"), not fmt's "{}" ("3", "1e-05");
//   - a float presentation (e f g %) on an integer formats it as a float, as Python does;
//   - an integer presentation (d x o b) on a double works when the double is a whole number
//     (a metric logged as 3.0), and is an error otherwise, as Python's would be.
// The spec is Python's [[fill]align][sign][#][0][width][.precision][type]; the grouping options
// (',' '_') and '=' alignment are rejected with an error that says so.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <volt/detail/config.hpp>

namespace volt {

using FilenameValue = std::variant<std::int64_t, double>;
using FilenameValues = std::map<std::string, FilenameValue, std::less<>>;

namespace callback_detail {

struct FormatSpec {
  std::optional<char> fill{};
  char align = 0;  // '<' '>' '^', or 0 for the default
  char sign = 0;   // '+' '-' ' ', or 0
  bool alternate = false;
  bool zero = false;
  int width = 0;
  std::optional<int> precision{};
  char type = 0;   // 0: no presentation type
};

[[noreturn]] VOLT_INLINE void bad_spec(std::string_view field, std::string_view spec, std::string_view why);

VOLT_INLINE FormatSpec parse_spec(std::string_view field, std::string_view spec);

// The spec back in fmt's syntax (a subset of Python's with the same meaning), with `type`.
VOLT_INLINE std::string fmt_spec(const FormatSpec& f, char type);

// Python's float formatting without a presentation type: str() without a precision, and with
// one 'g' that keeps at least one digit after the point when it writes fixed notation.
VOLT_INLINE std::string python_float_no_type(double v, const FormatSpec& f);

VOLT_INLINE std::string format_value(std::string_view field, std::string_view spec, const FilenameValue& value);

}  // namespace callback_detail

// Formats a checkpoint filename template (without the ".ckpt" suffix). Throws
// std::invalid_argument naming the field when a brace is unmatched or a spec cannot apply.
VOLT_INLINE std::string format_checkpoint_filename(std::string_view tmpl, const FilenameValues& values,
                                              bool auto_insert_metric_name = true);

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/filename_template.ipp>
#endif
