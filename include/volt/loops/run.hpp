#pragma once
// What one Trainer entry point works with: references to the parts the Trainer owns, and the
// helpers every loop uses (hook emission, batch transfer). The loops are free functions over it.
#include <chrono>
#include <cstdint>
#include <tuple>
#include <utility>

#include <volt/core/context.hpp>
#include <volt/core/metrics.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/data/transfer.hpp>
#include <volt/hooks/call.hpp>

namespace volt::loops {

template <class Module, class Data, class Strategy, class Precision, class... Callbacks>
struct Run {
  Module& module;
  Data& data;
  Strategy& strategy;
  Precision& precision;
  std::tuple<Callbacks...>& callbacks;
  const TrainerOptions& options;
  RunState& state;
  MetricStore& metrics;
  Context ctx;
  std::chrono::steady_clock::time_point fit_started{};  // for max_time

  Run(Module& m, Data& d, Strategy& s, Precision& p, std::tuple<Callbacks...>& cbs, const TrainerOptions& o,
      RunState& st, MetricStore& me)
      : module(m), data(d), strategy(s), precision(p), callbacks(cbs), options(o), state(st), metrics(me),
        ctx(st, me, m) {}

  // Callbacks first, then the module: Lightning's order for these hooks.
  template <class Hook, class... A>
  void emit(Hook hook, A&&... args) {
    hooks::call_callbacks_then_module(hook, callbacks, module, ctx, std::forward<A>(args)...);
  }

  // A hook of the module alone (steps, epoch_end(outputs), configure_optimizers, ...).
  template <class Hook, class... A>
  decltype(auto) call(Hook hook, A&&... args) {
    return hooks::call(hook, module, ctx, std::forward<A>(args)...);
  }

  // A DataModule hook (prepare_data, setup, the loaders).
  template <class Hook, class... A>
  decltype(auto) call_data(Hook hook, A&&... args) {
    return hooks::call(hook, data, ctx, std::forward<A>(args)...);
  }

  // The batch on the run's device, in the precision's input type; sets the logging weight.
  template <class Batch>
  auto prepare_batch(Batch&& batch) {
    auto moved = precision.convert_input(data::to_device(std::forward<Batch>(batch), state.device));
    state.batch_size = data::batch_size_of(moved);
    return moved;
  }
};

}  // namespace volt::loops
