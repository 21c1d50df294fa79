#pragma once
// volt::TorchProfiler: Lightning's PyTorchProfiler (profilers/pytorch.py, Trainer(profiler="pytorch"))
// over libtorch 1.13's legacy autograd profiler, the one Debian's libtorch has (it is built
// without Kineto, so there is no wait/warmup/active schedule: each stage is recorded whole, as
// Lightning does with torch.autograd.profiler.profile). Put it among the Trainer's callbacks:
//
//   volt::Trainer<Net, Data, volt::SingleDevice, volt::precision::FP32, volt::TorchProfiler> trainer{
//       {.max_epochs = 1}, {}, {}, volt::TorchProfiler{{.filename = "perf"}}};
//
// Every action the loops profile (loops/profiling.hpp: hooks, loop phases, strategy calls, batch
// fetches, under Lightning's names such as "[LightningModule]Net.training_step") is a
// record_function range (at::RecordScope::USER_SCOPE), so torch's operators nest under them.
// At the end of each stage (teardown) it writes
//   <dirpath>/<stage>-<filename>-<local_rank>.pt.trace.json   Chrome trace (chrome://tracing, Perfetto)
// and the summary table of the top operators and actions (torch's key_averages().table():
// self and total CPU time, average, calls), printed, or written to
// <dirpath>/<stage>-<filename>-<local_rank>.txt when a filename is given (dirpath: the
// default_root_dir when empty). Profiling records the thread that runs the loops (and the
// at::launch tasks it starts), not a DataLoader's worker threads.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ATen/record_function.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/csrc/profiler/api.h>
#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>

namespace volt {

struct TorchProfilerOptions {
  std::filesystem::path dirpath{};            // empty: the Trainer's default_root_dir
  std::string filename{};                     // empty: print the summary; the trace is written either way
  bool record_shapes = false;                 // torch's record_shapes (operators' input shapes)
  bool profile_memory = false;                // torch's profile_memory
  std::string sort_by_key = "cpu_time_total";  // Lightning's default on CPU; or self_cpu_time_total, cpu_time, count
  std::int64_t row_limit = 20;                // rows of the summary table (Lightning's default); -1: all
};

class TorchProfiler {
 public:
  static constexpr bool is_profiler = true;  // the loops look for this (loops/profiling.hpp)

  // An action while it runs: a record_function range, as Lightning's
  // torch.autograd.profiler.record_function(action_name).
  class Range {
   public:
    explicit Range(const std::string& action) : function_(at::RecordScope::USER_SCOPE) {
      if (function_.isActive()) function_.before(action);
    }

   private:
    at::RecordFunction function_;
  };
  using range_type = Range;

  // One row of the summary: an operator or an action, over the stage.
  struct Row {
    std::string name;
    std::int64_t calls = 0;
    double self_cpu_us = 0.0;   // its own time, its children's excluded
    double cpu_total_us = 0.0;  // with its children
    double cpu_avg_us() const { return calls > 0 ? cpu_total_us / static_cast<double>(calls) : 0.0; }
  };

  TorchProfiler() = default;
  explicit TorchProfiler(TorchProfilerOptions options) : options_(std::move(options)) {
    constexpr std::string_view keys[] = {"cpu_time_total", "self_cpu_time_total", "cpu_time", "count"};
    if (std::find(std::begin(keys), std::end(keys), options_.sort_by_key) == std::end(keys))
      throw std::invalid_argument(fmt::format(
          "volt: TorchProfiler: sort_by_key '{}' is not known; use one of cpu_time_total, self_cpu_time_total, "
          "cpu_time, count.",
          options_.sort_by_key));
    if (options_.row_limit == 0 || options_.row_limit < -1)
      throw std::invalid_argument(fmt::format(
          "volt: TorchProfiler: row_limit {} shows no rows; give a positive number, or -1 for all.", options_.row_limit));
  }
  // While a stage runs the profiler owns its thread's profiler state: a copy does not.
  TorchProfiler(const TorchProfiler& other)
      : options_(other.options_), stage_(other.stage_), rows_(other.rows_), trace_path_(other.trace_path_),
        total_self_us_(other.total_self_us_) {}
  TorchProfiler(TorchProfiler&& other) noexcept
      : options_(std::move(other.options_)), stage_(std::move(other.stage_)), rows_(std::move(other.rows_)),
        trace_path_(std::move(other.trace_path_)), total_self_us_(other.total_self_us_),
        recording_(std::exchange(other.recording_, false)) {}
  TorchProfiler& operator=(const TorchProfiler&) = delete;
  ~TorchProfiler() {
    if (recording_) torch::autograd::profiler::disableProfilerLegacy();  // a stage that threw: events dropped
  }

  // The files of `stage`: the trace, and the summary (empty without a filename).
  std::filesystem::path trace_path(std::string_view stage, std::int64_t local_rank,
                                   const std::filesystem::path& default_dir) const {
    return directory(default_dir) / (file_stem(stage, local_rank) + ".pt.trace.json");
  }
  std::filesystem::path summary_path(std::string_view stage, std::int64_t local_rank,
                                     const std::filesystem::path& default_dir) const {
    if (options_.filename.empty()) return {};
    return directory(default_dir) / (file_stem(stage, local_rank) + ".txt");
  }

  // --- hooks: each stage is recorded on its own ---
  void setup(Stage stage, Context&) {
    if (recording_) {  // an earlier stage that failed without on_exception (validate, test): its events are dropped
      torch::autograd::profiler::disableProfilerLegacy();
      recording_ = false;
    }
    if (torch::profiler::impl::profilerEnabled())
      throw std::logic_error(
          "volt: TorchProfiler: torch's profiler is already running on this thread (another profiler, or a "
          "RecordProfile guard around the Trainer); stop it before the stage, or drop the TorchProfiler.");
    stage_ = std::string(to_string(stage));
    rows_.clear();
    trace_path_.clear();
    total_self_us_ = 0.0;
    torch::autograd::profiler::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(
        torch::profiler::impl::ProfilerState::CPU, options_.record_shapes, options_.profile_memory));
    recording_ = true;
  }
  void teardown(Stage stage, Context& ctx) {
    if (!recording_) return;
    recording_ = false;
    const auto lists = torch::autograd::profiler::disableProfilerLegacy();
    const auto spans = match_ranges(lists);
    summarize(spans);
    trace_path_ = trace_path(to_string(stage), ctx.local_rank(), ctx.default_root_dir());
    write_file(trace_path_, chrome_trace(spans).dump(1));
    const std::string text = summary();
    const auto path = summary_path(to_string(stage), ctx.local_rank(), ctx.default_root_dir());
    if (path.empty()) std::cout << text << std::flush;
    else write_file(path, text);
  }
  void on_exception(const std::exception&, Context&) {
    if (recording_) torch::autograd::profiler::disableProfilerLegacy();
    recording_ = false;
  }

  // The last stage's summary rows, sorted by sort_by_key, all of them (the table shows row_limit).
  const std::vector<Row>& rows() const noexcept { return rows_; }
  const std::filesystem::path& last_trace_path() const noexcept { return trace_path_; }
  const TorchProfilerOptions& options() const noexcept { return options_; }

  // torch's key_averages().table() layout, headed like Lightning's "<STAGE> Profiler Report".
  std::string summary() const {
    std::string out = stage_.empty() ? "" : upper(stage_) + " ";
    out += "Profiler Report\n";
    const std::size_t shown = options_.row_limit < 0 ? rows_.size()
                                                     : std::min(rows_.size(), static_cast<std::size_t>(options_.row_limit));
    std::size_t width = 4;
    for (std::size_t i = 0; i < shown; ++i) width = std::max(width, std::min<std::size_t>(rows_[i].name.size(), 80));
    const auto row = [&](std::string_view name, std::string_view a, std::string_view b, std::string_view c,
                         std::string_view d, std::string_view e, std::string_view f) {
      return fmt::format("{:<{}}  {:>12}  {:>12}  {:>12}  {:>12}  {:>12}  {:>12}\n", name, width, a, b, c, d, e, f);
    };
    std::string line = std::string(width, '-');
    for (int column = 0; column < 6; ++column) line += "  " + std::string(12, '-');
    line += '\n';
    out += line;
    out += row("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls");
    out += line;
    const auto percent = [&](double us) {
      return fmt::format("{:.2f}%", total_self_us_ > 0 ? 100.0 * us / total_self_us_ : 0.0);
    };
    for (std::size_t i = 0; i < shown; ++i) {
      const Row& r = rows_[i];
      const std::string name = r.name.size() > width ? r.name.substr(0, width - 3) + "..." : r.name;
      out += row(name, percent(r.self_cpu_us), format_time(r.self_cpu_us), percent(r.cpu_total_us),
                 format_time(r.cpu_total_us), format_time(r.cpu_avg_us()), std::to_string(r.calls));
    }
    out += line;
    return out + fmt::format("Self CPU time total: {}\n", format_time(total_self_us_));
  }

 private:
  struct Span {  // one finished range: an operator or an action
    std::string name;
    std::uint64_t thread = 0;
    double start_us = 0.0;  // from the start of the recording
    double duration_us = 0.0;
    double self_us = 0.0;
    std::vector<std::vector<std::int64_t>> shapes;
  };

  // Pairs each push with its pop (same handle, nested per thread); a range still open when the
  // stage ended, or closed after it began, is dropped.
  static std::vector<Span> match_ranges(const torch::autograd::profiler::thread_event_lists& lists) {
    using torch::autograd::profiler::EventKind;
    using torch::autograd::profiler::LegacyEvent;
    const LegacyEvent* origin = nullptr;
    for (const auto& list : lists)
      for (const auto& e : list)
        if (e.kind() == EventKind::Mark && std::string_view(e.name()) == "__start_profile") origin = &e;
    std::vector<Span> spans;
    if (origin == nullptr) return spans;
    for (const auto& list : lists) {
      struct Open {
        const LegacyEvent* push;
        double children_us;
      };
      std::vector<Open> open;
      for (const auto& e : list) {
        if (e.kind() == EventKind::PushRange) {
          open.push_back({&e, 0.0});
        } else if (e.kind() == EventKind::PopRange) {
          auto it = std::find_if(open.rbegin(), open.rend(), [&](const Open& o) { return o.push->handle() == e.handle(); });
          if (it == open.rend()) continue;
          const Open started = *it;
          open.erase(std::next(it).base(), open.end());  // it and anything left open inside it
          const double duration = started.push->cpuElapsedUs(e);
          spans.push_back({started.push->name(), started.push->threadId(), origin->cpuElapsedUs(*started.push), duration,
                           duration - started.children_us, started.push->shapes()});
          if (!open.empty()) open.back().children_us += duration;
        }
      }
    }
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.start_us < b.start_us; });
    return spans;
  }

  void summarize(const std::vector<Span>& spans) {
    std::map<std::string, Row> by_name;
    for (const auto& s : spans) {
      Row& r = by_name[s.name];
      r.name = s.name;
      r.calls += 1;
      r.self_cpu_us += s.self_us;
      r.cpu_total_us += s.duration_us;
      total_self_us_ += s.self_us;
    }
    rows_.clear();
    for (auto& [name, r] : by_name) rows_.push_back(std::move(r));
    const auto key = [&](const Row& r) {
      if (options_.sort_by_key == "self_cpu_time_total") return r.self_cpu_us;
      if (options_.sort_by_key == "cpu_time") return r.cpu_avg_us();
      if (options_.sort_by_key == "count") return static_cast<double>(r.calls);
      return r.cpu_total_us;
    };
    std::stable_sort(rows_.begin(), rows_.end(), [&](const Row& a, const Row& b) { return key(a) > key(b); });
  }

  // The Chrome trace event format's complete events ("ph": "X", microseconds), as torch's
  // export_chrome_trace writes them.
  nlohmann::json chrome_trace(const std::vector<Span>& spans) const {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& s : spans) {
      nlohmann::json args = nlohmann::json::object();
      if (!s.shapes.empty()) args["Input Dims"] = s.shapes;
      events.push_back({{"name", s.name},
                        {"ph", "X"},
                        {"ts", s.start_us},
                        {"dur", s.duration_us},
                        {"tid", s.thread},
                        {"pid", "CPU Functions"},
                        {"args", std::move(args)}});
    }
    return {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}, {"stage", stage_}};
  }

  std::filesystem::path directory(const std::filesystem::path& default_dir) const {
    return options_.dirpath.empty() ? default_dir : options_.dirpath;
  }
  std::string file_stem(std::string_view stage, std::int64_t local_rank) const {
    return options_.filename.empty() ? fmt::format("{}-{}", stage, local_rank)
                                     : fmt::format("{}-{}-{}", stage, options_.filename, local_rank);
  }
  static void write_file(const std::filesystem::path& path, const std::string& text) {
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    std::ofstream file(path, std::ios::binary);
    file << text;
    if (!file) throw std::runtime_error("volt: TorchProfiler: could not write " + path.string());
  }
  // torch.autograd.profiler_util._format_time.
  static std::string format_time(double us) {
    if (us >= 1e6) return fmt::format("{:.3f}s", us / 1e6);
    if (us >= 1e3) return fmt::format("{:.3f}ms", us / 1e3);
    return fmt::format("{:.3f}us", us);
  }
  static std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }

  TorchProfilerOptions options_{};
  std::string stage_;
  std::vector<Row> rows_;
  std::filesystem::path trace_path_;
  double total_self_us_ = 0.0;
  bool recording_ = false;
};

}  // namespace volt
