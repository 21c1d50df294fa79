#pragma once
// Definitions of <volt/loggers/html_report.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loggers/html_report.hpp>

namespace volt::loggers {

VOLT_INLINE HtmlMetricQuantity html_metric_quantity(std::string_view name) {
  const auto starts = [&](std::string_view p) { return name.substr(0, p.size()) == p; };
  const auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.substr(name.size() - s.size()) == s; };
  if (starts("lr-") || name == "lr") {
    if (ends("-momentum")) return {"momentum", false};
    return {"learning rate", true};
  }
  std::string_view q = name;
  for (std::string_view suffix : {"_step", "_epoch", "/step", "/epoch"})
    if (q.size() > suffix.size() && q.substr(q.size() - suffix.size()) == suffix) {
      q.remove_suffix(suffix.size());
      break;
    }
  for (std::string_view prefix : {"train_", "train/", "training_", "val_", "val/", "valid_", "validation_",
                                  "validation/", "test_", "test/"})
    if (q.size() > prefix.size() && q.substr(0, prefix.size()) == prefix) {
      q.remove_prefix(prefix.size());
      break;
    }
  return {std::string(q), false};
}

namespace detail::html {

VOLT_INLINE std::string escape(std::string_view s) {
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

VOLT_INLINE std::optional<double> parse_number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

VOLT_INLINE std::string label(double v) {
  if (v == 0) return "0";
  if (v == std::trunc(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{:.4g}", v);
}

VOLT_INLINE double Axis::position(double v) const {  // 0 at lo, 1 at hi
  if (log) return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  return (v - lo) / (hi - lo);
}

VOLT_INLINE Axis linear_axis(double lo, double hi, int target, bool integers) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  if (integers) step = std::max(step, 1.0);
  Axis a;
  a.lo = std::floor(lo / step) * step;
  a.hi = std::ceil(hi / step) * step;
  for (double t = a.lo; t <= a.hi + step * 1e-9; t += step) a.ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return a;
}

VOLT_INLINE Axis log_axis(double lo, double hi) {
  Axis a;
  a.log = true;
  int e_lo = static_cast<int>(std::floor(std::log10(lo)));
  int e_hi = static_cast<int>(std::ceil(std::log10(hi)));
  if (e_hi <= e_lo) e_hi = e_lo + 1;
  a.lo = std::pow(10.0, e_lo);
  a.hi = std::pow(10.0, e_hi);
  const int every = (e_hi - e_lo) > 8 ? 2 : 1;
  for (int e = e_lo; e <= e_hi; e += every) a.ticks.push_back(std::pow(10.0, e));
  return a;
}

VOLT_INLINE std::string chart(std::string_view title, const std::vector<Series>& series, bool log_y, bool log_x,
                         std::string_view x_label, std::optional<double> marker_x) {
  using G = html_chart_geometry;
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  std::size_t total = 0;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) {
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x), y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
      ++total;
    }
  if (total == 0) return {};
  const bool y_is_log = log_y && y_lo > 0;
  const bool x_is_log = log_x && x_lo > 0;
  const Axis xa = x_is_log ? log_axis(x_lo, x_hi) : linear_axis(x_lo, x_hi, 6, true);
  const Axis ya = y_is_log ? log_axis(y_lo, y_hi) : linear_axis(y_lo, y_hi, 5, false);
  const double x0 = G::left, x1 = G::width - G::right, y0 = G::top, y1 = G::height - G::bottom;
  const auto px = [&](double x) { return x0 + xa.position(x) * G::plot_width; };
  const auto py = [&](double y) { return y1 - ya.position(y) * G::plot_height; };
  const std::string name = escape(title);

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-quantity=\"{0}\" data-scale=\"{1}\" "
      "data-x-scale=\"{2}\" data-x-domain=\"{3} {4}\" data-y-domain=\"{5} {6}\" width=\"{7}\" height=\"{8}\" "
      "viewBox=\"0 0 {7} {8}\" role=\"img\" aria-label=\"{0}\">\n<title>{0}</title>\n",
      name, y_is_log ? "log" : "linear", x_is_log ? "log" : "linear", reflect::python_repr(xa.lo), reflect::python_repr(xa.hi),
      reflect::python_repr(ya.lo), reflect::python_repr(ya.hi), G::width, G::height);
  svg += fmt::format("<text class=\"title\" x=\"{}\" y=\"22\">{}{}</text>\n", x0, name,
                     y_is_log ? " <tspan class=\"scale\">(log scale)</tspan>" : "");
  for (double t : ya.ticks) {
    const double y = py(t);
    svg += fmt::format("<line class=\"grid\" x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\"/>\n", x0, y, x1, y);
    svg += fmt::format("<text class=\"tick y-tick\" x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"end\">{}</text>\n", x0 - 6,
                       y + 4, label(t));
  }
  for (double t : xa.ticks) {
    const double x = px(t);
    svg += fmt::format("<line class=\"grid\" x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\"/>\n", x, y0, x, y1);
    svg += fmt::format("<text class=\"tick x-tick\" x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\">{}</text>\n", x,
                       y1 + 16, label(t));
  }
  svg += fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", x0, y0, G::plot_width,
                     G::plot_height);
  svg += fmt::format("<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", (x0 + x1) / 2,
                     G::height - 8, escape(x_label));
  if (marker_x && (!x_is_log || *marker_x > 0))
    svg += fmt::format("<line class=\"marker\" x1=\"{0:.2f}\" y1=\"{1}\" x2=\"{0:.2f}\" y2=\"{2}\"><title>suggested: "
                       "{3}</title></line>\n",
                       px(*marker_x), y0, y1, reflect::python_repr(*marker_x));
  // One colour per curve, shared by a metric's `_step` and `_epoch` forms (the step form drawn
  // lighter), so train and val of one quantity stand apart and a step curve matches its epoch mean.
  std::vector<std::string> color_keys;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    if (s.points.empty()) continue;
    std::string_view key = s.name;
    const bool step_form = key.size() > 5 && key.substr(key.size() - 5) == "_step";
    for (std::string_view suffix : {"_step", "_epoch"})
      if (key.size() > suffix.size() && key.substr(key.size() - suffix.size()) == suffix) key.remove_suffix(suffix.size());
    auto k = std::find(color_keys.begin(), color_keys.end(), key);
    if (k == color_keys.end()) k = color_keys.insert(color_keys.end(), std::string(key));
    const auto color = palette[static_cast<std::size_t>(k - color_keys.begin()) % std::size(palette)];
    const char* opacity = step_form ? " stroke-opacity=\"0.45\"" : "";
    const std::string metric = escape(s.name);
    svg += fmt::format("<polyline class=\"series\" data-metric=\"{}\" data-points=\"{}\" stroke=\"{}\"{} fill=\"none\" "
                       "points=\"",
                       metric, s.points.size(), color, opacity);
    for (std::size_t k = 0; k < s.points.size(); ++k)
      svg += fmt::format("{}{:.3f},{:.3f}", k ? " " : "", px(s.points[k].first), py(s.points[k].second));
    svg += "\"/>\n";
    if (s.points.size() <= G::max_markers)
      for (const auto& [x, y] : s.points)
        svg += fmt::format("<circle class=\"point\" cx=\"{:.3f}\" cy=\"{:.3f}\" r=\"{}\" fill=\"{}\"><title>{} at {} "
                           "{}: {}</title></circle>\n",
                           px(x), py(y), s.points.size() == 1 ? 4 : 2.5, color, metric, escape(x_label),
                           reflect::python_repr(x), reflect::python_repr(y));
    const double ly = y0 + 8 + 18.0 * static_cast<double>(i);
    svg += fmt::format("<g class=\"legend\" data-metric=\"{0}\"><line x1=\"{1}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\" "
                       "stroke=\"{4}\"{7} stroke-width=\"3\"/><text x=\"{5}\" y=\"{6}\">{0}</text></g>\n",
                       metric, x1 + 12, ly, x1 + 32, color, x1 + 38, ly + 4, opacity);
  }
  svg += "</svg>\n";
  return svg;
}

VOLT_INLINE std::vector<std::pair<std::string, std::string>> yaml_rows(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.empty() || line.front() == '#') continue;
    if ((line.front() == ' ' || line.front() == '-') && !rows.empty()) {
      auto& value = rows.back().second;
      value += value.empty() ? "" : "\n";
      value += std::string(line);
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    rows.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return rows;
}

VOLT_INLINE std::string table(std::string_view css_class, std::string_view head_key, std::string_view head_value,
                         const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string out = fmt::format("<table class=\"{}\">\n", css_class);
  if (!head_key.empty() || !head_value.empty())
    out += fmt::format("<thead><tr><th>{}</th><th>{}</th></tr></thead>\n", escape(head_key), escape(head_value));
  out += "<tbody>\n";
  for (const auto& [k, v] : rows)
    out += fmt::format("<tr><td class=\"key\">{}</td><td class=\"value\">{}</td></tr>\n", escape(k), escape(v));
  out += "</tbody>\n</table>\n";
  return out;
}

VOLT_INLINE std::optional<HtmlReportExtras::LrFind> read_lr_find(std::string_view text) {
  const auto rows = csv::parse(text);
  if (rows.empty()) return std::nullopt;
  const auto& h = rows.front();
  const auto col = [&](std::string_view n) -> std::optional<std::size_t> {
    const auto it = std::find(h.begin(), h.end(), n);
    return it == h.end() ? std::nullopt : std::optional<std::size_t>(it - h.begin());
  };
  const auto lr = col("lr"), loss = col("loss"), suggestion = col("suggestion");
  if (!lr || !loss) return std::nullopt;
  HtmlReportExtras::LrFind found;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const auto x = *lr < row.size() ? parse_number(row[*lr]) : std::nullopt;
    const auto y = *loss < row.size() ? parse_number(row[*loss]) : std::nullopt;
    if (!x) continue;
    found.lrs.push_back(*x);
    found.losses.push_back(y ? *y : NAN);
    if (suggestion && *suggestion < row.size() && !row[*suggestion].empty()) found.suggestion = *x;
  }
  return found;
}

}  // namespace detail::html

VOLT_INLINE std::string html_report(std::string_view metrics_csv_text, std::string_view source,
                               const HtmlReportExtras& extras) {
  namespace h = detail::html;
  const auto rows = csv::parse(metrics_csv_text);
  // Columns in file order, each with its finite (step, value) points.
  std::vector<h::Series> columns;
  if (!rows.empty()) {
    const auto& header = rows.front();
    const auto step_it = std::find(header.begin(), header.end(), "step");
    const std::optional<std::size_t> step_col =
        step_it == header.end() ? std::nullopt : std::optional<std::size_t>(step_it - header.begin());
    for (std::size_t col = 0; col < header.size(); ++col) {
      if ((step_col && col == *step_col) || header[col] == "epoch") continue;
      h::Series s{header[col], {}};
      for (std::size_t r = 1; r < rows.size(); ++r) {
        const auto& row = rows[r];
        if (col >= row.size()) continue;
        // Without a step column the row number stands in for it.
        std::optional<double> x = static_cast<double>(r - 1);
        if (step_col) x = *step_col < row.size() ? h::parse_number(row[*step_col]) : std::nullopt;
        const auto y = h::parse_number(row[col]);
        if (x && y && std::isfinite(*x) && std::isfinite(*y)) s.points.emplace_back(*x, *y);
      }
      std::stable_sort(s.points.begin(), s.points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      columns.push_back(std::move(s));
    }
  }

  // Curves grouped by quantity (in order of first appearance), single values apart.
  struct Group {
    std::string quantity;
    bool learning_rate = false;
    std::vector<h::Series> series;
  };
  std::vector<Group> groups;
  std::vector<std::pair<std::string, std::string>> singles;
  for (auto& c : columns) {
    if (c.points.size() < 2) {
      singles.emplace_back(c.name, c.points.empty() ? std::string("no finite value")
                                                    : reflect::python_repr(c.points.front().second));
      continue;
    }
    const auto q = html_metric_quantity(c.name);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return g.quantity == q.quantity; });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{q.quantity, q.learning_rate, {}});
    it->series.push_back(std::move(c));
  }
  if (extras.best_checkpoint && extras.best_checkpoint->score)
    singles.emplace_back(fmt::format("best {} (ModelCheckpoint)", extras.best_checkpoint->monitor),
                         reflect::python_repr(*extras.best_checkpoint->score));

  std::string body;
  if (!singles.empty()) body += "<h2>Values</h2>\n" + h::table("values", "metric", "value", singles);
  if (extras.best_checkpoint) {
    const auto& best = *extras.best_checkpoint;
    std::vector<std::pair<std::string, std::string>> info{{"path", best.path}};
    if (!best.monitor.empty()) info.emplace_back("monitor", best.monitor);
    if (best.score) info.emplace_back("score", reflect::python_repr(*best.score));
    body += "<h2>Best checkpoint</h2>\n" + h::table("checkpoint", "", "", info);
  }
  std::size_t charts = 0;
  if (!groups.empty()) {
    body += "<h2>Curves</h2>\n<div class=\"charts\">\n";
    std::stable_partition(groups.begin(), groups.end(), [](const Group& g) { return !g.learning_rate; });
    for (const auto& g : groups) {
      body += "<section class=\"chart-box\">\n" + h::chart(g.quantity, g.series, g.learning_rate) + "</section>\n";
      ++charts;
    }
    body += "</div>\n";
  }
  if (extras.lr_find && !extras.lr_find->lrs.empty()) {
    h::Series curve{"loss", {}};
    const auto& f = *extras.lr_find;
    for (std::size_t i = 0; i < f.lrs.size() && i < f.losses.size(); ++i)
      if (std::isfinite(f.lrs[i]) && std::isfinite(f.losses[i])) curve.points.emplace_back(f.lrs[i], f.losses[i]);
    std::stable_sort(curve.points.begin(), curve.points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    body += "<h2>Learning-rate finder</h2>\n";
    if (f.suggestion) body += fmt::format("<p class=\"note\">suggested lr: {}</p>\n", reflect::python_repr(*f.suggestion));
    body += "<section class=\"chart-box lr-find\">\n" +
            h::chart("lr_find", {curve}, /*log_y=*/false, /*log_x=*/true, "learning rate", f.suggestion) +
            "</section>\n";
    ++charts;
  }
  const auto hparams = h::yaml_rows(extras.hparams_yaml);
  if (!hparams.empty()) body += "<h2>Hyper-parameters</h2>\n" + h::table("hparams", "name", "value", hparams);

  const std::string title = source.empty() ? std::string("metrics") : std::string(source);
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>volt report: {0}</title>\n"
      "<style>\n"
      "body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fafafa; }}\n"
      "h1 {{ font-size: 20px; margin-bottom: 4px; }} h2 {{ font-size: 16px; margin: 20px 0 8px; }}\n"
      ".source, .note {{ color: #666; font-size: 13px; }}\n"
      ".charts {{ display: flex; flex-wrap: wrap; gap: 16px; }}\n"
      ".chart-box {{ border: 1px solid #ddd; border-radius: 6px; background: #fff; }}\n"
      "table {{ border-collapse: collapse; background: #fff; font-size: 13px; }}\n"
      "td, th {{ border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }}\n"
      "th {{ background: #f0f0f0; }} td.value {{ font-family: ui-monospace, monospace; white-space: pre-wrap; }}\n"
      "svg text {{ font-size: 12px; fill: #444; }} svg text.title {{ font-size: 14px; font-weight: 600; fill: #111; }}\n"
      "svg .scale {{ font-weight: 400; fill: #777; }}\n"
      ".grid {{ stroke: #e6e6e6; stroke-width: 1; }} .frame {{ fill: none; stroke: #999; stroke-width: 1; }}\n"
      ".series {{ stroke-width: 1.6; }} .marker {{ stroke: #d62728; stroke-dasharray: 4 3; stroke-width: 1.5; }}\n"
      "</style>\n</head>\n<body>\n<h1>Run report</h1>\n<p class=\"source\">{0}: {1} rows, {2} charts, {3} "
      "single values</p>\n",
      h::escape(title), rows.empty() ? 0 : rows.size() - 1, charts, singles.size());
  html += body;
  html += "</body>\n</html>\n";
  return html;
}

VOLT_INLINE void write_html_report(const std::filesystem::path& metrics_csv, const std::filesystem::path& out_html,
                              HtmlReportExtras extras) {
  const std::string text = read_file(metrics_csv);
  const auto dir = metrics_csv.parent_path();
  if (extras.hparams_yaml.empty() && std::filesystem::exists(dir / "hparams.yaml"))
    extras.hparams_yaml = read_file(dir / "hparams.yaml");
  if (!extras.lr_find && std::filesystem::exists(dir / "lr_find.csv"))
    extras.lr_find = detail::html::read_lr_find(read_file(dir / "lr_find.csv"));
  if (out_html.has_parent_path()) std::filesystem::create_directories(out_html.parent_path());
  write_file_atomically(out_html, html_report(text, metrics_csv.string(), extras));
}

}  // namespace volt::loggers
