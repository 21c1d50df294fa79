#pragma once
// Console helpers shared by the printing callbacks (ProgressBar, ModelSummary): whether a
// stream is an interactive terminal (only then are carriage-return redraws safe: in a file or
// a CI log every '\r' frame would pile up), how wide it is, and the number and time formats of
// tqdm and Lightning, so volt's output reads like theirs.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <map>
#include <ostream>
#include <string>
#include <string_view>

#include <fmt/format.h>

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
inline int standard_stream_fd(const std::ostream* out) noexcept {
  if (out == &std::cout) return 1;  // fileno(stdout)
  if (out == &std::cerr || out == &std::clog) return 2;
  return -1;
}

inline bool is_terminal(const std::ostream* out) noexcept {
#if VOLT_HAS_POSIX_TTY
  const int fd = standard_stream_fd(out);
  return fd >= 0 && ::isatty(fd) == 1;
#else
  (void)out;
  return false;
#endif
}

// Columns of the terminal behind `out`; 0 when unknown. A redrawn line longer than this would
// wrap, and '\r' would then return to the wrapped part only: the bar would scroll.
inline int terminal_columns(const std::ostream* out) noexcept {
#if VOLT_HAS_POSIX_TTY
  const int fd = standard_stream_fd(out);
  if (fd < 0) return 0;
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
  return static_cast<int>(ws.ws_col);
#else
  (void)out;
  return 0;
#endif
}

// Columns a UTF-8 string takes (one per code point: the bar's block characters are 3 bytes).
inline std::size_t display_width(std::string_view s) noexcept {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0u) != 0x80u;
  return n;
}

// Cuts a UTF-8 string to at most `columns` code points, never inside a multi-byte character.
inline void truncate_to_width(std::string& s, std::size_t columns) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0u) == 0x80u) continue;
    if (seen == columns) {
      s.resize(i);
      return;
    }
    ++seen;
  }
}

// tqdm's format_interval: "MM:SS", or "H:MM:SS" from one hour on.
inline std::string format_interval(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto t = static_cast<std::int64_t>(seconds);
  const std::int64_t h = t / 3600, m = t / 60 % 60, s = t % 60;
  return h ? fmt::format("{:d}:{:02d}:{:02d}", h, m, s) : fmt::format("{:02d}:{:02d}", m, s);
}

// tqdm's rate: "14.71it/s", or "3.33s/it" when an iteration takes more than a second;
// `sep` goes between number and unit (" " in plain log lines).
inline std::string format_rate(double per_second, std::string_view sep = "") {
  if (!(per_second > 0) || !std::isfinite(per_second)) return fmt::format("?{}it/s", sep);
  if (per_second < 1.0) return fmt::format("{:.2f}{}s/it", 1.0 / per_second, sep);
  return fmt::format("{:.2f}{}it/s", per_second, sep);
}

// tqdm's format_num, used for postfix metrics: 3 significant digits ("0.312", "1.5e-5"), or the
// shortest round-trip form when that is shorter ("3"). tqdm strips leading exponent zeros;
// here only in the exponent (tqdm also turns "-0.5" into "-.5").
inline std::string format_metric(double v) {
  std::string g = fmt::format("{:.3g}", v);
  if (const auto e = g.find('e'); e != std::string::npos && e + 2 < g.size() && g[e + 2] == '0')
    g.erase(e + 2, 1);
  std::string shortest = fmt::format("{}", v);
  return g.size() < shortest.size() ? g : shortest;
}

// ", name=value" for each metric: tqdm's postfix, appended after the rate.
inline void append_metrics(std::string& line, const std::map<std::string, double>& metrics) {
  for (const auto& [name, value] : metrics) {
    line += ", ";
    line += name;
    line += '=';
    line += format_metric(value);
  }
}

// Inserts thousands separators into the integer part of a decimal ("1234567.5" -> "1,234,567.5"),
// as Python's "{:,}" does.
inline std::string group_thousands(std::string digits) {
  const std::size_t start = !digits.empty() && digits[0] == '-' ? 1 : 0;
  std::size_t end = digits.find('.');
  if (end == std::string::npos) end = digits.size();
  for (std::size_t i = end; i > start + 3; i -= 3) digits.insert(i - 3, 1, ',');
  return digits;
}

}  // namespace volt::detail
