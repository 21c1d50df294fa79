#pragma once
// FP32: the default precision (Lightning's Precision base class). Every member is a
// pass-through the compiler removes; the optimizer step hands torch the closure, so optimizers
// that evaluate it several times (LBFGS) see the whole training step each time.
#include <torch/torch.h>

#include <volt/precision/precision.hpp>

namespace volt::precision {

struct FP32 {
  static constexpr const char* name = "32-true";
  struct NoGuard {};
  void convert_module(torch::nn::Module&) const noexcept {}
  template <class Batch>
  Batch&& convert_input(Batch&& batch) const noexcept {
    return static_cast<Batch&&>(batch);
  }
  NoGuard forward_context() const noexcept { return {}; }

  template <class Hooks>
  void backward(const torch::Tensor& loss, Hooks& hooks) const {
    hooks.before_backward(loss);
    hooks.backward(loss);
    hooks.after_backward();
  }

  // Lightning's Precision.optimizer_step: optimizer.step(closure) with on_before_optimizer_step
  // and clipping after each evaluation of the closure (_wrap_closure).
  template <class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Optimizer& optimizer, Closure& closure, Hooks& hooks) const {
    struct Wrapped {
      Optimizer& optimizer;
      Closure& closure;
      Hooks& hooks;
      torch::Tensor operator()() const {
        torch::Tensor loss = closure();
        hooks.after_closure(optimizer);
        return loss;
      }
    } wrapped{optimizer, closure, hooks};
    // One captured reference: small enough for std::function's local buffer (no allocation per step).
    optimizer.step([&wrapped] { return wrapped(); });
    return true;
  }
};

static_assert(Precision<FP32>);

}  // namespace volt::precision
