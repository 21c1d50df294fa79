// The HTML report: curves of one quantity overlaid on one chart whose points map back to the
// data through the chart's domains and the fixed plot area, learning rates on a log axis,
// single values and the best checkpoint as tables, hyper-parameters, the LR finder curve; and
// the same page rendered by headless Chromium (skipped where it is not installed).
#include <volt/loggers/csv_logger.hpp>
#include <volt/loggers/html_report.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace fs = std::filesystem;
using G = volt::loggers::html_chart_geometry;
using volt_test::LogTempDir;
using volt_test::slurp;

namespace {

struct Chart {
  std::string quantity, scale;
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  std::map<std::string, std::vector<std::pair<double, double>>> series;  // metric -> data points
  std::size_t grid_lines = 0, y_ticks = 0, x_ticks = 0;
};

std::pair<double, double> pair_of(const std::string& s) {
  std::istringstream in(s);
  double a = 0, b = 0;
  in >> a >> b;
  return {a, b};
}

// Every chart of a report, its polylines mapped from pixels back to data.
std::map<std::string, Chart> parse_charts(const std::string& html) {
  std::map<std::string, Chart> charts;
  const std::regex svg_re(R"re(<svg [^>]*class="chart"[^>]*>([\s\S]*?)</svg>)re");
  const std::regex attr_re(R"re(data-([a-z-]+)="([^"]*)")re");
  const std::regex line_re(R"re(<polyline class="series" data-metric="([^"]*)" data-points="(\d+)"[^>]* points="([^"]*)")re");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), svg_re); it != std::sregex_iterator(); ++it) {
    Chart c;
    const std::string whole = it->str(0);
    const std::string tag = whole.substr(0, whole.find('>'));
    for (auto a = std::sregex_iterator(tag.begin(), tag.end(), attr_re); a != std::sregex_iterator(); ++a) {
      const std::string k = (*a)[1], v = (*a)[2];
      if (k == "quantity") c.quantity = v;
      if (k == "scale") c.scale = v;
      if (k == "x-domain") std::tie(c.x_lo, c.x_hi) = pair_of(v);
      if (k == "y-domain") std::tie(c.y_lo, c.y_hi) = pair_of(v);
    }
    const bool log_y = c.scale == "log";
    const std::string body = (*it)[1];
    for (auto l = std::sregex_iterator(body.begin(), body.end(), line_re); l != std::sregex_iterator(); ++l) {
      auto& points = c.series[(*l)[1]];
      std::istringstream pts((*l)[3].str());
      for (std::string p; pts >> p;) {
        const auto comma = p.find(',');
        const double px = std::stod(p.substr(0, comma)), py = std::stod(p.substr(comma + 1));
        const double fx = (px - G::left) / G::plot_width, fy = (G::height - G::bottom - py) / G::plot_height;
        const double x = c.x_lo + fx * (c.x_hi - c.x_lo);
        const double y = log_y ? std::pow(10.0, std::log10(c.y_lo) + fy * (std::log10(c.y_hi) - std::log10(c.y_lo)))
                               : c.y_lo + fy * (c.y_hi - c.y_lo);
        points.emplace_back(x, y);
      }
      CHECK(points.size() == std::stoul((*l)[2]));
    }
    const auto count = [&](const std::string& needle) {
      std::size_t n = 0;
      for (auto at = body.find(needle); at != std::string::npos; at = body.find(needle, at + 1)) ++n;
      return n;
    };
    c.grid_lines = count("class=\"grid\"");
    c.y_ticks = count("class=\"tick y-tick\"");
    c.x_ticks = count("class=\"tick x-tick\"");
    charts[c.quantity] = std::move(c);
  }
  return charts;
}

// A run as a CSVLogger writes it: 5 epochs of 20 steps, step metrics and the learning rate
// every 5 steps, epoch metrics at each epoch's last step, one test row at the end.
struct LoggedRun {
  std::vector<std::pair<double, double>> train_step, lr, train_epoch, val_loss, val_acc;
  double test_loss = 0.3125, test_acc = 0.890625;
  fs::path metrics_csv;

  explicit LoggedRun(const fs::path& dir) {
    volt::loggers::CSVLogger logger{{.save_dir = dir}};
    for (int epoch = 0; epoch < 5; ++epoch) {
      const double lr_now = 0.1 * std::pow(0.5, epoch);
      for (int step = epoch * 20; step < epoch * 20 + 20; ++step) {
        if ((step + 1) % 5 == 0) {
          const double loss = 2.0 / (1 + 0.1 * step) + 0.05 * std::sin(step);
          logger.log_metrics({{"train_loss_step", loss}, {"lr-SGD", lr_now}, {"epoch", double(epoch)}}, step);
          train_step.emplace_back(step, loss);
          lr.emplace_back(step, lr_now);
        }
      }
      const double last = epoch * 20 + 19;
      const double tl = 1.6 / (1 + epoch), vl = 1.7 / (1 + 0.8 * epoch), va = 0.6 + 0.06 * epoch;
      logger.log_metrics({{"train_loss_epoch", tl}, {"val_loss", vl}, {"val_acc", va}, {"epoch", double(epoch)}},
                         static_cast<std::int64_t>(last));
      train_epoch.emplace_back(last, tl);
      val_loss.emplace_back(last, vl);
      val_acc.emplace_back(last, va);
    }
    logger.log_metrics({{"test_loss", test_loss}, {"test_acc", test_acc}}, 99);
    logger.finalize("success");
    metrics_csv = logger.metrics_file_path();
    std::ofstream(metrics_csv.parent_path() / "hparams.yaml") << "batch_size: 64\nhidden: 128\nlr: 0.1\nlayers:\n- 784\n- 10\n";
  }
};

void check_points(const std::vector<std::pair<double, double>>& got, const std::vector<std::pair<double, double>>& want,
                  double rel) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].first == Approx(want[i].first).margin(0.05));
    CHECK(got[i].second == Approx(want[i].second).epsilon(rel));
  }
}

volt::loggers::HtmlReportExtras run_extras() {
  volt::loggers::HtmlReportExtras extras;
  extras.best_checkpoint = {"checkpoints/epoch=4-step=100.ckpt", "val_loss", 0.34};
  volt::loggers::HtmlReportExtras::LrFind f;
  for (int i = 0; i <= 40; ++i) {
    const double lr = std::pow(10.0, -6 + 0.15 * i);
    f.lrs.push_back(lr);
    f.losses.push_back(2.3 - 1.5 / (1 + std::exp(-(std::log10(lr) + 3) * 2)) + (lr > 0.1 ? 5 * (lr - 0.1) : 0));
  }
  f.suggestion = f.lrs[18];
  extras.lr_find = f;
  return extras;
}

}  // namespace

TEST_CASE("html_metric_quantity groups train / val / test and step / epoch columns", "[loggers][html_report]") {
  using volt::loggers::html_metric_quantity;
  for (const char* name : {"loss", "train_loss", "val_loss", "test_loss", "loss_step", "train_loss_epoch", "train/loss",
                           "validation_loss"})
    CHECK(html_metric_quantity(name).quantity == "loss");
  CHECK(html_metric_quantity("val_acc").quantity == "acc");
  CHECK(html_metric_quantity("lr-SGD").learning_rate);
  CHECK(html_metric_quantity("lr-Adam/pg1").quantity == "learning rate");
  CHECK(html_metric_quantity("lr-SGD-momentum").quantity == "momentum");
  CHECK_FALSE(html_metric_quantity("lr-SGD-momentum").learning_rate);
  CHECK(html_metric_quantity("train_").quantity == "train_");  // nothing left to name: kept whole
}

TEST_CASE("the report overlays a quantity's curves, puts learning rates on a log axis and single values in a table",
          "[loggers][html_report]") {
  LogTempDir tmp;
  const LoggedRun run(tmp.path);
  const fs::path out = tmp.path / "report" / "report.html";
  volt::loggers::write_html_report(run.metrics_csv, out, run_extras());
  const std::string html = slurp(out);
  const auto charts = parse_charts(html);

  // (CSVLogger sorts its columns, so the legends and tables list metrics by name.)
  // loss (train step + epoch, val), acc, learning rate, lr_find; no `epoch` or `step` chart, no
  // one-point chart for the test metrics.
  REQUIRE(charts.size() == 4);
  REQUIRE(charts.count("loss"));
  REQUIRE(charts.count("acc"));
  REQUIRE(charts.count("learning rate"));
  REQUIRE(charts.count("lr_find"));
  const auto& loss = charts.at("loss");
  CHECK(loss.scale == "linear");
  REQUIRE(loss.series.size() == 3);
  check_points(loss.series.at("train_loss_step"), run.train_step, 1e-3);
  check_points(loss.series.at("train_loss_epoch"), run.train_epoch, 1e-3);
  check_points(loss.series.at("val_loss"), run.val_loss, 1e-3);
  check_points(charts.at("acc").series.at("val_acc"), run.val_acc, 1e-3);
  // Gridlines and tick labels on both axes, niced outward to whole ticks.
  CHECK(loss.y_ticks >= 3);
  CHECK(loss.x_ticks >= 3);
  CHECK(loss.grid_lines == loss.y_ticks + loss.x_ticks);
  CHECK(loss.x_lo <= 4);
  CHECK(loss.x_hi >= 99);
  CHECK(html.find(">100</text>") != std::string::npos);  // the step axis ends on a round tick

  const auto& lr = charts.at("learning rate");
  CHECK(lr.scale == "log");
  CHECK(lr.y_lo == Approx(1e-3));  // 0.00625 .. 0.1 widened to whole decades
  CHECK(lr.y_hi == Approx(0.1));
  check_points(lr.series.at("lr-SGD"), run.lr, 1e-3);
  CHECK(html.find("(log scale)") != std::string::npos);

  // The LR finder: lr on a log x axis, the suggestion marked.
  const auto& finder = charts.at("lr_find");
  CHECK(finder.series.at("loss").size() == 41);
  CHECK(html.find("data-x-scale=\"log\"") != std::string::npos);
  CHECK(html.find("<line class=\"marker\"") != std::string::npos);
  CHECK(html.find("suggested lr: " + volt::reflect::python_repr(*run_extras().lr_find->suggestion)) != std::string::npos);

  // Single values, the best checkpoint and the hyper-parameters as tables.
  CHECK(html.find("<td class=\"key\">test_loss</td><td class=\"value\">0.3125</td>") != std::string::npos);
  CHECK(html.find("<td class=\"key\">test_acc</td><td class=\"value\">0.890625</td>") != std::string::npos);
  CHECK(html.find("<td class=\"key\">best val_loss (ModelCheckpoint)</td><td class=\"value\">0.34</td>") !=
        std::string::npos);
  CHECK(html.find("<td class=\"key\">path</td><td class=\"value\">checkpoints/epoch=4-step=100.ckpt</td>") !=
        std::string::npos);
  CHECK(html.find("<td class=\"key\">hidden</td><td class=\"value\">128</td>") != std::string::npos);
  CHECK(html.find("<td class=\"key\">layers</td><td class=\"value\">- 784\n- 10</td>") != std::string::npos);
  CHECK(html.find("data-quantity=\"epoch\"") == std::string::npos);
  CHECK(html.find("4 charts, 3 single values") != std::string::npos);
}

TEST_CASE("the report reads lr_find.csv beside metrics.csv; a flat series and an empty file still render",
          "[loggers][html_report]") {
  LogTempDir tmp;
  volt::loggers::CSVLogger logger{{.save_dir = tmp.path}};
  for (int step = 0; step < 5; ++step) logger.log_metrics({{"loss", 0.5}}, step);
  logger.finalize("success");
  std::ofstream(logger.log_dir() / "lr_find.csv") << "lr,loss,suggestion\n0.001,2.0,\n0.01,1.0,x\n0.1,3.0,\n";
  const fs::path out = logger.log_dir() / "report.html";
  volt::loggers::write_html_report(logger.metrics_file_path(), out);
  const auto charts = parse_charts(slurp(out));
  REQUIRE(charts.count("loss"));
  CHECK(charts.at("loss").y_lo < 0.5);  // a flat series gets a margin around its value
  CHECK(charts.at("loss").y_hi > 0.5);
  check_points(charts.at("loss").series.at("loss"), {{0, 0.5}, {1, 0.5}, {2, 0.5}, {3, 0.5}, {4, 0.5}}, 1e-6);
  REQUIRE(charts.count("lr_find"));
  check_points(charts.at("lr_find").series.at("loss"), {{0.001, 2.0}, {0.01, 1.0}, {0.1, 3.0}}, 1e-3);
  CHECK(slurp(out).find("suggested lr: 0.01") != std::string::npos);
  CHECK(volt::loggers::html_report("").find("0 rows, 0 charts, 0 single values") != std::string::npos);
}

namespace {

bool has_chromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

// Headless Chromium, bounded in time, with a fresh profile; returns its stdout.
std::string run_chromium(const fs::path& profile, const std::string& args) {
  const fs::path stdout_file = profile.parent_path() / "chromium.out";
  const std::string cmd = "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                          "--disable-background-networking --disable-component-update --disable-sync "
                          "--user-data-dir='" + profile.string() + "' " + args + " >'" + stdout_file.string() +
                          "' 2>/dev/null";
  const int rc = std::system(cmd.c_str());
  INFO(cmd);
  CHECK(rc == 0);
  return slurp(stdout_file);
}

}  // namespace

TEST_CASE("headless Chromium renders the report without errors, with the expected series", "[loggers][html_report][browser]") {
  if (!has_chromium()) {
    WARN("chromium is not installed (Debian package `chromium`): the browser test of the HTML report is skipped");
    return;
  }
  LogTempDir tmp;
  const LoggedRun run(tmp.path);
  const fs::path report = tmp.path / "report.html";
  volt::loggers::write_html_report(run.metrics_csv, report, run_extras());

  // The page as the report wrote it, with a probe: errors are recorded from the first byte on,
  // and after layout a script writes what the browser made of each chart into <pre id=probe>.
  std::string page = slurp(report);
  page.insert(page.find("<head>") + 6,
              "<script>window.__errors=[];addEventListener('error',e=>__errors.push(String(e.message||e.type)),true);"
              "</script>");
  page.insert(page.rfind("</body>"), R"js(<script>
const charts = [...document.querySelectorAll('svg.chart')].map(svg => ({
  quantity: svg.dataset.quantity,
  width: svg.getBoundingClientRect().width,
  grid: svg.querySelectorAll('line.grid').length,
  ticks: [...svg.querySelectorAll('text.tick')].filter(t => t.getBBox().width > 0).length,
  series: [...svg.querySelectorAll('polyline.series')].map(p => ({
    metric: p.dataset.metric, points: p.points.numberOfItems, length: p.getTotalLength()})),
  legend: [...svg.querySelectorAll('g.legend')].map(g => g.dataset.metric)}));
const rows = [...document.querySelectorAll('table.values td.key')].map(td => td.textContent);
document.body.insertAdjacentHTML('beforeend', '<pre id="probe">' +
  JSON.stringify({errors: __errors, title: document.title, charts, rows}).replace(/</g, '\\u003c') + '</pre>');
</script>)js");
  const fs::path probe_page = tmp.path / "probe.html";
  std::ofstream(probe_page) << page;

  const std::string dom = run_chromium(tmp.path / "profile", "--dump-dom 'file://" + probe_page.string() + "'");
  const auto begin = dom.rfind("<pre id=\"probe\">");  // after the script that writes it
  REQUIRE(begin != std::string::npos);
  const auto end = dom.find("</pre>", begin);
  const auto probe = nlohmann::json::parse(dom.substr(begin + 16, end - begin - 16));
  INFO(probe.dump(2));
  CHECK(probe["errors"].empty());
  CHECK(probe["title"].get<std::string>().rfind("volt report: ", 0) == 0);
  std::map<std::string, nlohmann::json> by_quantity;
  for (const auto& c : probe["charts"]) by_quantity[c["quantity"].get<std::string>()] = c;
  REQUIRE(by_quantity.size() == 4);
  const auto& loss = by_quantity.at("loss");
  CHECK(loss["width"].get<double>() == Approx(G::width));
  std::map<std::string, nlohmann::json> series;
  for (const auto& s : loss["series"]) series[s["metric"].get<std::string>()] = s;
  REQUIRE(series.size() == 3);
  CHECK(series.at("train_loss_step")["points"] == run.train_step.size());
  CHECK(series.at("train_loss_epoch")["points"] == 5);
  CHECK(series.at("val_loss")["points"] == 5);
  for (const auto& [name, s] : series) CHECK(s["length"].get<double>() > 50);  // drawn, not degenerate
  CHECK(loss["legend"] == nlohmann::json::array({"train_loss_epoch", "train_loss_step", "val_loss"}));
  CHECK(loss["grid"].get<int>() >= 6);
  CHECK(loss["ticks"].get<int>() == loss["grid"].get<int>());  // every gridline has a visible label
  CHECK(by_quantity.at("learning rate")["series"][0]["metric"] == "lr-SGD");
  CHECK(by_quantity.at("acc")["series"][0]["points"] == 5);
  CHECK(by_quantity.at("lr_find")["series"][0]["points"] == 41);
  CHECK(probe["rows"] == nlohmann::json::array({"test_acc", "test_loss", "best val_loss (ModelCheckpoint)"}));

  // A screenshot of the report itself (docs/html_report.png was made this way); a PNG it is.
  const fs::path png = tmp.path / "report.png";
  run_chromium(tmp.path / "profile2",
               "--hide-scrollbars --window-size=1280,1950 --screenshot='" + png.string() + "' 'file://" + report.string() + "'");
  const std::string bytes = slurp(png);
  REQUIRE(bytes.size() > 1000);
  CHECK(bytes.substr(1, 3) == "PNG");
  if (const char* keep = std::getenv("VOLT_REPORT_SCREENSHOT")) fs::copy_file(png, keep, fs::copy_options::overwrite_existing);
}
