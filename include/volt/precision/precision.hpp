#pragma once
// The Precision concept (Lightning's Precision plugin, plugins/precision/precision.py): how the
// module and inputs are typed, what autocast context wraps the steps, and how backward and the
// optimizer step are done. Held by value by the Trainer and called only through the Strategy.
//
// The step path hands a precision two things it must not reorder but may wrap:
//   backward(loss, hooks): hooks.before_backward(loss'), hooks.backward(loss'), hooks.after_backward()
//     where loss' is the loss the precision backpropagates (a grad scaler's scaled loss);
//   optimizer_step(optimizer, closure, hooks): runs `closure` (training_step, zero_grad, backward),
//     then hooks.after_closure(optimizer) (on_before_optimizer_step and gradient clipping, which
//     must see unscaled gradients), then steps the optimizer; false when it skipped the step
//     (a grad scaler that found inf/NaN: the scheduler step is skipped with it).
// A mixed-precision type is then a new type: it scales in backward, unscales between the closure
// and after_closure, and skips the step on inf/NaN, without any edit to the loops.
#include <concepts>

#include <torch/torch.h>

#include <volt/core/step_seam.hpp>

namespace volt {

template <class P>
concept Precision = requires(P& p, torch::nn::Module& module, torch::Tensor loss, torch::optim::SGD& opt,
                             seam::BackwardHooksArchetype& backward_hooks, seam::StepHooksArchetype& step_hooks,
                             seam::ClosureArchetype& closure) {
  p.convert_module(module);
  { p.convert_input(torch::Tensor{}) } -> std::convertible_to<torch::Tensor>;  // and every batch type
  p.forward_context();  // an RAII guard that lives across training_step (autocast)
  p.backward(loss, backward_hooks);
  { p.optimizer_step(opt, closure, step_hooks) } -> std::convertible_to<bool>;
};

}  // namespace volt
