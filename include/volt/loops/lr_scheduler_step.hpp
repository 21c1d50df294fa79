#pragma once
// Stepping the LR schedulers from the loops. Where the module overrides Lightning's
// lr_scheduler_step(scheduler, metric), volt calls it instead of stepping the scheduler itself,
// for every step volt would do (interval, frequency and the monitor are still volt's business):
// metric is the monitored value for a scheduler with a monitor, std::nullopt otherwise.
#include <cstdint>
#include <optional>
#include <type_traits>

#include <volt/hooks/call.hpp>
#include <volt/hooks/tags.hpp>
#include <volt/optim/configure_optimizers.hpp>

namespace volt::loops {

template <class Run, class Optimization>
void step_schedulers(Run& run, Optimization& optimization, Interval when, std::int64_t count,
                     SchedulerFilter which) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  optimization.step_schedulers(when, count, run.metrics, which, [&](auto& scheduler, std::optional<double> metric) {
    using S = std::remove_reference_t<decltype(scheduler)>;
    // A declared hook that cannot take (S&, std::optional<double>) is a compile error in run.call.
    if constexpr (hooks::has<hooks::lr_scheduler_step_t, Module, S&, std::optional<double>> ||
                  hooks::lr_scheduler_step_t::declared<Module>)
      run.call(hooks::lr_scheduler_step, scheduler, metric);
    else
      optim::DefaultSchedulerStep{}(scheduler, metric);
  });
}

}  // namespace volt::loops
