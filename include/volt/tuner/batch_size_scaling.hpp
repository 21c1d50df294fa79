#pragma once
// Lightning's batch size finder (tuner/batch_size_scaling.py), modes `power` and `binsearch`, plus
// what matters on a CPU, where an out-of-memory error rarely comes: each trial measures
// throughput (samples/s over steps_per_trial steps after one warm-up step) and peak resident
// memory (sampled after each backward and batch). Doubling stops at an out-of-memory error (Lightning), when it gained under
// min_gain twice in a row, when the next size would pass the memory cap, at max_val or at the
// data set's length. The pick is the smallest batch within `tolerance` of the best throughput.
//
// The DataModule's batch size is found by a concept (BatchSizeDataModule) and changed in place.
#include <algorithm>
#include <concepts>
#include <type_traits>
#include <cstdint>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace volt::tuner {

// Where a DataModule keeps its batch size: a `batch_size` data member, `batch_size()` with
// `set_batch_size(n)`, or an `options` member holding `batch_size`.
template <class D>
concept BatchSizeMember = requires(D& d, std::int64_t n) {
  requires std::integral<std::remove_cvref_t<decltype(d.batch_size)>>;
  d.batch_size = n;
};
template <class D>
concept BatchSizeAccessors = requires(D& d, std::int64_t n) {
  { d.batch_size() } -> std::convertible_to<std::int64_t>;
  d.set_batch_size(n);
};
template <class D>
concept BatchSizeOption = requires(D& d, std::int64_t n) {
  requires std::integral<std::remove_cvref_t<decltype(d.options.batch_size)>>;
  d.options.batch_size = n;
};
template <class D>
concept BatchSizeDataModule = BatchSizeMember<D> || BatchSizeAccessors<D> || BatchSizeOption<D>;

template <BatchSizeDataModule D>
std::int64_t get_batch_size(D& d) {
  if constexpr (BatchSizeMember<D>) return static_cast<std::int64_t>(d.batch_size);
  else if constexpr (BatchSizeAccessors<D>) return static_cast<std::int64_t>(d.batch_size());
  else return static_cast<std::int64_t>(d.options.batch_size);
}

template <BatchSizeDataModule D>
void set_batch_size(D& d, std::int64_t n) {
  if constexpr (BatchSizeMember<D>) d.batch_size = static_cast<std::remove_cvref_t<decltype(d.batch_size)>>(n);
  else if constexpr (BatchSizeAccessors<D>) d.set_batch_size(n);
  else d.options.batch_size = static_cast<std::remove_cvref_t<decltype(d.options.batch_size)>>(n);
}

namespace diagnostic {
template <class DataModule>
struct scale_batch_size_needs_a_batch_size {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
}  // namespace diagnostic

enum class BatchSizeMode { power, binsearch };

struct ScaleBatchSizeOptions {
  BatchSizeMode mode = BatchSizeMode::power;
  std::int64_t steps_per_trial = 3;  // timed steps; one warm-up step runs before them
  std::int64_t init_val = 2;
  std::int64_t max_trials = 25;
  std::optional<std::int64_t> max_val{};        // never try a larger batch
  double min_gain = 0.10;  // doubling that gains less, twice in a row, stops the search (-1: never)
  double tolerance = 0.05;                      // the pick: smallest batch within this of the best throughput
  std::optional<std::int64_t> memory_cap_bytes{};  // default: memory_fraction of the cgroup limit or MemAvailable
  double memory_fraction = 0.8;

  void validate() const {
    auto fail = [](const std::string& what) { throw std::invalid_argument("volt: scale_batch_size: " + what); };
    if (steps_per_trial < 1) fail(fmt::format("steps_per_trial={} must be >= 1.", steps_per_trial));
    if (init_val < 1) fail(fmt::format("init_val={} must be >= 1.", init_val));
    if (max_trials < 1) fail(fmt::format("max_trials={} must be >= 1.", max_trials));
    if (max_val && *max_val < init_val) fail(fmt::format("max_val={} must be >= init_val={}.", *max_val, init_val));
    if (!(min_gain >= -1.0)) fail(fmt::format("min_gain={} must be >= -1 (-1: never stop for lack of gain).", min_gain));
    if (!(tolerance >= 0.0 && tolerance < 1.0)) fail(fmt::format("tolerance={} must be in [0, 1).", tolerance));
    if (!(memory_fraction > 0.0 && memory_fraction <= 1.0))
      fail(fmt::format("memory_fraction={} must be in (0, 1].", memory_fraction));
  }
};

enum class TrialOutcome { ok, out_of_memory, over_memory_cap };

inline std::string_view to_string(TrialOutcome o) noexcept {
  switch (o) {
    case TrialOutcome::ok: return "ok";
    case TrialOutcome::out_of_memory: return "out of memory";
    case TrialOutcome::over_memory_cap: return "over memory cap";
  }
  return "?";
}

struct BatchSizeTrial {
  std::int64_t batch_size = 0;
  TrialOutcome outcome = TrialOutcome::ok;
  double samples_per_second = 0.0;
  std::int64_t peak_memory_bytes = -1;  // the process's largest resident size sampled during the trial (-1: unknown)
};

struct BatchSizeResult {
  std::int64_t batch_size = 0;  // the pick, set on the DataModule
  std::string stop_reason;
  std::vector<BatchSizeTrial> trials;

  // One line per trial, as the Tuner prints it.
  std::string table() const {
    std::string out = fmt::format("{:>10} | {:>15} | {:>12} | {}\n", "batch size", "samples/s", "peak MiB", "outcome");
    for (const auto& t : trials)
      out += fmt::format("{:>10} | {:>15.1f} | {:>12} | {}\n", t.batch_size, t.samples_per_second,
                         t.peak_memory_bytes < 0 ? std::string("-")
                                                 : fmt::format("{:.1f}", static_cast<double>(t.peak_memory_bytes) /
                                                                             (1024.0 * 1024.0)),
                         to_string(t.outcome));
    out += fmt::format("picked batch size {} (stopped: {})\n", batch_size, stop_reason);
    return out;
  }
};

// The smallest batch size whose throughput is within `tolerance` of the best successful trial.
inline std::optional<std::int64_t> pick_batch_size(const std::vector<BatchSizeTrial>& trials, double tolerance) {
  double best = 0.0;
  for (const auto& t : trials)
    if (t.outcome == TrialOutcome::ok) best = std::max(best, t.samples_per_second);
  std::optional<std::int64_t> pick;
  for (const auto& t : trials)
    if (t.outcome == TrialOutcome::ok && t.samples_per_second >= (1.0 - tolerance) * best &&
        (!pick || t.batch_size < *pick))
      pick = t.batch_size;
  return pick;
}

namespace detail {
// A field of /proc/self/status or /proc/meminfo in bytes ("VmHWM:  1234 kB"), or -1.
inline std::int64_t proc_kb_field(const char* file, std::string_view key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0 && line.size() > key.size() && line[key.size()] == ':') {
      std::istringstream fields(line.substr(key.size() + 1));
      std::int64_t kb = -1;
      fields >> kb;
      return kb < 0 ? -1 : kb * 1024;
    }
  }
  return -1;
}
}  // namespace detail

// The process's resident memory now (VmRSS), or -1 where unknown. Trials sample it after each
// backward and batch, where a step's memory peaks (VmHWM cannot be reset everywhere).
inline std::int64_t resident_memory_bytes() { return detail::proc_kb_field("/proc/self/status", "VmRSS"); }

// The memory a batch may use: the cgroup's limit (v2 memory.max, v1 limit_in_bytes) when set,
// else MemAvailable plus what the process holds now; -1 when neither can be read.
inline std::int64_t memory_budget_bytes() {
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(path);
    std::string value;
    if (in >> value && value != "max") {
      try {
        const auto limit = std::stoll(value);
        if (limit > 0 && limit < (std::int64_t{1} << 60)) return limit;
      } catch (const std::exception&) {
      }
    }
  }
  const auto available = detail::proc_kb_field("/proc/meminfo", "MemAvailable");
  if (available < 0) return -1;
  return available + std::max<std::int64_t>(resident_memory_bytes(), 0);
}

}  // namespace volt::tuner
