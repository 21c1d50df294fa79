#pragma once
// The shapes that pass between the loops, the Strategy and the Precision along the one step
// path (loops/step.hpp). The loops call only the Strategy; the Strategy calls the Precision;
// both take the hooks and the closure as template parameters, so every call inlines. The
// archetypes below are what the Strategy and Precision concepts check against.
#include <torch/torch.h>

namespace volt {

// How strategy.reduce combines a tensor across processes (Lightning's reduce_op).
enum class ReduceOp { sum, mean, max, min };

namespace seam {
// What precision.backward gets: the hooks around backward (Lightning's Precision.pre_backward /
// backward / post_backward call these): on_before_backward, the module's backward (or
// loss.backward()), on_after_backward.
struct BackwardHooksArchetype {
  void before_backward(const torch::Tensor&) {}
  void backward(const torch::Tensor&) {}
  void after_backward() {}
};
// What precision.optimizer_step gets: after_closure runs on_before_optimizer_step and gradient
// clipping (Lightning's Precision._after_closure), after the precision unscaled the gradients.
struct StepHooksArchetype {
  void after_closure(torch::optim::Optimizer&) {}
};
// The closure: training_step, zero_grad when due, backward; returns the loss (undefined when
// training_step returned an empty optional), as torch optimizers' step(closure) expects.
struct ClosureArchetype {
  torch::Tensor operator()() const { return {}; }
};
// A precision, as a Strategy concept check sees it.
struct PrecisionArchetype {
  template <class Hooks>
  void backward(const torch::Tensor&, Hooks&) {}
  template <class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Optimizer&, Closure&, Hooks&) {
    return true;
  }
};
// A loader, as process_dataloader sees it.
struct LoaderArchetype {};
}  // namespace seam

}  // namespace volt
