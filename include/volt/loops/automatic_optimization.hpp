#pragma once
// One training batch under automatic optimization, in Lightning's order, for each optimizer
// (one in 2.x style; several with the 1.x training_step(batch, batch_idx, optimizer_idx)):
//   [1.x: toggle_optimizer] | training_step | training_step_end (1.x) |
//   [first batch of an accumulation window: on_before_zero_grad, optimizer_zero_grad] |
//   on_before_backward, backward, on_after_backward |
//   [last batch of the window: on_before_optimizer_step, configure_gradient_clipping,
//    optimizer_step, step-interval schedulers] | [1.x: untoggle_optimizer]
// An empty optional from training_step skips backward and the step for that batch.
#include <algorithm>
#include <cmath>
#include <optional>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/hooks/call.hpp>
#include <volt/hooks/tags.hpp>
#include <volt/loops/lr_scheduler_step.hpp>
#include <volt/core/step_output.hpp>
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

// Trainer-level gradient clipping (gradient_clip_val / gradient_clip_algorithm).
inline void clip_gradients(torch::optim::Optimizer& optimizer, std::optional<double> clip_val,
                           GradClipAlgorithm algorithm) {
  if (clip_val && *clip_val > 0.0) Context::clip_gradients(optimizer, *clip_val, algorithm == GradClipAlgorithm::norm);
}

// toggle_optimizer for the duration of one optimizer's training_step (the 1.x loop).
class ScopedOptimizerToggle {
 public:
  ScopedOptimizerToggle(Context& ctx, std::size_t index) : ctx_(ctx) { ctx_.toggle_optimizer(index); }
  ScopedOptimizerToggle(const ScopedOptimizerToggle&) = delete;
  ScopedOptimizerToggle& operator=(const ScopedOptimizerToggle&) = delete;
  ~ScopedOptimizerToggle() { ctx_.untoggle_optimizer(); }

 private:
  Context& ctx_;
};

// The steps after training_step for one optimizer. `output` is what training_step returned.
template <class Run, class Optimizer, class Output>
auto optimize(Run& run, Optimizer& optimizer, Output output, std::int64_t batch_idx, bool is_last_batch,
              bool& stepped) {
  const std::int64_t accumulate = run.state.accumulate_grad_batches;
  const bool first_in_window = batch_idx % accumulate == 0;
  const bool step_now = (batch_idx + 1) % accumulate == 0 || is_last_batch;

  torch::Tensor loss = loss_of(output);
  if (!loss.defined()) return output;  // an empty optional: Lightning skips this batch's optimization
  if (run.options.terminate_on_nan) check_finite_loss(run, loss, batch_idx);
  if (accumulate > 1) loss = loss / static_cast<double>(accumulate);
  if (first_in_window) {
    run.emit(hooks::on_before_zero_grad, optimizer);
    if constexpr (hooks::has<hooks::optimizer_zero_grad_t, decltype(run.module), std::int64_t, std::int64_t, Optimizer&>)
      run.call(hooks::optimizer_zero_grad, run.state.current_epoch, batch_idx, optimizer);
    else
      optimizer.zero_grad();
  }
  run.emit(hooks::on_before_backward, loss);
  run.precision.backward(loss);
  run.emit(hooks::on_after_backward);
  if (step_now) {
    run.strategy.before_optimizer_step(run.module);
    run.precision.unscale_gradients(optimizer);
    run.emit(hooks::on_before_optimizer_step, optimizer);
    if constexpr (hooks::has<hooks::configure_gradient_clipping_t, decltype(run.module), Optimizer&,
                             std::optional<double>, GradClipAlgorithm>)
      run.call(hooks::configure_gradient_clipping, optimizer, run.options.gradient_clip_val,
               run.options.gradient_clip_algorithm);
    else
      clip_gradients(optimizer, run.options.gradient_clip_val, run.options.gradient_clip_algorithm);
    if constexpr (hooks::has<hooks::optimizer_step_t, decltype(run.module), std::int64_t, std::int64_t, Optimizer&>)
      run.call(hooks::optimizer_step, run.state.current_epoch, batch_idx, optimizer);
    else
      run.precision.optimizer_step(optimizer);  // counted even when a grad scaler skips it, as in Lightning
    ++run.state.global_step;
    stepped = true;
  }
  return with_loss(std::move(output), loss.detach());
}

template <class Module, class Batch>
concept TakesOptimizerIdx = hooks::match_v<hooks::training_step_t, Module, const Batch&, std::int64_t, std::int64_t>.arity == 3;

// Automatic optimization steps one optimizer (or, Lightning 1.x, each one with optimizer_idx).
// Checked once when fit starts, before any hook runs a step (Lightning 2.x checks it there too).
template <class Module, class Batch, class Optimization>
void check_automatic_optimizer_count(const Optimization& optimization) {
  if constexpr (!TakesOptimizerIdx<Module, Batch>) {
    if (optimization.num_optimizers() != 1)
      throw std::logic_error(fmt::format(
          "volt: configure_optimizers returned {} optimizers, but automatic optimization steps one. Use manual "
          "optimization (static constexpr bool automatic_optimization = false; and step them in training_step), "
          "or the Lightning 1.x form training_step(batch, batch_idx, optimizer_idx).",
          optimization.num_optimizers()));
  }
}

// Returns what on_train_batch_end gets: the step output with its loss detached (1.x with
// several optimizers: one output per optimizer, as Lightning 1.x passes a list).
template <class Run, class Optimization, class Batch>
auto automatic_optimization_step(Run& run, Optimization& optimization, const Batch& batch, std::int64_t batch_idx,
                                 bool is_last_batch) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  auto training_step = [&](auto... optimizer_idx) {
    [[maybe_unused]] auto autocast = run.precision.forward_context();
    auto out = run.call(hooks::training_step, batch, batch_idx, std::int64_t{optimizer_idx}...);
    if constexpr (hooks::has<hooks::training_step_end_t, Module, decltype(out)&&>)
      return run.call(hooks::training_step_end, std::move(out));
    else
      return out;
  };
  // Step-interval schedulers step once per batch, after every optimizer stepped (Lightning).
  bool stepped = false;
  auto step_schedulers = [&] {
    if (stepped)
      loops::step_schedulers(run, optimization, Interval::step, run.state.global_step, SchedulerFilter::unmonitored);
  };
  if constexpr (TakesOptimizerIdx<Module, Batch>) {
    using Output = decltype(training_step(std::int64_t{0}));
    std::vector<Output> outputs;
    optimization.for_each_optimizer([&](auto& optimizer, std::size_t index) {
      ScopedOptimizerToggle toggle(run.ctx, index);
      outputs.push_back(
          optimize(run, optimizer, training_step(static_cast<std::int64_t>(index)), batch_idx, is_last_batch, stepped));
    });
    step_schedulers();
    return outputs;
  } else {
    auto output = optimize(run, optimization.optimizer(), training_step(), batch_idx, is_last_batch, stepped);
    step_schedulers();
    return output;
  }
}

}  // namespace volt::loops
