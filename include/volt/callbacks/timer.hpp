#pragma once
// volt::Timer: Lightning 2.x's Timer (callbacks/timer.py). Measures the wall time of training
// (on_train_start .. on_train_end), validation and test (and predict, which Lightning's Timer
// leaves unmeasured), and with a `duration` asks the Trainer to stop (ctx.request_stop()) once
// training has taken that long: checked at on_fit_start (a resumed timer may already be spent),
// then after every training batch (interval step) or every training epoch (interval epoch).
// Training time survives checkpoints: state_dict() holds the elapsed times and
// load_state_dict() makes training time count on from there, as in Lightning.
// Times are std::chrono::steady_clock (Lightning's time.monotonic); elapsed times are seconds
// as std::chrono::duration<double>. The stages are volt::Stage, with Stage::fit standing for
// Lightning's RunningStage.TRAINING (the default of every query, as there).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>
#include <volt/detail/config.hpp>

namespace volt {

class Timer {
 public:
  using clock = std::chrono::steady_clock;
  using seconds = std::chrono::duration<double>;
  // Where the time limit is checked (Lightning's Interval; its own type, since volt::Interval
  // belongs to the optimizer configuration).
  enum class Interval { step, epoch };

  struct Options {
    std::optional<seconds> duration{};  // e.g. std::chrono::hours(12), or Timer::parse_duration("00:12:00:00")
    Interval interval = Interval::step;
    bool verbose = true;                // say so (rank 0) when the limit is reached
  };

  // (Two constructors: a `= {}` default argument of a nested type with member initializers
  // is rejected by GCC inside the enclosing class.)
  Timer() : Timer(Options{}) {}
  VOLT_INLINE explicit Timer(Options options);

  // Lightning's "DD:HH:MM:SS" duration strings (days of any length, then two digits each;
  // blanks around are allowed, as Lightning's strip()).
  VOLT_INLINE static seconds parse_duration(std::string_view text);

  // ---- queries (Lightning's start_time / end_time / time_elapsed / time_remaining) ----

  std::optional<clock::time_point> start_time(Stage stage = Stage::fit) const { return start_[index(stage)]; }
  std::optional<clock::time_point> end_time(Stage stage = Stage::fit) const { return end_[index(stage)]; }

  // Time spent in the stage so far (training includes what a loaded state had counted).
  VOLT_INLINE seconds time_elapsed(Stage stage = Stage::fit) const;

  VOLT_INLINE std::optional<seconds> time_remaining(Stage stage = Stage::fit) const;

  const Options& options() const noexcept { return options_; }

  // ---- hooks ----

  void on_train_start(Context&) { start_[index(Stage::fit)] = clock::now(); }
  void on_train_end(Context&) { end_[index(Stage::fit)] = clock::now(); }
  void on_validation_start(Context&) { start_[index(Stage::validate)] = clock::now(); }
  void on_validation_end(Context&) { end_[index(Stage::validate)] = clock::now(); }
  void on_test_start(Context&) { start_[index(Stage::test)] = clock::now(); }
  void on_test_end(Context&) { end_[index(Stage::test)] = clock::now(); }
  void on_predict_start(Context&) { start_[index(Stage::predict)] = clock::now(); }
  void on_predict_end(Context&) { end_[index(Stage::predict)] = clock::now(); }

  VOLT_INLINE void on_fit_start(Context& ctx);
  VOLT_INLINE void on_train_batch_end(Context& ctx);
  VOLT_INLINE void on_train_epoch_end(Context& ctx);

  // ---- checkpoint state ----

  // {"time_elapsed": {"train": s, "validate": s, "test": s, "predict": s}} (Lightning's stage names).
  VOLT_INLINE nlohmann::json state_dict() const;
  // The same, written into `out`: what the Trainer calls (compiled; no JSON in a user TU).
  VOLT_INLINE void state_dict_into(nlohmann::json& out) const;

  VOLT_INLINE void load_state_dict(const nlohmann::json& state);

  std::string state_key() const { return "Timer"; }

 private:
  static constexpr std::size_t index(Stage s) noexcept { return static_cast<std::size_t>(s); }
  static constexpr std::string_view state_name(Stage s) noexcept {
    return s == Stage::fit ? "train" : to_string(s);
  }

  VOLT_INLINE void check_time_remaining(Context& ctx);

  Options options_;
  std::array<std::optional<clock::time_point>, 4> start_{};
  std::array<std::optional<clock::time_point>, 4> end_{};
  seconds offset_{0};
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/timer.ipp>
#endif
