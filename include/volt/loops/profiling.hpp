#pragma once
// Timing hooks and loop phases for a profiler among the callbacks: any type with
// `static constexpr bool is_profiler = true` and `record(const std::string&, double)` (timings,
// volt::SimpleProfiler), or a `range_type` built from the action's name that marks the action
// while it lives (volt::TorchProfiler's record_function ranges), or both.
// The Run (loops/run.hpp) checks at compile time whether one is there; without one none of this
// is instantiated and the loops are the same code as before.
#include <chrono>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <volt/detail/meta.hpp>
#include <volt/optim/optimizer_name.hpp>
#include <volt/detail/config.hpp>

namespace volt::loops {

template <class T>
concept ProfilerCallback = requires { requires std::remove_cvref_t<T>::is_profiler; };

// Index of the first profiler among Callbacks... (sizeof...(Callbacks) when there is none).
template <class... Callbacks>
constexpr std::size_t profiler_index() {
  constexpr bool is[] = {ProfilerCallback<Callbacks>..., false};
  std::size_t i = 0;
  while (i < sizeof...(Callbacks) && !is[i]) ++i;
  return i;
}

// Lightning's action-name prefixes.
struct ModuleAction {
  static constexpr const char* label = "LightningModule";
};
struct CallbackAction {
  static constexpr const char* label = "Callback";
};
struct DataModuleAction {
  static constexpr const char* label = "LightningDataModule";
};
struct StrategyAction {
  static constexpr const char* label = "Strategy";
};

// The strategy calls Lightning profiles as "[Strategy]<Strategy>.<name>".
struct StrategyBackward {
  static constexpr std::string_view name = "backward";
};
struct StrategyOptimizerStep {
  static constexpr std::string_view name = "optimizer_step";
};
struct StrategyBatchToDevice {
  static constexpr std::string_view name = "batch_to_device";
};

// Lightning's loop-phase action names.
struct RunTrainingEpoch {
  static constexpr std::string_view name = "run_training_epoch";
};
struct RunTrainingBatch {
  static constexpr std::string_view name = "run_training_batch";
};
// Fetching the next batch (Lightning's _DataFetcher actions, named after its loops).
struct TrainDataloaderNext {
  static constexpr std::string_view name = "[_TrainingEpochLoop].train_dataloader_next";
};
struct ValNext {
  static constexpr std::string_view name = "[_EvaluationLoop].val_next";
};
struct TestNext {
  static constexpr std::string_view name = "[_EvaluationLoop].test_next";
};
struct PredictNext {
  static constexpr std::string_view name = "[_PredictionLoop].predict_next";
};

// The name a type goes by in action names: its `profile_name` when it has one (SingleDevice is
// Lightning's "SingleDeviceStrategy"), else its class name.
template <class T>
std::string profile_name() {
  if constexpr (requires { std::string(T::profile_name); })
    return std::string(T::profile_name);
  else
    return ::volt::optim::class_name<T>();
}

// "[<kind>]<type>.<hook>", compiled once (fast mode).
VOLT_INLINE std::string join_action_name(std::string_view kind, std::string_view type, std::string_view hook);

// "[LightningModule]Net.training_step": made on first use, once per (kind, type, hook).
template <class Kind, class T, class Hook>
const std::string& action_name() {
  static const std::string name =
      join_action_name(Kind::label, profile_name<std::remove_cvref_t<T>>(), Hook::name);
  return name;
}

template <class Profiler>
concept TimingProfiler = requires(Profiler& p, const std::string& action) { p.record(action, 0.0); };
template <class Profiler>
concept RangeProfiler = requires {
  typename Profiler::range_type;
  requires std::constructible_from<typename Profiler::range_type, const std::string&>;
};

template <class Profiler, bool = RangeProfiler<Profiler>>
struct RangeHolder {
  struct type {};
};
template <class Profiler>
struct RangeHolder<Profiler, true> {
  using type = std::optional<typename Profiler::range_type>;
};

// Times its own lifetime into the profiler under `action`, and/or holds the profiler's range
// for it; `action` must outlive the scope (the names are static, see action_name).
template <class Profiler>
class ProfileScope {
  using Range = typename RangeHolder<Profiler>::type;

 public:
  ProfileScope(Profiler& profiler, const std::string& action) : profiler_(profiler), action_(action) {
    if constexpr (TimingProfiler<Profiler>) started_ = std::chrono::steady_clock::now();
    if constexpr (RangeProfiler<Profiler>) range_.emplace(action);
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;
  ~ProfileScope() { stop(); }
  // Ends the action before the scope does (once).
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    if constexpr (RangeProfiler<Profiler>) range_.reset();
    if constexpr (TimingProfiler<Profiler>)
      profiler_.record(action_, std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  }

 private:
  Profiler& profiler_;
  const std::string& action_;
  std::chrono::steady_clock::time_point started_{};
  [[no_unique_address]] Range range_{};
  bool stopped_ = false;
};

struct NoProfileScope {
  constexpr void stop() const noexcept {}
};

}  // namespace volt::loops

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loops/impl/profiling.ipp>
#endif
