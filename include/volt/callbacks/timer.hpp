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
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>

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
  explicit Timer(Options options) : options_(options) {
    if (options_.duration && options_.duration->count() < 0)
      throw std::invalid_argument("volt: Timer: duration must not be negative.");
  }

  // Lightning's "DD:HH:MM:SS" duration strings (days of any length, then two digits each;
  // blanks around are allowed, as Lightning's strip()).
  static seconds parse_duration(std::string_view text) {
    constexpr std::string_view blanks = " \t\n\v\f\r";
    const auto first = text.find_first_not_of(blanks);
    const std::string_view t = first == std::string_view::npos ? std::string_view{}
                                                                : text.substr(first, text.find_last_not_of(blanks) - first + 1);
    // D+ then ":DD:DD:DD": the last nine characters have a fixed shape.
    const auto digits = [](std::string_view s) {
      return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    const std::size_t n = t.size();
    const bool well_formed = n >= 10 && digits(t.substr(0, n - 9)) && t[n - 9] == ':' && digits(t.substr(n - 8, 2)) &&
                             t[n - 6] == ':' && digits(t.substr(n - 5, 2)) && t[n - 3] == ':' && digits(t.substr(n - 2));
    if (!well_formed)
      throw std::invalid_argument(fmt::format(
          "volt: Timer: \"{}\" cannot be converted into a duration; expected the DD:HH:MM:SS format.", text));
    auto field = [&](std::size_t at, std::size_t count) { return std::stod(std::string(t.substr(at, count))); };
    return seconds(((field(0, n - 9) * 24 + field(n - 8, 2)) * 60 + field(n - 5, 2)) * 60 + field(n - 2, 2));
  }

  // ---- queries (Lightning's start_time / end_time / time_elapsed / time_remaining) ----

  std::optional<clock::time_point> start_time(Stage stage = Stage::fit) const { return start_[index(stage)]; }
  std::optional<clock::time_point> end_time(Stage stage = Stage::fit) const { return end_[index(stage)]; }

  // Time spent in the stage so far (training includes what a loaded state had counted).
  seconds time_elapsed(Stage stage = Stage::fit) const {
    const seconds offset = stage == Stage::fit ? offset_ : seconds(0);
    const auto& start = start_[index(stage)];
    const auto& end = end_[index(stage)];
    if (!start) return offset;
    if (!end) return clock::now() - *start + offset;
    return *end - *start + offset;
  }

  std::optional<seconds> time_remaining(Stage stage = Stage::fit) const {
    if (!options_.duration) return std::nullopt;
    return *options_.duration - time_elapsed(stage);
  }

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

  void on_fit_start(Context& ctx) {
    if (options_.duration) check_time_remaining(ctx);
  }
  void on_train_batch_end(Context& ctx) {
    if (options_.interval == Interval::step && options_.duration) check_time_remaining(ctx);
  }
  void on_train_epoch_end(Context& ctx) {
    if (options_.interval == Interval::epoch && options_.duration) check_time_remaining(ctx);
  }

  // ---- checkpoint state ----

  // {"time_elapsed": {"train": s, "validate": s, "test": s, "predict": s}} (Lightning's stage names).
  nlohmann::json state_dict() const {
    nlohmann::json elapsed = nlohmann::json::object();
    for (Stage s : {Stage::fit, Stage::validate, Stage::test, Stage::predict})
      elapsed[std::string(state_name(s))] = time_elapsed(s).count();
    return {{"time_elapsed", elapsed}};
  }

  void load_state_dict(const nlohmann::json& state) {
    const auto it = state.find("time_elapsed");
    if (it == state.end()) return;
    offset_ = seconds(it->value(std::string(state_name(Stage::fit)), 0.0));
  }

  std::string state_key() const { return "Timer"; }

 private:
  static constexpr std::size_t index(Stage s) noexcept { return static_cast<std::size_t>(s); }
  static constexpr std::string_view state_name(Stage s) noexcept {
    return s == Stage::fit ? "train" : to_string(s);
  }

  void check_time_remaining(Context& ctx) {
    if (time_elapsed() < *options_.duration) return;
    const auto total = static_cast<std::int64_t>(time_elapsed().count());
    const auto days = total / 86400;
    const auto hms = fmt::format("{}:{:02d}:{:02d}", (total % 86400) / 3600, (total % 3600) / 60, total % 60);
    const auto message = fmt::format("Time limit reached. Elapsed time is {}{}. Signaling Trainer to stop.",
                                     days ? fmt::format("{} day{}, ", days, days > 1 ? "s" : "") : "", hms);
    ctx.request_stop("`Trainer.fit` stopped by Timer: " + message);
    if (options_.verbose && ctx.is_global_zero()) std::cout << message << '\n';
  }

  Options options_;
  std::array<std::optional<clock::time_point>, 4> start_{};
  std::array<std::optional<clock::time_point>, 4> end_{};
  seconds offset_{0};
};

}  // namespace volt
