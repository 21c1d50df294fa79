#pragma once
// Console helpers shared by the printing callbacks (ProgressBar, ModelSummary): whether a
// stream is an interactive terminal (only then are carriage-return redraws safe: in a file or
// a CI log every '\r' frame would pile up), how wide it is, and the number and time formats of
// tqdm and Lightning, so volt's output reads like theirs.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <volt/detail/config.hpp>

#if __has_include(<unistd.h>) && __has_include(<sys/ioctl.h>)
#include <sys/ioctl.h>
#include <unistd.h>
#define VOLT_HAS_POSIX_TTY 1
#else
#define VOLT_HAS_POSIX_TTY 0
#endif

namespace volt::detail {

// The file descriptor behind one of the standard streams; -1 for any other stream (a file, a
// string stream), which is never treated as a terminal.
VOLT_INLINE int standard_stream_fd(const std::ostream* out) noexcept;

VOLT_INLINE bool is_terminal(const std::ostream* out) noexcept;

// Columns of the terminal behind `out`; 0 when unknown. A redrawn line longer than this would
// wrap, and '\r' would then return to the wrapped part only: the bar would scroll.
VOLT_INLINE int terminal_columns(const std::ostream* out) noexcept;

// Columns a UTF-8 string takes (one per code point: the bar's block characters are 3 bytes).
VOLT_INLINE std::size_t display_width(std::string_view s) noexcept;

// Cuts a UTF-8 string to at most `columns` code points, never inside a multi-byte character.
VOLT_INLINE void truncate_to_width(std::string& s, std::size_t columns);

// tqdm's format_interval: "MM:SS", or "H:MM:SS" from one hour on.
VOLT_INLINE std::string format_interval(double seconds);

// tqdm's rate: "14.71it/s", or "3.33s/it" when an iteration takes more than a second;
// `sep` goes between number and unit (" " in plain log lines).
VOLT_INLINE std::string format_rate(double per_second, std::string_view sep = "");

// tqdm's format_num, used for postfix metrics: 3 significant digits ("0.312", "1.5e-5"), or the
// shortest round-trip form when that is shorter ("3"). tqdm strips leading exponent zeros;
// here only in the exponent (tqdm also turns "-0.5" into "-.5").
VOLT_INLINE std::string format_metric(double v);

// ", name=value" for each metric: tqdm's postfix, appended after the rate.
VOLT_INLINE void append_metrics(std::string& line, const std::map<std::string, double>& metrics);

// The metrics in display order: the `first` ones (those a callback monitors) in their order,
// then the rest by name.
VOLT_INLINE std::vector<std::pair<std::string, double>> order_metrics(const std::map<std::string, double>& metrics,
                                                                 const std::vector<std::string>& first);

// `name` with each '_'-separated part cut to at most `part_width` code points:
// abbreviate_metric_name("train_loss_epoch", 3) == "tra_los_epo".
VOLT_INLINE std::string abbreviate_metric_name(std::string_view name, std::size_t part_width);

// The postfix ", name=value, ..." in at most `limit` columns (0: no limit). When the full names
// do not fit, every name is abbreviated (abbreviate_metric_name) with the longest part width that
// fits; a name whose abbreviation would collide with another's keeps its previous (longer) form.
// Every metric stays in the line. If even one-letter parts do not fit, the separators lose their space and
// the caller cuts what is left.
VOLT_INLINE std::string fit_metrics(const std::vector<std::pair<std::string, double>>& metrics, std::size_t limit);

// Inserts thousands separators into the integer part of a decimal ("1234567.5" -> "1,234,567.5"),
// as Python's "{:,}" does.
VOLT_INLINE std::string group_thousands(std::string digits);

}  // namespace volt::detail

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/detail/impl/terminal.ipp>
#endif
