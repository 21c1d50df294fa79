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

VOLT_INLINE void install_single_process_collectives(RunFacade& facade, MetricStore& metrics) {
  facade.reduce = [](const torch::Tensor& t, ReduceOp) { return t; };
  facade.all_gather = [](const torch::Tensor& t) { return t; };
  facade.broadcast = [](const torch::Tensor& t, std::int64_t) { return t; };
  facade.barrier = [] {};
  metrics.set_sync_dist({});
}

VOLT_INLINE void install_automatic_optimization_guards(RunFacade& facade) {
  facade.manual_backward = [](const torch::Tensor&) {
    throw std::logic_error(
        "volt: ctx.manual_backward() was called, but the module uses automatic optimization (volt runs backward "
        "on the loss training_step returns). To optimize by hand, add to the module: static constexpr bool "
        "automatic_optimization = false;");
  };
  facade.optimizer_step = [](std::size_t index, const torch::optim::Optimizer::LossClosure&) {
    throw_manual_step_in_automatic(index);
  };
}

}  // namespace volt::loops
