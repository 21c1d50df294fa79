// The HTML report: one SVG chart per metric column of a metrics.csv, whose polyline points map
// back to the data through the chart's bounds and the fixed plot area.
#include <volt/loggers/csv_logger.hpp>
#include <volt/loggers/html_report.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
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
using volt_test::slurp;
using volt_test::LogTempDir;

namespace {

struct Chart {
  std::string metric;
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;
  std::vector<std::pair<double, double>> pixels;  // polyline points
};

std::vector<Chart> parse_charts(const std::string& html) {
  std::vector<Chart> charts;
  const std::regex svg_re(R"re(<svg [^>]*data-metric="([^"]*)"[^>]*>([\s\S]*?)</svg>)re");
  const std::regex attr_re(R"re(data-(x-min|x-max|y-min|y-max)="([^"]*)")re");
  const std::regex points_re(R"re(<polyline [^>]*points="([^"]*)")re");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), svg_re); it != std::sregex_iterator(); ++it) {
    Chart c;
    c.metric = (*it)[1];
    const std::string tag = it->str(0).substr(0, it->str(0).find('>'));
    for (auto a = std::sregex_iterator(tag.begin(), tag.end(), attr_re); a != std::sregex_iterator(); ++a) {
      const double v = std::stod((*a)[2]);
      const std::string k = (*a)[1];
      (k == "x-min" ? c.x_min : k == "x-max" ? c.x_max : k == "y-min" ? c.y_min : c.y_max) = v;
    }
    const std::string body = (*it)[2];
    std::smatch m;
    if (std::regex_search(body, m, points_re)) {
      std::istringstream pts(m[1].str());
      std::string pair;
      while (pts >> pair) {
        const auto comma = pair.find(',');
        c.pixels.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
      }
    }
    charts.push_back(std::move(c));
  }
  return charts;
}

// Pixel -> data, the inverse of the report's mapping.
std::pair<double, double> to_data(const Chart& c, std::pair<double, double> px) {
  const double x = c.x_min + (px.first - G::left) / G::plot_width * (c.x_max - c.x_min);
  const double y = c.y_max - (px.second - G::top) / G::plot_height * (c.y_max - c.y_min);
  return {x, y};
}

}  // namespace

TEST_CASE("write_html_report draws one chart per metric with the data's points", "[loggers]") {
  LogTempDir tmp;
  const fs::path csv = tmp.path / "metrics.csv";
  // As CSVLogger writes it: train rows and validation rows interleaved, empty cells, a quoted name.
  std::ofstream(csv, std::ios::binary) << "\"a<b,c\",epoch,step,train_loss,val_acc\r\n"
                                          ",0,0,2.0,\r\n"
                                          ",0,10,1.5,\r\n"
                                          ",0,19,,0.5\r\n"
                                          ",1,20,1.25,\r\n"
                                          ",1,30,0.75,\r\n"
                                          "7,1,39,nan,0.625\r\n";
  const fs::path out = tmp.path / "report" / "index.html";
  volt::loggers::write_html_report(csv, out);
  const std::string html = slurp(out);

  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<script") == std::string::npos);
  const auto charts = parse_charts(html);
  REQUIRE(charts.size() == 4);  // every column but step
  CHECK(charts[0].metric == "a&lt;b,c");
  CHECK(charts[1].metric == "epoch");
  CHECK(charts[2].metric == "train_loss");
  CHECK(charts[3].metric == "val_acc");

  const std::map<std::string, std::vector<std::pair<double, double>>> expected{
      {"epoch", {{0, 0}, {10, 0}, {19, 0}, {20, 1}, {30, 1}, {39, 1}}},
      {"train_loss", {{0, 2.0}, {10, 1.5}, {20, 1.25}, {30, 0.75}}},  // nan and empty cells skipped
      {"val_acc", {{19, 0.5}, {39, 0.625}}},
  };
  for (const auto& c : charts) {
    if (c.metric == "a&lt;b,c") {
      CHECK(c.pixels.size() == 1);  // a single point sits mid-plot
      CHECK(c.pixels[0].first == Approx(G::left + G::plot_width / 2));
      continue;
    }
    INFO(c.metric);
    const auto& want = expected.at(c.metric);
    REQUIRE(c.pixels.size() == want.size());
    CHECK(c.x_min == want.front().first);
    CHECK(c.x_max == want.back().first);
    for (std::size_t i = 0; i < want.size(); ++i) {
      const auto [x, y] = to_data(c, c.pixels[i]);
      CHECK(x == Approx(want[i].first).margin(0.05));
      CHECK(y == Approx(want[i].second).margin(1e-3 * (c.y_max - c.y_min) + 1e-9));
      // Inside the plot area.
      CHECK(c.pixels[i].first >= G::left - 1e-9);
      CHECK(c.pixels[i].first <= G::width - G::right + 1e-9);
      CHECK(c.pixels[i].second >= G::top - 1e-9);
      CHECK(c.pixels[i].second <= G::height - G::bottom + 1e-9);
    }
  }
  // Axis labels: min and max of each axis.
  CHECK(html.find("<text class=\"y-max\" x=\"74\" y=\"40\" text-anchor=\"end\">2</text>") != std::string::npos);
  CHECK(html.find("<text class=\"y-min\" x=\"74\" y=\"260\" text-anchor=\"end\">0.75</text>") != std::string::npos);
  CHECK(html.find(">39</text>") != std::string::npos);
}

TEST_CASE("html_report of a CSVLogger run", "[loggers]") {
  LogTempDir tmp;
  volt::loggers::CSVLogger logger{{.save_dir = tmp.path}};
  for (int step = 0; step < 50; ++step) logger.log_metrics({{"loss", 1.0 / (1 + step)}}, step);
  logger.finalize("success");
  const std::string html = volt::loggers::html_report(slurp(logger.metrics_file_path()), "run");
  const auto charts = parse_charts(html);
  REQUIRE(charts.size() == 1);
  CHECK(charts[0].metric == "loss");
  REQUIRE(charts[0].pixels.size() == 50);
  const auto first = to_data(charts[0], charts[0].pixels.front());
  const auto last = to_data(charts[0], charts[0].pixels.back());
  CHECK(first.first == Approx(0).margin(0.05));
  CHECK(first.second == Approx(1.0).margin(1e-3));
  CHECK(last.first == Approx(49).margin(0.05));
  CHECK(last.second == Approx(1.0 / 50).margin(1e-3));
  CHECK(volt::loggers::html_report("").find("0 rows, 0 metrics") != std::string::npos);
}
