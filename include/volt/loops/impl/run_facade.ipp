#pragma once
// Definitions of <volt/loops/run_facade.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loops/run_facade.hpp>

#include <stdexcept>

#include <fmt/format.h>

namespace volt::loops {

VOLT_INLINE void throw_manual_step_in_automatic(std::size_t index) {
  throw std::logic_error(fmt::format(
      "volt: ctx.optimizers()[{}].step() was called, but the module uses automatic optimization (volt steps "
      "the optimizer after training_step). To step by hand, add to the module: static constexpr bool "
      "automatic_optimization = false;",
      index));
}

}  // namespace volt::loops
