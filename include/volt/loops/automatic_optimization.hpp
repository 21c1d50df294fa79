#pragma once
// One training batch under automatic optimization, in Lightning 2.x's order:
//   training_step | [first batch of an accumulation window: on_before_zero_grad, zero_grad] |
//   on_before_backward, backward, on_after_backward | [last batch of the window:
//   on_before_optimizer_step, gradient clipping, optimizer step, step-interval scheduler]
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/hooks/tags.hpp>
#include <volt/optim/configure_optimizers.hpp>

namespace volt::loops {

// terminate_on_nan: a non-finite loss stops the run with the step that produced it.
template <class Run>
void check_finite_loss(const Run& run, const torch::Tensor& loss, std::int64_t batch_idx) {
  const double value = loss.item<double>();
  if (!std::isfinite(value))
    throw std::runtime_error(fmt::format(
        "volt: the loss is {} at epoch {}, batch {} (global step {}); training stopped because "
        "terminate_on_nan is on. Lower the learning rate, clip gradients (gradient_clip_val), or check the "
        "inputs of this batch.",
        value, run.state.current_epoch, batch_idx, run.state.global_step));
}

// Lightning's clip_gradients: by total 2-norm or by value, over the optimizer's parameters.
template <class Run, class Optimizer>
void clip_gradients(const Run& run, Optimizer& optimizer) {
  if (!run.options.gradient_clip_val || *run.options.gradient_clip_val <= 0.0) return;
  std::vector<torch::Tensor> params;
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) params.push_back(p);
  if (run.options.gradient_clip_algorithm == GradClipAlgorithm::norm)
    torch::nn::utils::clip_grad_norm_(params, *run.options.gradient_clip_val, 2.0);
  else
    torch::nn::utils::clip_grad_value_(params, *run.options.gradient_clip_val);
}

// Returns the detached (accumulation-scaled) loss: what Lightning hands to on_train_batch_end.
template <class Run, class Optimization, class Batch>
torch::Tensor automatic_optimization_step(Run& run, Optimization& optimization, const Batch& batch,
                                          std::int64_t batch_idx, bool is_last_batch) {
  const std::int64_t accumulate = run.options.accumulate_grad_batches;
  const bool first_in_window = batch_idx % accumulate == 0;
  const bool step_now = (batch_idx + 1) % accumulate == 0 || is_last_batch;
  auto& optimizer = optimization.optimizer();

  torch::Tensor loss;
  {
    [[maybe_unused]] auto autocast = run.precision.forward_context();
    loss = run.call(hooks::training_step, batch, batch_idx);
  }
  if (run.options.terminate_on_nan) check_finite_loss(run, loss, batch_idx);
  if (accumulate > 1) loss = loss / static_cast<double>(accumulate);
  if (first_in_window) {
    run.emit(hooks::on_before_zero_grad, optimizer);
    optimizer.zero_grad();
  }
  run.emit(hooks::on_before_backward, loss);
  run.precision.backward(loss);
  run.emit(hooks::on_after_backward);
  if (!step_now) return loss.detach();

  run.strategy.before_optimizer_step(run.module);
  run.precision.unscale_gradients(optimizer);
  run.emit(hooks::on_before_optimizer_step, optimizer);
  clip_gradients(run, optimizer);
  // Counted even when a grad scaler skips the step, as Lightning counts it.
  run.precision.optimizer_step(optimizer);
  ++run.state.global_step;
  optimization.step_schedulers(Interval::step, run.state.global_step, run.metrics, SchedulerFilter::unmonitored);
  return loss.detach();
}

}  // namespace volt::loops
