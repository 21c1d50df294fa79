#pragma once
// Fills the RunFacade (core/run_facade.hpp) that volt::Context hands to hooks: each operation
// is a lambda over the Run and the fit's Optimization, with their concrete types. Called when
// a stage is set up (collectives) and when fit has its optimizers (the rest); the operations
// run at optimizer steps, checkpoints and epoch ends only, never per hook call.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <torch/torch.h>

#include <volt/checkpoint/trainer_checkpoint.hpp>
#include <volt/core/context.hpp>
#include <volt/core/module.hpp>
#include <volt/core/run_facade.hpp>
#include <volt/hooks/call.hpp>
#include <volt/optim/configure_optimizers.hpp>
#include <volt/loops/step.hpp>
#include <volt/strategy/single_device.hpp>
#include <volt/detail/config.hpp>

namespace volt {

// RunContext::optimizers()' types (core/context.hpp): configure_optimizers' result, normalized.
template <class Module>
struct configured_optimizers {
  using result = std::remove_cvref_t<decltype(hooks::call(hooks::configure_optimizers, std::declval<Module&>(),
                                                          std::declval<hooks::hook_context_t<Module>&>()))>;
  using type = typename optim::optimization_t<result>::optimizer_types;
};

}  // namespace volt

namespace volt::loops {

// ctx.optimizers()[i].step() under automatic optimization; compiled once (fast mode).
[[noreturn]] VOLT_INLINE void throw_manual_step_in_automatic(std::size_t index);

// install_collectives for SingleDevice: one process, so every collective is the identity and
// metrics need no sync_dist. Compiled once (fast mode) instead of five std::function
// instantiations in every TU that runs a Trainer on one device.
VOLT_INLINE void install_single_process_collectives(RunFacade& facade, MetricStore& metrics);

// install_fit_operations under automatic optimization: ctx.manual_backward() and
// ctx.optimizers()[i].step() throw. Type-independent, so compiled once (fast mode).
VOLT_INLINE void install_automatic_optimization_guards(RunFacade& facade);

template <class Run>
void install_collectives(Run& run) {
  if constexpr (std::is_same_v<std::remove_cvref_t<decltype(run.strategy)>, SingleDevice>) {
    install_single_process_collectives(run.state.facade, run.metrics);
  } else {
    auto& facade = run.state.facade;
    facade.reduce = [&run](const torch::Tensor& t, ReduceOp op) { return torch::Tensor(run.strategy.reduce(t, op)); };
    facade.all_gather = [&run](const torch::Tensor& t) { return torch::Tensor(run.strategy.all_gather(t)); };
    facade.broadcast = [&run](const torch::Tensor& t, std::int64_t src) {
      return torch::Tensor(run.strategy.broadcast(t, src));
    };
    facade.barrier = [&run] { run.strategy.barrier(); };
    // sync_dist: over the Trainer's strategy, which outlives the MetricStore's use of it.
    if (run.strategy.world_size() > 1)
      run.metrics.set_sync_dist([strategy = &run.strategy](const torch::Tensor& t, ReduceOp op) {
        return torch::Tensor(strategy->reduce(t, op));
      });
    else
      run.metrics.set_sync_dist({});
  }
}

template <class Run, class Optimization>
void install_fit_operations(Run& run, Optimization& optimization) {
  auto& facade = run.state.facade;
  facade.optimizers.clear();
  optimization.for_each_optimizer(
      [&](auto& opt, std::size_t) { facade.optimizers.push_back(static_cast<torch::optim::Optimizer*>(&opt)); });
  facade.learning_rates = [&optimization] { return optimization.learning_rates(); };
  using Module = std::remove_reference_t<decltype(run.module)>;
  if constexpr (!ManualOptimization<Module>) {
    // Lightning's rule: under automatic optimization the Trainer runs backward and the step;
    // doing them in a hook as well would step twice (or backward through a freed graph).
    install_automatic_optimization_guards(facade);
  } else {
    facade.manual_backward = [&run](const torch::Tensor& loss) { loops::backward(run, loss); };
    facade.optimizer_step = [&run, &optimization](std::size_t index,
                                                  const torch::optim::Optimizer::LossClosure& user_closure) {
      optimization.for_each_optimizer([&](auto& optimizer, std::size_t i) {
        if (i != index) return;
        // Lightning's manual LightningOptimizer.step(closure): the same path as automatic optimization.
        auto closure = [&]() -> torch::Tensor { return user_closure ? user_closure() : torch::Tensor{}; };
        loops::optimizer_step(run, optimizer, closure, /*automatic=*/false);
        ++run.state.global_step;
      });
    };
  }
  facade.save_checkpoint = [&run, &optimization](const std::filesystem::path& path, bool weights_only) {
    // One file, written by global rank 0; every rank leaves once it exists (Lightning's barrier).
    // While an exception is handled (OnExceptionCheckpoint) there is no barrier: the error may be
    // this rank's own, and the others would wait at their next collective, not here, until the
    // timeout. Rank 0 writes (the weights are the same on every rank after each step); when
    // another rank threw, rank 0 fails at once with "Connection reset by peer" and writes then.
    if (run.state.global_rank == 0) checkpoint::save_trainer_checkpoint(run, optimization, path, weights_only);
    if (!run.state.exception_reported) run.strategy.barrier();
  };
  facade.lr_scheduler_step = [&optimization](std::size_t index) { optimization.step_lr_scheduler(index); };
}

}  // namespace volt::loops

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loops/impl/run_facade.ipp>
#endif
