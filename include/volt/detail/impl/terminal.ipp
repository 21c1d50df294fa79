#pragma once
// Definitions of <volt/detail/terminal.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/detail/terminal.hpp>

namespace volt::detail {

VOLT_INLINE int standard_stream_fd(const std::ostream* out) noexcept {
  if (out == &std::cout) return 1;  // fileno(stdout)
  if (out == &std::cerr || out == &std::clog) return 2;
  return -1;
}

VOLT_INLINE bool is_terminal(const std::ostream* out) noexcept {
#if VOLT_HAS_POSIX_TTY
  const int fd = standard_stream_fd(out);
  return fd >= 0 && ::isatty(fd) == 1;
#else
  (void)out;
  return false;
#endif
}

VOLT_INLINE int terminal_columns(const std::ostream* out) noexcept {
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

VOLT_INLINE std::size_t display_width(std::string_view s) noexcept {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0u) != 0x80u;
  return n;
}

VOLT_INLINE void truncate_to_width(std::string& s, std::size_t columns) {
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

VOLT_INLINE std::string format_interval(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto t = static_cast<std::int64_t>(seconds);
  const std::int64_t h = t / 3600, m = t / 60 % 60, s = t % 60;
  return h ? fmt::format("{:d}:{:02d}:{:02d}", h, m, s) : fmt::format("{:02d}:{:02d}", m, s);
}

VOLT_INLINE std::string format_rate(double per_second, std::string_view sep) {
  if (!(per_second > 0) || !std::isfinite(per_second)) return fmt::format("?{}it/s", sep);
  if (per_second < 1.0) return fmt::format("{:.2f}{}s/it", 1.0 / per_second, sep);
  return fmt::format("{:.2f}{}it/s", per_second, sep);
}

VOLT_INLINE std::string format_metric(double v) {
  std::string g = fmt::format("{:.3g}", v);
  if (const auto e = g.find('e'); e != std::string::npos && e + 2 < g.size() && g[e + 2] == '0')
    g.erase(e + 2, 1);
  std::string shortest = fmt::format("{}", v);
  return g.size() < shortest.size() ? g : shortest;
}

VOLT_INLINE void append_metrics(std::string& line, const std::map<std::string, double>& metrics) {
  for (const auto& [name, value] : metrics) {
    line += ", ";
    line += name;
    line += '=';
    line += format_metric(value);
  }
}

VOLT_INLINE std::vector<std::pair<std::string, double>> order_metrics(const std::map<std::string, double>& metrics,
                                                                 const std::vector<std::string>& first) {
  std::vector<std::pair<std::string, double>> ordered;
  for (const auto& name : first)
    if (const auto it = metrics.find(name); it != metrics.end()) ordered.emplace_back(*it);
  for (const auto& kv : metrics)
    if (std::find(first.begin(), first.end(), kv.first) == first.end()) ordered.emplace_back(kv);
  return ordered;
}

VOLT_INLINE std::string abbreviate_metric_name(std::string_view name, std::size_t part_width) {
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

VOLT_INLINE std::string fit_metrics(const std::vector<std::pair<std::string, double>>& metrics, std::size_t limit) {
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

VOLT_INLINE std::string group_thousands(std::string digits) {
  const std::size_t start = !digits.empty() && digits[0] == '-' ? 1 : 0;
  std::size_t end = digits.find('.');
  if (end == std::string::npos) end = digits.size();
  for (std::size_t i = end; i > start + 3; i -= 3) digits.insert(i - 3, 1, ',');
  return digits;
}

}  // namespace volt::detail
