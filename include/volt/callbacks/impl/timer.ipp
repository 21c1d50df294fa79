#pragma once
// Definitions of <volt/callbacks/timer.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/callbacks/timer.hpp>

#include <algorithm>
#include <iostream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace volt {

VOLT_INLINE Timer::Timer(Options options) : options_(options) {
  if (options_.duration && options_.duration->count() < 0)
    throw std::invalid_argument("volt: Timer: duration must not be negative.");
}

VOLT_INLINE Timer::seconds Timer::parse_duration(std::string_view text) {
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

VOLT_INLINE Timer::seconds Timer::time_elapsed(Stage stage) const {
  const seconds offset = stage == Stage::fit ? offset_ : seconds(0);
  const auto& start = start_[index(stage)];
  const auto& end = end_[index(stage)];
  if (!start) return offset;
  if (!end) return clock::now() - *start + offset;
  return *end - *start + offset;
}

VOLT_INLINE std::optional<Timer::seconds> Timer::time_remaining(Stage stage) const {
  if (!options_.duration) return std::nullopt;
  return *options_.duration - time_elapsed(stage);
}

VOLT_INLINE void Timer::on_fit_start(Context& ctx) {
  if (options_.duration) check_time_remaining(ctx);
}

VOLT_INLINE void Timer::on_train_batch_end(Context& ctx) {
  if (options_.interval == Interval::step && options_.duration) check_time_remaining(ctx);
}

VOLT_INLINE void Timer::on_train_epoch_end(Context& ctx) {
  if (options_.interval == Interval::epoch && options_.duration) check_time_remaining(ctx);
}

VOLT_INLINE void Timer::state_dict_into(nlohmann::json& out) const { out = state_dict(); }

VOLT_INLINE nlohmann::json Timer::state_dict() const {
  nlohmann::json elapsed = nlohmann::json::object();
  for (Stage s : {Stage::fit, Stage::validate, Stage::test, Stage::predict})
    elapsed[std::string(state_name(s))] = time_elapsed(s).count();
  return {{"time_elapsed", elapsed}};
}

VOLT_INLINE void Timer::load_state_dict(const nlohmann::json& state) {
  const auto it = state.find("time_elapsed");
  if (it == state.end()) return;
  offset_ = seconds(it->value(std::string(state_name(Stage::fit)), 0.0));
}

VOLT_INLINE void Timer::check_time_remaining(Context& ctx) {
  if (time_elapsed() < *options_.duration) return;
  const auto total = static_cast<std::int64_t>(time_elapsed().count());
  const auto days = total / 86400;
  const auto hms = fmt::format("{}:{:02d}:{:02d}", (total % 86400) / 3600, (total % 3600) / 60, total % 60);
  const auto message = fmt::format("Time limit reached. Elapsed time is {}{}. Signaling Trainer to stop.",
                                   days ? fmt::format("{} day{}, ", days, days > 1 ? "s" : "") : "", hms);
  ctx.request_stop("`Trainer.fit` stopped by Timer: " + message);
  if (options_.verbose && ctx.is_global_zero()) std::cout << message << '\n';
}

}  // namespace volt
