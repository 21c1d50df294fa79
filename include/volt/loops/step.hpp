#pragma once
// The one step path, for automatic and manual optimization alike:
//   backward(run, loss)        -> strategy.backward -> precision.backward, which calls back
//                                 on_before_backward | the module's backward (or loss.backward()) | on_after_backward
//   optimizer_step(run, opt, closure)
//                              -> strategy.optimizer_step -> precision.optimizer_step, which runs
//                                 the closure, then on_before_optimizer_step | clipping (automatic
//                                 optimization only), then steps the optimizer
// The hooks travel as small structs over the Run, the closure as a lambda: all of it inlines.
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/hooks/call.hpp>
#include <volt/hooks/tags.hpp>
#include <volt/loops/profiling.hpp>

namespace volt::loops {

// What precision.backward calls back into.
template <class Run>
struct BackwardHooks {
  Run& run;
  void before_backward(const torch::Tensor& loss) { run.emit(hooks::on_before_backward, loss); }
  // Lightning's LightningModule.backward: the module's override, else loss.backward().
  void backward(const torch::Tensor& loss) {
    using Module = std::remove_reference_t<decltype(run.module)>;
    if constexpr (hooks::has<hooks::backward_t, Module, const torch::Tensor&>)
      run.call(hooks::backward, loss);
    else {
      if constexpr (hooks::backward_t::declared<Module>) hooks::backward_t::signature_mismatch<Module, const torch::Tensor&>();
      loss.backward();
    }
  }
  void after_backward() { run.emit(hooks::on_after_backward); }
};

template <class Run>
void backward(Run& run, const torch::Tensor& loss) {
  BackwardHooks<Run> hooks{run};
  using Strategy = std::remove_reference_t<decltype(run.strategy)>;
  [[maybe_unused]] auto timed = run.template profile_hook<StrategyAction, Strategy, StrategyBackward>();
  run.strategy.backward(run.precision, loss, hooks);
}

// Trainer-level gradient clipping (gradient_clip_val / gradient_clip_algorithm).
inline void clip_gradients(torch::optim::Optimizer& optimizer, std::optional<double> clip_val,
                           GradClipAlgorithm algorithm) {
  if (clip_val && *clip_val > 0.0) Context::clip_gradients(optimizer, *clip_val, algorithm == GradClipAlgorithm::norm);
}

// What precision.optimizer_step calls back into after the closure (Lightning's
// Precision._after_closure): on_before_optimizer_step, then clipping under automatic optimization.
template <class Run>
struct StepHooks {
  Run& run;
  bool automatic;
  template <class Optimizer>
  void after_closure(Optimizer& optimizer) {
    run.emit(hooks::on_before_optimizer_step, optimizer);
    if (!automatic) return;  // manual optimization clips in training_step (Lightning)
    if constexpr (hooks::has<hooks::configure_gradient_clipping_t, decltype(run.module), Optimizer&,
                             std::optional<double>, GradClipAlgorithm>)
      run.call(hooks::configure_gradient_clipping, optimizer, run.options.gradient_clip_val,
               run.options.gradient_clip_algorithm);
    else
      clip_gradients(optimizer, run.options.gradient_clip_val, run.options.gradient_clip_algorithm);
  }
};

// Returns false when the precision skipped the step (a grad scaler that found inf/NaN).
template <class Run, class Optimizer, class Closure>
bool optimizer_step(Run& run, Optimizer& optimizer, Closure& closure, bool automatic) {
  StepHooks<Run> hooks{run, automatic};
  using Strategy = std::remove_reference_t<decltype(run.strategy)>;
  [[maybe_unused]] auto timed = run.template profile_hook<StrategyAction, Strategy, StrategyOptimizerStep>();
  return run.strategy.optimizer_step(run.precision, optimizer, closure, hooks);
}

// What a module's optimizer_step(epoch, batch_idx, optimizer, optimizer_closure) hook gets as
// `optimizer` (Lightning's LightningOptimizer): step(closure) goes through the strategy and the
// precision; the torch optimizer is one `->` away, and it converts to it.
template <class Run, class Optimizer>
class LightningOptimizer {
 public:
  LightningOptimizer(Run& run, Optimizer& optimizer) noexcept : run_(&run), optimizer_(&optimizer) {}

  template <class Closure>
  void step(Closure&& closure) {
    taken_ = optimizer_step(*run_, *optimizer_, closure, /*automatic=*/true) || taken_;
  }
  // Lightning's step() without a closure: the closure is not run, so training_step is not called.
  void step() {
    auto nothing = [] { return torch::Tensor{}; };
    step(nothing);
  }
  void zero_grad() { optimizer_->zero_grad(); }
  Optimizer& optimizer() const noexcept { return *optimizer_; }
  Optimizer* operator->() const noexcept { return optimizer_; }
  operator Optimizer&() const noexcept { return *optimizer_; }
  bool step_taken() const noexcept { return taken_; }

 private:
  Run* run_;
  Optimizer* optimizer_;
  bool taken_ = false;
};

}  // namespace volt::loops
