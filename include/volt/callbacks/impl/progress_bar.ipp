#pragma once
// Definitions of <volt/callbacks/progress_bar.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/callbacks/progress_bar.hpp>

namespace volt::detail {

VOLT_INLINE void add_monitored_metric(std::vector<std::string>& names, const std::string& name) {
  if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

VOLT_INLINE std::string bar_cells(double fraction, int bar_width) {
  static constexpr std::string_view eighths[] = {" ", "\u258F", "\u258E", "\u258D", "\u258C",
                                                 "\u258B", "\u258A", "\u2589", "\u2588"};
  const auto width = static_cast<std::int64_t>(std::max(bar_width, 1));
  const auto units = static_cast<std::int64_t>(fraction * static_cast<double>(width * 8));
  const std::int64_t full = std::min(units / 8, width);
  std::string cells;
  for (std::int64_t i = 0; i < full; ++i) cells += eighths[8];
  if (full < width) {
    cells += eighths[units % 8];
    cells.append(static_cast<std::size_t>(width - full - 1), ' ');
  }
  return cells;
}

VOLT_INLINE std::vector<std::pair<std::string, double>> shown_metrics(std::map<std::string, double> all,
                                                                      bool stage_metrics_only,
                                                                      const std::map<std::string, double>& stale,
                                                                      const std::vector<std::string>& monitored) {
  if (stage_metrics_only)
    std::erase_if(all, [&](const auto& kv) {
      const auto it = stale.find(kv.first);
      return it != stale.end() && (it->second == kv.second || (it->second != it->second && kv.second != kv.second));
    });
  return order_metrics(all, monitored);
}

VOLT_INLINE std::string bar_line(const BarState& bar, int bar_width, int columns,
                                 const std::vector<std::pair<std::string, double>>* metrics) {
  const double elapsed = bar.elapsed;
  const double rate = elapsed > 0 && bar.n > 0 ? static_cast<double>(bar.n) / elapsed : 0.0;
  std::string line(bar.label);
  line += ": ";
  if (bar.total > 0) {
    const double fraction = std::clamp(static_cast<double>(bar.n) / static_cast<double>(bar.total), 0.0, 1.0);
    const std::string remaining =
        rate > 0 ? format_interval(static_cast<double>(std::max<std::int64_t>(bar.total - bar.n, 0)) / rate) : "?";
    line += fmt::format("{:3.0f}%|{}| {}/{} [{}<{}, {}", fraction * 100.0, bar_cells(fraction, bar_width), bar.n,
                        bar.total, format_interval(elapsed), remaining, format_rate(rate));
  } else {
    line += fmt::format("{}it [{}, {}", bar.n, format_interval(elapsed), format_rate(rate));
  }
  if (metrics) {
    const std::size_t used = display_width(line) + 1;  // + the closing ']'
    const std::size_t limit = columns > 1 ? static_cast<std::size_t>(columns - 1) : 0;
    line += fit_metrics(*metrics, limit > used ? limit - used : (limit ? 1 : 0));
  }
  line += ']';
  return line;
}

VOLT_INLINE std::string plain_line(const BarState& bar, bool last,
                                   const std::vector<std::pair<std::string, double>>* metrics) {
  const double elapsed = bar.elapsed;
  const double rate = elapsed > 0 && bar.n > 0 ? static_cast<double>(bar.n) / elapsed : 0.0;
  std::string line(bar.label);
  line += bar.total > 0 ? fmt::format(": {}/{} batches", bar.n, bar.total) : fmt::format(": {} batches", bar.n);
  line += ", ";
  line += format_rate(rate, " ");
  line += ", elapsed ";
  line += format_interval(elapsed);
  if (!last && bar.total > bar.n && rate > 0)
    line += ", remaining " + format_interval(static_cast<double>(bar.total - bar.n) / rate);
  if (metrics) line += fit_metrics(*metrics, 0);
  line += '\n';
  return line;
}

}  // namespace volt::detail
