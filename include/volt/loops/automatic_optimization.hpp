#pragma once
// One training batch under automatic optimization, in Lightning 2.x's order, for each optimizer
// (one in 2.x style; several with the 1.x training_step(batch, batch_idx, optimizer_idx)):
//   [1.x: toggle_optimizer] |
//   last batch of an accumulation window: optimizer_step(epoch, batch_idx, optimizer, closure)
//     -> optimizer.step(closure) -> strategy -> precision: closure(), on_before_optimizer_step,
//        configure_gradient_clipping, the optimizer's step | step-interval schedulers
//   other batches: closure() under the strategy's no_backward_sync guard
//   where closure() = training_step | training_step_end (1.x) |
//     [first batch of the window: on_before_zero_grad, optimizer_zero_grad] |
//     on_before_backward, backward, on_after_backward
//   | [1.x: untoggle_optimizer]
// An empty optional from training_step skips backward (the step is still taken and counted,
// as in Lightning 2.x). An optimizer_step override that does not run the closure skips
// training_step for that batch. An override without the closure, (epoch, batch_idx, optimizer),
// is a compile error: its plain optimizer.step() would bypass the strategy and the precision
// (a grad scaler's skip on inf/NaN, DDP's buffer broadcast), and Lightning 2.x has no such form.
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/core/step_output.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/hooks/call.hpp>
#include <volt/hooks/tags.hpp>
#include <volt/loops/lr_scheduler_step.hpp>
#include <volt/loops/step.hpp>
#include <volt/optim/configure_optimizers.hpp>
#include <volt/detail/config.hpp>

namespace volt::loops {

// The errors of the templates below, compiled once (fast mode) instead of a checked
// fmt::format per instantiation.
[[noreturn]] VOLT_INLINE void throw_non_finite_loss(double value, std::int64_t epoch, std::int64_t batch_idx,
                                                   std::int64_t global_step);
[[noreturn]] VOLT_INLINE void throw_automatic_optimizer_count(std::size_t num_optimizers);

namespace diagnostic {
template <class Module>
struct optimizer_step_needs_the_closure {
  static constexpr bool value = false;  // declared here, so g++'s note names the Module
};
}  // namespace diagnostic

// terminate_on_nan: a non-finite loss stops the run with the step that produced it.
template <class Run>
void check_finite_loss(const Run& run, const torch::Tensor& loss, std::int64_t batch_idx) {
  const double value = loss.item<double>();
  if (!std::isfinite(value))
    throw_non_finite_loss(value, run.state.current_epoch, batch_idx, run.state.global_step);
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

// The optimization of one batch for one optimizer; `training_step` runs training_step (and the
// 1.x training_step_end) and returns its output. Returns that output with its loss detached.
template <class Run, class Optimizer, class TrainingStep>
auto optimize(Run& run, Optimizer& optimizer, TrainingStep&& training_step, std::int64_t batch_idx,
              bool is_last_batch, bool& stepped) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  using Output = decltype(training_step());
  const std::int64_t accumulate = run.state.accumulate_grad_batches;
  const bool first_in_window = batch_idx % accumulate == 0;
  const bool step_now = (batch_idx + 1) % accumulate == 0 || is_last_batch;

  std::optional<Output> result;
  // Lightning's Closure: training_step, zero_grad (first batch of the window), backward.
  auto closure = [&]() -> torch::Tensor {
    Output output = training_step();
    torch::Tensor loss = loss_of(output);
    if (loss.defined()) {
      if (run.options.terminate_on_nan) check_finite_loss(run, loss, batch_idx);
      if (accumulate > 1) loss = loss / static_cast<double>(accumulate);
    }
    if (first_in_window) {
      run.emit(hooks::on_before_zero_grad, optimizer);
      if constexpr (hooks::has<hooks::optimizer_zero_grad_t, Module, std::int64_t, std::int64_t, Optimizer&>)
        run.call(hooks::optimizer_zero_grad, run.state.current_epoch, batch_idx, optimizer);
      else if constexpr (requires { run.strategy.zero_grad(optimizer); })
        run.strategy.zero_grad(optimizer);  // DDP: gradients may be bucket views
      else
        optimizer.zero_grad();
    }
    if (!loss.defined()) {  // an empty optional: Lightning skips backward for this batch
      result.emplace(std::move(output));
      return loss;
    }
    loops::backward(run, loss);
    loss = loss.detach();
    result.emplace(with_loss(std::move(output), loss));
    return loss;
  };

  if (!step_now) {
    [[maybe_unused]] auto no_sync = run.strategy.no_backward_sync();
    closure();
  } else {
    LightningOptimizer<Run, Optimizer> lightning_optimizer(run, optimizer);
    using Hook = hooks::optimizer_step_t;
    constexpr int arity =
        hooks::match_v<Hook, Module, std::int64_t, std::int64_t, decltype(lightning_optimizer)&, decltype(closure)&>.arity;
    if constexpr (arity == 4) {
      // Lightning 2.x: the hook is entered first, and optimizer.step(closure) runs training_step.
      run.call(hooks::optimizer_step, run.state.current_epoch, batch_idx, lightning_optimizer, closure);
      stepped = lightning_optimizer.step_taken() || stepped;
    } else if constexpr (arity == 3) {
      static_assert(diagnostic::optimizer_step_needs_the_closure<Module>::value,
                    "volt: optimizer_step(epoch, batch_idx, optimizer) without the closure would step the torch "
                    "optimizer itself, bypassing the Strategy and the Precision (under FP16Mixed the gradients would "
                    "stay scaled and an inf/NaN step would not be skipped); Lightning 2.x has only the closure form. "
                    "Fix: void optimizer_step(int64_t epoch, int64_t batch_idx, auto& optimizer, auto& "
                    "optimizer_closure) { optimizer.step(optimizer_closure); }");
    } else {
      if constexpr (Hook::declared<Module>)
        Hook::signature_mismatch<Module, std::int64_t, std::int64_t, decltype(lightning_optimizer)&,
                                 decltype(closure)&>();
      stepped = loops::optimizer_step(run, optimizer, closure, /*automatic=*/true) || stepped;
    }
    ++run.state.global_step;  // counted even when the step was skipped, as in Lightning
  }
  if (result) return std::move(*result);
  // The override did not run the closure: training_step did not run for this batch.
  if constexpr (std::is_default_constructible_v<Output>)
    return Output{};
  else
    throw std::logic_error(
        "volt: optimizer_step did not run the closure, so training_step did not run, and its output type cannot be "
        "default-constructed for on_train_batch_end; return a default-constructible type (or std::optional) "
        "from training_step.");
}

template <class Module, class Batch>
concept TakesOptimizerIdx = hooks::match_v<hooks::training_step_t, Module, const Batch&, std::int64_t, std::int64_t>.arity == 3;

// Automatic optimization steps one optimizer (or, Lightning 1.x, each one with optimizer_idx).
// Checked once when fit starts, before any hook runs a step (Lightning 2.x checks it there too).
template <class Module, class Batch, class Optimization>
void check_automatic_optimizer_count(const Optimization& optimization) {
  if constexpr (!TakesOptimizerIdx<Module, Batch>) {
    if (optimization.num_optimizers() != 1)
      throw_automatic_optimizer_count(optimization.num_optimizers());
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
          optimize(run, optimizer, [&] { return training_step(static_cast<std::int64_t>(index)); }, batch_idx,
                   is_last_batch, stepped));
    });
    step_schedulers();
    return outputs;
  } else {
    auto output = optimize(run, optimization.optimizer(), [&] { return training_step(); }, batch_idx, is_last_batch,
                           stepped);
    step_schedulers();
    return output;
  }
}

}  // namespace volt::loops

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loops/impl/automatic_optimization.ipp>
#endif
