#pragma once
// Definitions of <volt/loops/automatic_optimization.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loops/automatic_optimization.hpp>

#include <stdexcept>

#include <fmt/format.h>

namespace volt::loops {

VOLT_INLINE void throw_non_finite_loss(double value, std::int64_t epoch, std::int64_t batch_idx,
                                      std::int64_t global_step) {
  throw std::runtime_error(fmt::format(
      "volt: the loss is {} at epoch {}, batch {} (global step {}); training stopped because "
      "terminate_on_nan is on. Lower the learning rate, clip gradients (gradient_clip_val), or check the "
      "inputs of this batch.",
      value, epoch, batch_idx, global_step));
}

VOLT_INLINE void throw_automatic_optimizer_count(std::size_t num_optimizers) {
  throw std::logic_error(fmt::format(
      "volt: configure_optimizers returned {} optimizers, but automatic optimization steps one. Use manual "
      "optimization (static constexpr bool automatic_optimization = false; and step them in training_step), "
      "or the Lightning 1.x form training_step(batch, batch_idx, optimizer_idx).",
      num_optimizers));
}

}  // namespace volt::loops
