#pragma once
// Timing hooks and loop phases for a profiler among the callbacks (volt::SimpleProfiler, or any
// type with `static constexpr bool is_profiler = true` and `record(const std::string&, double)`).
// The Run (loops/run.hpp) checks at compile time whether one is there; without one none of this
// is instantiated and the loops are the same code as before.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <fmt/format.h>

#include <volt/detail/meta.hpp>
#include <volt/optim/optimizer_name.hpp>

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

// Lightning's loop-phase action names.
struct RunTrainingEpoch {
  static constexpr std::string_view name = "run_training_epoch";
};
struct RunTrainingBatch {
  static constexpr std::string_view name = "run_training_batch";
};

// "[LightningModule]Net.training_step": made on first use, once per (kind, type, hook).
template <class Kind, class T, class Hook>
const std::string& action_name() {
  static const std::string name =
      fmt::format("[{}]{}.{}", Kind::label, ::volt::optim::class_name<std::remove_cvref_t<T>>(), Hook::name);
  return name;
}

// Times its own lifetime into the profiler under `action`.
template <class Profiler>
class ProfileScope {
 public:
  ProfileScope(Profiler& profiler, const std::string& action) noexcept
      : profiler_(profiler), action_(action), started_(std::chrono::steady_clock::now()) {}
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;
  ~ProfileScope() { stop(); }
  // Ends the timing before the scope does (once).
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    profiler_.record(action_, std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  }

 private:
  Profiler& profiler_;
  const std::string& action_;
  std::chrono::steady_clock::time_point started_;
  bool stopped_ = false;
};

struct NoProfileScope {
  constexpr void stop() const noexcept {}
};

}  // namespace volt::loops
