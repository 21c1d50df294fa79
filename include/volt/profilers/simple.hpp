#pragma once
// volt::SimpleProfiler: Lightning's SimpleProfiler (profilers/simple.py). Put it among the
// Trainer's callbacks (Lightning's Trainer(profiler="simple")):
//
//   volt::Trainer<Net, Data, volt::SingleDevice, volt::precision::FP32, volt::SimpleProfiler> trainer{
//       {.max_epochs = 3}, {}, {}, volt::SimpleProfiler{{.filename = "perf_logs"}}};
//
// The loops time every hook call and loop phase under Lightning's action names:
//   [LightningModule]<Module>.<hook>, [Callback]<Callback>.<hook>,
//   [LightningDataModule]<DataModule>.<hook>, run_training_epoch, run_training_batch.
// The names are made once per (kind, type, hook) from the hook tags (loops/profiling.hpp); with
// no profiler among the callbacks the timing code is not instantiated at all.
//
// At the end of each stage (teardown) the report (Lightning's extended table: mean, number of
// calls, total, percentage of the stage's time) is printed, or written to
// <dirpath>/<stage>-<filename>-<local_rank>.txt when a filename is given (dirpath: the
// default_root_dir when empty).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>

namespace volt {

struct SimpleProfilerOptions {
  std::filesystem::path dirpath{};  // empty: the Trainer's default_root_dir
  std::string filename{};           // empty: print the report instead of writing it
  bool extended = true;             // the calls and percentage columns
};

class SimpleProfiler {
 public:
  static constexpr bool is_profiler = true;  // the loops look for this (loops/profiling.hpp)

  SimpleProfiler() = default;
  explicit SimpleProfiler(SimpleProfilerOptions options) : options_(std::move(options)) {}

  using clock = std::chrono::steady_clock;

  // Lightning's start / stop: an action may not be started twice before it stops.
  void start(std::string_view action) {
    auto [it, inserted] = running_.try_emplace(std::string(action), clock::now());
    if (!inserted) throw std::logic_error(fmt::format("volt: SimpleProfiler: attempted to start {} which has already started.", action));
  }
  void stop(std::string_view action) {
    const auto end = clock::now();
    const auto it = running_.find(std::string(action));
    if (it == running_.end())
      throw std::logic_error(fmt::format(
          "volt: SimpleProfiler: attempting to stop recording an action ({}) which was never started.", action));
    record(it->first, std::chrono::duration<double>(end - it->second).count());
    running_.erase(it);
  }
  // A finished action's duration in seconds (what the loops' scopes report; the names they pass
  // are made once, so a call costs one hash look-up).
  void record(const std::string& action, double seconds) {
    auto it = durations_.find(action);
    if (it == durations_.end()) {
      it = durations_.emplace(action, Durations{}).first;
      order_.push_back(it->first);
    }
    it->second.total += seconds;
    it->second.count += 1;
  }

  struct Row {
    std::string action;
    double mean = 0.0;
    std::int64_t calls = 0;
    double total = 0.0;
    double percentage = 0.0;
  };
  // Lightning's _make_report_extended: by percentage of the stage's time, largest first.
  std::vector<Row> rows() const {
    const double elapsed = std::chrono::duration<double>(clock::now() - started_).count();
    std::vector<Row> out;
    for (const auto& name : order_) {
      const auto& d = durations_.at(name);
      out.push_back({name, d.total / static_cast<double>(d.count), d.count, d.total,
                     elapsed > 0 ? 100.0 * d.total / elapsed : 0.0});
    }
    std::stable_sort(out.begin(), out.end(), [](const Row& a, const Row& b) { return a.percentage > b.percentage; });
    return out;
  }

  // Lightning's summary(): "<STAGE> Profiler Report" and the table.
  std::string summary() const {
    std::string out = stage_.empty() ? "" : upper(stage_) + " ";
    out += "Profiler Report\n";
    if (durations_.empty()) return out;
    std::size_t width = 0;
    for (const auto& name : order_) width = std::max(width, name.size());
    const auto report = rows();
    auto row = [&](std::string_view a, std::string_view mean, std::string_view calls, std::string_view total,
                   std::string_view per) {
      if (options_.extended)
        return fmt::format("\n|  {:<{}}\t|  {:<15}\t|  {:<15}\t|  {:<15}\t|  {:<15}\t|", a, width, mean, calls, total, per);
      return fmt::format("\n|  {:<{}}\t|  {:<15}\t|  {:<15}\t|", a, width, mean, total);
    };
    const std::string header = row("Action", "Mean duration (s)", "Num calls", "Total time (s)", "Percentage %");
    const std::string line = "\n" + std::string(expanded_length(header) + 1, '-');  // len() counts the newline
    out += line + header + line;
    if (options_.extended) {
      std::int64_t calls = 0;
      for (const auto& r : report) calls += r.calls;
      const double elapsed = std::chrono::duration<double>(clock::now() - started_).count();
      out += row("Total", "-", std::to_string(calls), fmt::format("{:.5}", elapsed), "100 %") + line;
    }
    for (const auto& r : report)
      out += row(r.action, fmt::format("{:.5}", r.mean), std::to_string(r.calls), fmt::format("{:.5}", r.total),
                 fmt::format("{:.5}", r.percentage));
    return out + line + "\n";
  }

  // The file the report of `stage` goes to (empty without a filename).
  std::filesystem::path report_path(std::string_view stage, std::int64_t local_rank,
                                    const std::filesystem::path& default_dir) const {
    if (options_.filename.empty()) return {};
    const auto dir = options_.dirpath.empty() ? default_dir : options_.dirpath;
    return dir / fmt::format("{}-{}-{}.txt", stage, options_.filename, local_rank);
  }

  // --- hooks: each stage's report covers that stage ---
  void setup(Stage stage, Context&) {
    durations_.clear();
    order_.clear();
    running_.clear();
    stage_ = std::string(to_string(stage));
    started_ = clock::now();
  }
  void teardown(Stage stage, Context& ctx) {
    const auto path = report_path(to_string(stage), ctx.local_rank(), ctx.default_root_dir());
    const std::string text = summary();
    if (path.empty()) {
      std::cout << text << std::flush;
      return;
    }
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    std::ofstream file(path, std::ios::binary);
    file << text;
    if (!file) throw std::runtime_error("volt: SimpleProfiler: could not write the report to " + path.string());
  }

  const SimpleProfilerOptions& options() const noexcept { return options_; }

 private:
  struct Durations {
    double total = 0.0;
    std::int64_t count = 0;
  };
  static std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }
  static std::size_t expanded_length(std::string_view s) {  // Python's str.expandtabs() length
    std::size_t col = 0, longest = 0;
    for (char c : s) {
      if (c == '\n') col = 0;
      else if (c == '\t') col += 8 - col % 8;
      else ++col;
      longest = std::max(longest, col);
    }
    return longest;
  }

  SimpleProfilerOptions options_{};
  std::unordered_map<std::string, Durations> durations_;
  std::vector<std::string> order_;
  std::unordered_map<std::string, clock::time_point> running_;
  std::string stage_;
  clock::time_point started_ = clock::now();
};

}  // namespace volt
