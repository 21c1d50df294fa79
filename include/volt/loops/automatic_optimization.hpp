#pragma once
// One training batch under automatic optimization, in Lightning 2.x's order:
//   training_step | on_before_zero_grad, zero_grad | on_before_backward, backward,
//   on_after_backward | on_before_optimizer_step | optimizer step | step-interval scheduler
#include <cstdint>

#include <torch/torch.h>

#include <volt/hooks/tags.hpp>
#include <volt/optim/configure_optimizers.hpp>

namespace volt::loops {

// Returns the detached loss (what Lightning hands to on_train_batch_end as outputs["loss"]).
template <class Run, class Optimization, class Batch>
torch::Tensor automatic_optimization_step(Run& run, Optimization& optimization, const Batch& batch,
                                          std::int64_t batch_idx) {
  auto& optimizer = optimization.optimizer();
  torch::Tensor loss;
  {
    [[maybe_unused]] auto autocast = run.precision.forward_context();
    loss = run.call(hooks::training_step, batch, batch_idx);
  }
  run.emit(hooks::on_before_zero_grad, optimizer);
  optimizer.zero_grad();
  run.emit(hooks::on_before_backward, loss);
  run.precision.backward(loss);
  run.emit(hooks::on_after_backward);
  run.strategy.before_optimizer_step(run.module);
  run.precision.unscale_gradients(optimizer);
  run.emit(hooks::on_before_optimizer_step, optimizer);
  // Counted even when a grad scaler skips the step, as Lightning counts it.
  run.precision.optimizer_step(optimizer);
  ++run.state.global_step;
  optimization.step_scheduler(Interval::step, run.state.global_step);
  return loss.detach();
}

}  // namespace volt::loops
