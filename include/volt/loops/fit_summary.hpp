#pragma once
// What the Trainer found at compile time, printed once at fit start with the model summary:
// the hooks, the optimizers and schedulers, the strategy and the precision.
#include <iostream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <volt/core/diagnose.hpp>

namespace volt::loops {

template <class Module, class Batch, class Run, class Optimization>
void print_fit_summary(Run& run, Optimization& optimization, std::ostream& out = std::cout) {
  std::string lrs;
  for (const auto& [name, lr] : optimization.learning_rates()) lrs += fmt::format("{}{}={:g}", lrs.empty() ? "" : ", ", name, lr);
  out << fmt::format("volt: hooks found at compile time: {}\n", fmt::join(hook_inventory<Module, Batch>::names, ", "))
      << fmt::format("volt: optimizers: {} ({}); device {}; precision {}\n", optimization.num_optimizers(), lrs,
                     run.state.device.str(), std::string_view(std::remove_reference_t<decltype(run.precision)>::name));
}

}  // namespace volt::loops
