#pragma once
// Concepts for a user's Module (Lightning's LightningModule): a torch::nn::Module with
// training_step and configure_optimizers. Each sub-concept names one requirement, so when
// TrainableModule fails the failing part already says why.
#include <concepts>
#include <cstdint>
#include <type_traits>

#include <torch/torch.h>

#include <volt/core/step_output.hpp>
#include <volt/hooks/call.hpp>

namespace volt {

template <class M>
concept TorchModule = std::derived_from<M, torch::nn::Module>;

template <class M>
concept HasConfigureOptimizers = hooks::has<hooks::configure_optimizers_t, M>;

// The third argument is Lightning 1.x's optimizer_idx (for several optimizers); the prefix
// rule lets training_step take (batch), (batch, batch_idx) or all three.
template <class M, class Batch>
concept HasTrainingStep = hooks::has<hooks::training_step_t, M, const Batch&, std::int64_t, std::int64_t>;
template <class M, class Batch>
concept HasValidationStep = hooks::has<hooks::validation_step_t, M, const Batch&, std::int64_t>;
template <class M, class Batch>
concept HasTestStep = hooks::has<hooks::test_step_t, M, const Batch&, std::int64_t>;
template <class M, class Batch>
concept HasPredictStep = hooks::has<hooks::predict_step_t, M, const Batch&, std::int64_t>;

// What training_step returns, given the batch type.
template <class M, class Batch>
using training_step_result_t = std::remove_cvref_t<decltype(hooks::call(
    hooks::training_step, std::declval<M&>(), std::declval<hooks::hook_context_t<M>&>(), std::declval<const Batch&>(),
    std::declval<std::int64_t>(), std::declval<std::int64_t>()))>;

// A module opts out of automatic optimization with `static constexpr bool automatic_optimization = false;`.
// Only a constant can choose the loop at compile time: a non-static member or a function named
// automatic_optimization is a compile error naming the fix (diagnose_automatic_optimization).
template <class M>
concept DeclaresAutomaticOptimization = requires { &M::automatic_optimization; };
template <class M>
concept ConstantAutomaticOptimization = requires {
  requires std::is_same_v<std::remove_cv_t<decltype(M::automatic_optimization)>, bool>;
  typename std::bool_constant<M::automatic_optimization>;
};
template <class M>
concept ManualOptimization = ConstantAutomaticOptimization<M> && !M::automatic_optimization;

namespace diagnostic {
template <class Module>
struct automatic_optimization_must_be_static_constexpr_bool {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
// Lightning's `self.automatic_optimization = False` written as a member (or a property) would
// otherwise be silently ignored: volt would optimize automatically and the module's own steps
// would run backward a second time.
// Returns whether the module passed, so that no second diagnostic follows this one.
template <class M>
constexpr bool diagnose_automatic_optimization() {
  if constexpr (DeclaresAutomaticOptimization<M> && !ConstantAutomaticOptimization<M>) {
    static_assert(automatic_optimization_must_be_static_constexpr_bool<M>::value,
                  "volt: the Module's `automatic_optimization` must be a compile-time constant, read when the "
                  "Trainer picks its optimization loop; a non-static member, a function or a non-constexpr static "
                  "is not. Write: static constexpr bool automatic_optimization = false;");
    return false;
  } else {
    return true;
  }
}
}  // namespace diagnostic

// Under automatic optimization training_step returns a loss volt can find (core/step_output.hpp);
// under manual optimization it may return anything, or nothing.
template <class M, class Batch>
concept TrainingStepReturnsLoss = ManualOptimization<M> || StepOutput<training_step_result_t<M, Batch>>;

template <class M, class Batch>
concept TrainableModule =
    TorchModule<M> && HasConfigureOptimizers<M> && HasTrainingStep<M, Batch> && TrainingStepReturnsLoss<M, Batch>;

}  // namespace volt
