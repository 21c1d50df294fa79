#pragma once
// Concepts for a user's Module (Lightning's LightningModule): a torch::nn::Module with
// training_step and configure_optimizers. Each sub-concept names one requirement, so when
// TrainableModule fails the failing part already says why.
#include <concepts>
#include <cstdint>
#include <type_traits>

#include <torch/torch.h>

#include <volt/hooks/call.hpp>

namespace volt {

template <class M>
concept TorchModule = std::derived_from<M, torch::nn::Module>;

template <class M>
concept HasConfigureOptimizers = hooks::has<hooks::configure_optimizers_t, M>;

template <class M, class Batch>
concept HasTrainingStep = hooks::has<hooks::training_step_t, M, const Batch&, std::int64_t>;
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
    std::declval<std::int64_t>()))>;

template <class M, class Batch>
concept TrainableModule = TorchModule<M> && HasConfigureOptimizers<M> && HasTrainingStep<M, Batch> &&
                          std::same_as<training_step_result_t<M, Batch>, torch::Tensor>;

}  // namespace volt
