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

// The metrics in display order: the `first` ones (those a callback monitors) in their order,
// then the rest by name.
inline std::vector<std::pair<std::string, double>> order_metrics(const std::map<std::string, double>& metrics,
                                                                 const std::vector<std::string>& first) {
  std::vector<std::pair<std::string, double>> ordered;
  for (const auto& name : first)
    if (const auto it = metrics.find(name); it != metrics.end()) ordered.emplace_back(*it);
  for (const auto& kv : metrics)
    if (std::find(first.begin(), first.end(), kv.first) == first.end()) ordered.emplace_back(kv);
  return ordered;
}

// `name` with each '_'-separated part cut to at most `part_width` code points:
// abbreviate_metric_name("train_loss_epoch", 3) == "tra_los_epo".
inline std::string abbreviate_metric_name(std::string_view name, std::size_t part_width) {
  std::string out;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = std::min(name.find('_', begin), name.size());
    std::string part(name.substr(begin, end - begin));
    truncate_to_width(part, part_width);
    out += part;
    if (end == name.size()) break;
    out += '_';
    begin = end + 1;
  }
  return out;
}

// The postfix ", name=value, ..." in at most `limit` columns (0: no limit). When the full names
// do not fit, every name is abbreviated (abbreviate_metric_name) with the longest part width that
// fits; a name whose abbreviation would collide with another's keeps its previous (longer) form.
// Every metric stays in the line. If even one-letter parts do not fit, the separators lose their space and
// the caller cuts what is left.
inline std::string fit_metrics(const std::vector<std::pair<std::string, double>>& metrics, std::size_t limit) {
  std::vector<std::string> values;
  std::size_t longest_part = 0;
  for (const auto& [name, value] : metrics) {
    values.push_back(format_metric(value));
    for (std::size_t begin = 0; begin <= name.size();) {
      const std::size_t end = std::min(name.find('_', begin), name.size());
      longest_part = std::max(longest_part, display_width(name.substr(begin, end - begin)));
      begin = end + 1;
    }
  }
  const auto render = [&](const std::vector<std::string>& names, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) out += fmt::format("{}{}={}", sep, names[i], values[i]);
    return out;
  };
  std::vector<std::string> names;
  for (const auto& kv : metrics) names.push_back(kv.first);
  std::string out = render(names, ", ");
  if (limit == 0 || display_width(out) <= limit) return out;
  for (std::size_t part = longest_part; part-- > 1;) {
    std::vector<std::string> cut;
    for (const auto& kv : metrics) cut.push_back(abbreviate_metric_name(kv.first, part));
    // Names that abbreviate alike keep the previous level's form (distinct), and if that still
    // collides, their full form (full names are distinct, so this ends).
    for (int round = 0;; ++round) {
      std::vector<std::size_t> collided;
      for (std::size_t i = 0; i < cut.size(); ++i)
        for (std::size_t j = 0; j < cut.size(); ++j)
          if (i != j && cut[i] == cut[j] && cut[i] != metrics[i].first) {
            collided.push_back(i);
            break;
          }
      if (collided.empty()) break;
      for (std::size_t i : collided) cut[i] = round == 0 ? names[i] : metrics[i].first;
    }
    names = std::move(cut);
    out = render(names, ", ");
    if (display_width(out) <= limit) return out;
  }
  return render(names, ",");
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
