#pragma once
// Fills the RunFacade (core/run_facade.hpp) that volt::Context hands to hooks: each operation
// is a lambda over the Run and the fit's Optimization, with their concrete types. Called when
// a stage is set up (collectives) and when fit has its optimizers (the rest); the operations
// run at optimizer steps, checkpoints and epoch ends only, never per hook call.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include <torch/torch.h>

#include <volt/checkpoint/trainer_checkpoint.hpp>
#include <volt/core/context.hpp>
#include <volt/core/run_facade.hpp>
#include <volt/loops/step.hpp>

namespace volt::loops {

template <class Run>
void install_collectives(Run& run) {
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

template <class Run, class Optimization>
void install_fit_operations(Run& run, Optimization& optimization) {
  auto& facade = run.state.facade;
  facade.optimizers.clear();
  optimization.for_each_optimizer(
      [&](auto& opt, std::size_t) { facade.optimizers.push_back(static_cast<torch::optim::Optimizer*>(&opt)); });
  facade.learning_rates = [&optimization] { return optimization.learning_rates(); };
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
  facade.save_checkpoint = [&run, &optimization](const std::filesystem::path& path, bool weights_only) {
    // One file, written by global rank 0; every rank leaves once it exists (Lightning's barrier).
    if (run.state.global_rank == 0) checkpoint::save_trainer_checkpoint(run, optimization, path, weights_only);
    run.strategy.barrier();
  };
  facade.lr_scheduler_step = [&optimization](std::size_t index) { optimization.step_lr_scheduler(index); };
}

}  // namespace volt::loops
