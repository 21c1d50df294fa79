#pragma once
// Definitions of <volt/callbacks/gradient_accumulation_scheduler.hpp>: included by the header in header-only mode,
// compiled once into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/callbacks/gradient_accumulation_scheduler.hpp>

#include <iterator>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace volt {

VOLT_INLINE GradientAccumulationScheduler::GradientAccumulationScheduler(Options options)
    : scheduling_(std::move(options.scheduling)) {
  if (scheduling_.empty())
    throw std::invalid_argument(
        "volt: GradientAccumulationScheduler needs a non-empty scheduling ({epoch: factor, ...}).");
  for (const auto& [epoch, factor] : scheduling_) {
    if (epoch < 0)
      throw std::invalid_argument(fmt::format(
          "volt: GradientAccumulationScheduler: epochs must be >= 0 (they are 0-based); got {}.", keys()));
    if (factor < 1)
      throw std::invalid_argument(fmt::format(
          "volt: GradientAccumulationScheduler: accumulation factors must be >= 1; got {} for epochs {}.",
          values(), keys()));
  }
  scheduling_.try_emplace(0, 1);  // epochs before the first key accumulate nothing
}

VOLT_INLINE void GradientAccumulationScheduler::on_train_start(Context& ctx) {
  if (ctx.accumulate_grad_batches() != 1)
    throw std::invalid_argument(fmt::format(
        "volt: you have set TrainerOptions::accumulate_grad_batches={} and are using the "
        "GradientAccumulationScheduler callback. Either remove accumulate_grad_batches from the TrainerOptions "
        "or remove the callback.",
        ctx.accumulate_grad_batches()));
}

VOLT_INLINE std::int64_t GradientAccumulationScheduler::get_accumulate_grad_batches(std::int64_t epoch) const {
  auto it = scheduling_.upper_bound(epoch);
  return it == scheduling_.begin() ? 1 : std::prev(it)->second;
}

VOLT_INLINE bool GradientAccumulationScheduler::going_to_accumulate_grad_batches() const {
  for (const auto& [epoch, factor] : scheduling_)
    if (factor > 1) return true;
  return false;
}

VOLT_INLINE std::string GradientAccumulationScheduler::keys() const {
  std::string s;
  for (const auto& [k, v] : scheduling_) s += (s.empty() ? "" : ", ") + std::to_string(k);
  return "[" + s + "]";
}

VOLT_INLINE std::string GradientAccumulationScheduler::values() const {
  std::string s;
  for (const auto& [k, v] : scheduling_) s += (s.empty() ? "" : ", ") + std::to_string(v);
  return "[" + s + "]";
}

}  // namespace volt
