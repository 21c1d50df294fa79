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
    hooks::training_step, std::declval<M&>(), std::declval<Context&>(), std::declval<const Batch&>(),
    std::declval<std::int64_t>(), std::declval<std::int64_t>()))>;

// A module opts out of automatic optimization with `static constexpr bool automatic_optimization = false;`.
template <class M>
concept ManualOptimization = requires {
  { M::automatic_optimization } -> std::convertible_to<bool>;
} && !M::automatic_optimization;

// Under automatic optimization training_step returns a loss volt can find (core/step_output.hpp);
// under manual optimization it may return anything, or nothing.
template <class M, class Batch>
concept TrainingStepReturnsLoss = ManualOptimization<M> || StepOutput<training_step_result_t<M, Batch>>;

template <class M, class Batch>
concept TrainableModule =
    TorchModule<M> && HasConfigureOptimizers<M> && HasTrainingStep<M, Batch> && TrainingStepReturnsLoss<M, Batch>;

}  // namespace volt
