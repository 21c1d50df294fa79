#pragma once
// A one-file HTML report of a metrics.csv (as CSVLogger writes it): one inline SVG line chart
// per metric column, x = step, with axes labelled by their min and max, and the metric's name as
// title. No JavaScript and no external files, so the report opens anywhere (CI artifacts, mail).
//
// Every column except `step` is a metric (`epoch` included). A chart plots the rows where its
// cell holds a finite number, sorted by step. Each <svg> carries its data bounds as attributes
// (data-metric, data-x-min, data-x-max, data-y-min, data-y-max, written as Python's repr) and
// the plot area is fixed (html_chart_geometry), so tools and tests can map points back to data.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <volt/loggers/csv.hpp>
#include <volt/loggers/file_io.hpp>
#include <volt/reflect/python_format.hpp>

namespace volt::loggers {

// Pixel layout of every chart: the plot area is [left, width - right] x [top, height - bottom].
struct html_chart_geometry {
  static constexpr double width = 640, height = 300;
  static constexpr double left = 80, right = 24, top = 36, bottom = 44;
  static constexpr double plot_width = width - left - right;
  static constexpr double plot_height = height - top - bottom;
  static constexpr std::size_t max_markers = 200;  // point markers (with tooltips) up to this many points
};

namespace detail::html {

inline std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

inline std::optional<double> parse_number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Axis label: short, but exact for the integers steps usually are.
inline std::string label(double v) {
  if (v == std::trunc(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{:.6g}", v);
}

inline std::string chart(std::string_view metric, std::vector<std::pair<double, double>> points) {
  using G = html_chart_geometry;
  std::stable_sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::string name = escape(metric);
  std::string svg;
  if (points.empty()) {
    svg += fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"metric-chart\" data-metric=\"{0}\" data-points=\"0\" "
        "width=\"{1}\" height=\"{2}\" viewBox=\"0 0 {1} {2}\" role=\"img\" aria-label=\"{0}\">\n"
        "<title>{0}</title>\n<text class=\"title\" x=\"{3}\" y=\"22\" text-anchor=\"middle\">{0}</text>\n"
        "<text class=\"empty\" x=\"{3}\" y=\"{4}\" text-anchor=\"middle\">no finite values</text>\n</svg>\n",
        name, G::width, G::height, G::width / 2, G::height / 2);
    return svg;
  }
  double x_min = points.front().first, x_max = points.back().first;
  double y_min = points.front().second, y_max = y_min;
  for (const auto& [x, y] : points) {
    y_min = std::min(y_min, y);
    y_max = std::max(y_max, y);
  }
  // A constant series sits in the middle of its axis.
  const auto px = [&](double x) {
    return x_max > x_min ? G::left + (x - x_min) / (x_max - x_min) * G::plot_width : G::left + G::plot_width / 2;
  };
  const auto py = [&](double y) {
    return y_max > y_min ? G::top + (y_max - y) / (y_max - y_min) * G::plot_height : G::top + G::plot_height / 2;
  };
  const double x0 = G::left, x1 = G::width - G::right, y0 = G::top, y1 = G::height - G::bottom;
  svg += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"metric-chart\" data-metric=\"{0}\" data-points=\"{1}\" "
      "data-x-min=\"{2}\" data-x-max=\"{3}\" data-y-min=\"{4}\" data-y-max=\"{5}\" width=\"{6}\" height=\"{7}\" "
      "viewBox=\"0 0 {6} {7}\" role=\"img\" aria-label=\"{0}\">\n<title>{0}</title>\n",
      name, points.size(), reflect::python_repr(x_min), reflect::python_repr(x_max), reflect::python_repr(y_min), reflect::python_repr(y_max), G::width,
      G::height);
  svg += fmt::format("<text class=\"title\" x=\"{}\" y=\"22\" text-anchor=\"middle\">{}</text>\n", G::width / 2, name);
  svg += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", x0, y0, y1);
  svg += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\"/>\n", x0, x1, y1);
  svg += fmt::format("<text class=\"y-max\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", x0 - 6, y0 + 4,
                     label(y_max));
  svg += fmt::format("<text class=\"y-min\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", x0 - 6, y1 + 4,
                     label(y_min));
  svg += fmt::format("<text class=\"x-min\" x=\"{}\" y=\"{}\" text-anchor=\"start\">{}</text>\n", x0, y1 + 16,
                     label(x_min));
  svg += fmt::format("<text class=\"x-max\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", x1, y1 + 16,
                     label(x_max));
  svg += fmt::format("<text class=\"x-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">step</text>\n",
                     (x0 + x1) / 2, G::height - 8);
  svg += "<polyline class=\"series\" fill=\"none\" points=\"";
  for (std::size_t i = 0; i < points.size(); ++i)
    svg += fmt::format("{}{:.3f},{:.3f}", i ? " " : "", px(points[i].first), py(points[i].second));
  svg += "\"/>\n";
  if (points.size() <= G::max_markers)
    for (const auto& [x, y] : points)
      svg += fmt::format("<circle class=\"point\" cx=\"{:.3f}\" cy=\"{:.3f}\" r=\"2.5\"><title>step {}: {}</title></circle>\n",
                         px(x), py(y), reflect::python_repr(x), reflect::python_repr(y));
  svg += "</svg>\n";
  return svg;
}

}  // namespace detail::html

// The report for a metrics.csv's text; `source` is shown under the heading.
inline std::string html_report(std::string_view metrics_csv_text, std::string_view source = {}) {
  const auto rows = csv::parse(metrics_csv_text);
  std::string body;
  std::size_t charts = 0;
  if (!rows.empty()) {
    const auto& header = rows.front();
    const auto step_it = std::find(header.begin(), header.end(), "step");
    const std::optional<std::size_t> step_col =
        step_it == header.end() ? std::nullopt : std::optional<std::size_t>(step_it - header.begin());
    for (std::size_t col = 0; col < header.size(); ++col) {
      if (step_col && col == *step_col) continue;
      std::vector<std::pair<double, double>> points;
      for (std::size_t r = 1; r < rows.size(); ++r) {
        const auto& row = rows[r];
        if (col >= row.size()) continue;
        // Without a step column the row number stands in for it.
        std::optional<double> x = static_cast<double>(r - 1);
        if (step_col) x = *step_col < row.size() ? detail::html::parse_number(row[*step_col]) : std::nullopt;
        const auto y = detail::html::parse_number(row[col]);
        if (x && y && std::isfinite(*x) && std::isfinite(*y)) points.emplace_back(*x, *y);
      }
      body += "<section class=\"chart\">\n" + detail::html::chart(header[col], std::move(points)) + "</section>\n";
      ++charts;
    }
  }
  const std::string title = source.empty() ? std::string("metrics") : std::string(source);
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>volt metrics: {0}</title>\n"
      "<style>\n"
      "body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}\n"
      "h1 {{ font-size: 20px; }} .source {{ color: #666; font-size: 13px; }}\n"
      ".charts {{ display: flex; flex-wrap: wrap; gap: 16px; }}\n"
      ".chart {{ border: 1px solid #ddd; border-radius: 6px; background: #fff; }}\n"
      "svg text {{ font-size: 12px; fill: #444; }} svg text.title {{ font-size: 14px; font-weight: 600; fill: #111; }}\n"
      ".axis {{ stroke: #888; stroke-width: 1; }} .series {{ stroke: #1f77b4; stroke-width: 1.5; }}\n"
      ".point {{ fill: #1f77b4; }}\n"
      "</style>\n</head>\n<body>\n<h1>Metrics</h1>\n<p class=\"source\">{0}: {1} rows, {2} metrics</p>\n"
      "<div class=\"charts\">\n",
      detail::html::escape(title), rows.empty() ? 0 : rows.size() - 1, charts);
  html += body;
  html += "</div>\n</body>\n</html>\n";
  return html;
}

// Reads `metrics_csv` and writes the report to `out_html` (atomically, creating its folder).
inline void write_html_report(const std::filesystem::path& metrics_csv, const std::filesystem::path& out_html) {
  const std::string text = read_file(metrics_csv);
  if (out_html.has_parent_path()) std::filesystem::create_directories(out_html.parent_path());
  write_file_atomically(out_html, html_report(text, metrics_csv.string()));
}

}  // namespace volt::loggers
