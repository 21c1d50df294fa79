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
#include <string_view>

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

namespace precision {

// The policy's name as Lightning spells it ("32-true", "bf16-mixed", ...): the fit summary's
// "precision" and the value of the example's --precision. A static policy's is its type's
// (P::name); a policy chosen at run time (precision::Runtime) says it with p.name().
template <class P>
  requires requires(const P& p) { std::string_view(p.name()); } || requires { std::string_view(P::name); }
constexpr std::string_view name(const P& p) noexcept {
  if constexpr (requires { std::string_view(p.name()); })
    return p.name();
  else
    return P::name;
}

// The dtype a policy gives the module's parameters, hence their gradients: float32 unless the
// policy says otherwise (the true-precision policies cast the module).
template <class P>
constexpr torch::ScalarType parameter_dtype() noexcept {
  if constexpr (requires { P::parameter_dtype; })
    return P::parameter_dtype;
  else
    return torch::kFloat32;
}
// The same for a policy value: a run-time policy (precision::Runtime) says it with
// p.parameter_dtype(); a static one by its type.
template <class P>
constexpr torch::ScalarType parameter_dtype(const P& p) noexcept {
  if constexpr (requires { { p.parameter_dtype() } -> std::same_as<torch::ScalarType>; })
    return p.parameter_dtype();
  else
    return parameter_dtype<P>();
}

// Whether a strategy can reduce the gradients a precision produces. A strategy whose collectives
// reduce gradients says which dtypes they take (static constexpr bool can_reduce(torch::ScalarType)),
// unless it reduces them in fp32 whatever the parameters' dtype (static constexpr bool
// reduces_gradients_in_fp32 = true). A strategy that says neither (SingleDevice) reduces nothing.
template <class S, class P>
constexpr bool strategy_can_reduce_gradients() noexcept {
  if constexpr (requires { requires S::reduces_gradients_in_fp32; })
    return true;
  else if constexpr (requires { S::can_reduce(torch::kFloat32); })
    return S::can_reduce(parameter_dtype<P>());
  else
    return true;
}

namespace diagnostic {
template <class Strategy, class Precision>
struct strategy_cannot_reduce_precision_gradients {
  static constexpr bool value = false;  // declared here, so the compiler's note names both types
};
}  // namespace diagnostic

// Called by the Trainer: a pair that cannot work together is a compile error naming both.
template <class S, class P>
constexpr void check_strategy_precision() noexcept {
  if constexpr (!strategy_can_reduce_gradients<S, P>())
    static_assert(diagnostic::strategy_cannot_reduce_precision_gradients<S, P>::value,
                  "volt: this Strategy's collectives cannot reduce gradients in this Precision's parameter dtype "
                  "(see the note naming both types; e.g. Gloo has no bfloat16 reduction, so DDP on CPU cannot run "
                  "bf16-true). Fix: use a mixed policy (BF16Mixed / FP16Mixed keep fp32 parameters and gradients), or "
                  "a strategy that reduces gradients in fp32 (reduces_gradients_in_fp32 = true).");
}

}  // namespace precision

}  // namespace volt
