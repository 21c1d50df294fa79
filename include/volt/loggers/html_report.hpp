#pragma once
// A one-file HTML report of a run, written next to the metrics.csv a CSVLogger wrote: the page a
// person opens after training. Inline SVG and CSS, no JavaScript and no external files, so it
// opens anywhere (CI artifacts, mail).
//
// What it shows:
//   - one chart per quantity, with the train / val / test curves of that quantity overlaid
//     (`train_loss` with `val_loss`, `loss_step` with `loss_epoch`: html_metric_quantity), x =
//     step, gridlines and tick labels on both axes, a legend, and point markers with tooltips;
//   - learning rates (LearningRateMonitor's `lr-<Optimizer>[/pg<N>]` columns) on one chart with a
//     log y axis;
//   - single values (a column with one finite value: test metrics, a one-epoch validation) and
//     the best checkpoint's score as a table, not as one-point charts; `step` and `epoch` are
//     axes, not metrics;
//   - the run's hyper-parameters (hparams.yaml beside metrics.csv), the best checkpoint and its
//     score, and the tuner's learning-rate finder curve when there is one (HtmlReportExtras, or
//     lr_find.csv beside metrics.csv: columns lr, loss and an optional suggestion marked by a
//     non-empty `suggestion` cell).
//
// For tools and tests every chart's <svg> carries data-quantity, data-scale (linear / log) and
// its axes' domains (data-x-domain, data-y-domain: "lo hi", Python's repr), every curve a
// <polyline class="series"> with data-metric and data-points, and the plot area is fixed
// (html_chart_geometry), so points map back to data.
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
#include <volt/detail/config.hpp>

namespace volt::loggers {

// Pixel layout of every chart: the plot area is [left, width - right] x [top, height - bottom];
// the legend sits in the right margin.
struct html_chart_geometry {
  static constexpr double width = 760, height = 320;
  static constexpr double left = 72, right = 168, top = 40, bottom = 44;
  static constexpr double plot_width = width - left - right;
  static constexpr double plot_height = height - top - bottom;
  static constexpr std::size_t max_markers = 200;  // point markers (with tooltips) up to this many points
};

// What the report shows beside metrics.csv; the loops fill it from the run's callbacks.
struct HtmlReportExtras {
  std::string hparams_yaml{};  // the text of hparams.yaml (empty: read it from beside metrics.csv)
  struct BestCheckpoint {
    std::string path;
    std::string monitor;
    std::optional<double> score;
  };
  std::optional<BestCheckpoint> best_checkpoint{};
  struct LrFind {
    std::vector<double> lrs, losses;
    std::optional<double> suggestion{};
  };
  std::optional<LrFind> lr_find{};  // none: read lr_find.csv from beside metrics.csv, if there
};

// How the report groups a column: the quantity it measures (the chart's title) and whether it
// is a learning rate (log axis). "train_loss", "val_loss", "loss_step", "train/loss_epoch" all
// measure "loss"; "lr-SGD" and "lr-Adam/pg1" are learning rates; "lr-SGD-momentum" is "momentum".
struct HtmlMetricQuantity {
  std::string quantity;
  bool learning_rate = false;
};

VOLT_INLINE HtmlMetricQuantity html_metric_quantity(std::string_view name);

namespace detail::html {

VOLT_INLINE std::string escape(std::string_view s);

VOLT_INLINE std::optional<double> parse_number(std::string_view s);

// Tick label: short, exact for integers.
VOLT_INLINE std::string label(double v);

// An axis: its domain (niced outward to whole ticks) and its ticks.
struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;
  VOLT_INLINE double position(double v) const;
};

// Linear ticks at 1, 2 or 5 times a power of ten, about `target` of them; a flat range gets a
// margin around its value. `integers`: steps never finer than 1 (the step axis).
VOLT_INLINE Axis linear_axis(double lo, double hi, int target, bool integers);

// Log ticks at powers of ten, the domain widened to whole decades (at least one).
VOLT_INLINE Axis log_axis(double lo, double hi);

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), sorted by x
};

inline constexpr std::string_view palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                              "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// One chart: the series overlaid, gridlines and tick labels, a legend. `log_y` is honoured when
// every value is positive; `log_x` likewise (the LR finder's lr axis).
VOLT_INLINE std::string chart(std::string_view title, const std::vector<Series>& series, bool log_y, bool log_x = false,
                         std::string_view x_label = "step", std::optional<double> marker_x = std::nullopt);

// hparams.yaml as rows: a top-level "key: value" per row; indented lines (nested values) join
// their key's value.
VOLT_INLINE std::vector<std::pair<std::string, std::string>> yaml_rows(std::string_view text);

VOLT_INLINE std::string table(std::string_view css_class, std::string_view head_key, std::string_view head_value,
                         const std::vector<std::pair<std::string, std::string>>& rows);

// lr_find.csv: columns lr, loss; the row with a non-empty `suggestion` cell is the suggestion.
VOLT_INLINE std::optional<HtmlReportExtras::LrFind> read_lr_find(std::string_view text);

}  // namespace detail::html

// The report for a metrics.csv's text; `source` is shown under the heading.
VOLT_INLINE std::string html_report(std::string_view metrics_csv_text, std::string_view source = {},
                               const HtmlReportExtras& extras = {});

// Reads `metrics_csv` and writes the report to `out_html` (atomically, creating its folder);
// hparams.yaml and lr_find.csv beside `metrics_csv` are shown when `extras` has none.
VOLT_INLINE void write_html_report(const std::filesystem::path& metrics_csv, const std::filesystem::path& out_html,
                              HtmlReportExtras extras = {});

}  // namespace volt::loggers

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loggers/impl/html_report.ipp>
#endif
