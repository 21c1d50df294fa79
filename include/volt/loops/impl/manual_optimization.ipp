#pragma once
// Definitions of <volt/loops/manual_optimization.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loops/manual_optimization.hpp>

#include <stdexcept>

#include <fmt/format.h>

namespace volt::loops {

VOLT_INLINE void check_manual_optimization_options(const TrainerOptions& options) {
  if (options.accumulate_grad_batches != 1)
    throw std::invalid_argument(fmt::format(
        "volt: TrainerOptions::accumulate_grad_batches={} cannot be used with manual optimization (the module "
        "sets automatic_optimization = false): accumulate in training_step by stepping every n batches.",
        options.accumulate_grad_batches));
  if (options.gradient_clip_val)
    throw std::invalid_argument(fmt::format(
        "volt: TrainerOptions::gradient_clip_val={} cannot be used with manual optimization (the module sets "
        "automatic_optimization = false): call volt::Context::clip_gradients(optimizer, value) in training_step.",
        *options.gradient_clip_val));
}

}  // namespace volt::loops
