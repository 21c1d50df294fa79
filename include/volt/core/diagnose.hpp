#pragma once
// Compile-time diagnostics for Trainer<Module, DataModule>: the requirements are walked in
// order and only the first failing one fires, so a user sees one message that names the hook,
// the expected signature and, in the compiler's note, the types involved.
#include <cstdint>
#include <type_traits>

#include <volt/core/datamodule.hpp>
#include <volt/core/module.hpp>
#include <volt/detail/meta.hpp>

namespace volt::diagnostic {

// Never true; their template arguments show up in the compiler's note.
template <class Module> struct module_must_derive_from_torch_nn_Module : std::false_type {};
template <class DataModule> struct datamodule_has_no_train_dataloader : std::false_type {};
template <class Module, class Batch> struct module_has_no_training_step : std::false_type {};
template <class Module, class Batch> struct training_step_cannot_take_batch_type : std::false_type {};
template <class Module, class Result> struct training_step_must_return_the_loss : std::false_type {};
template <class Module> struct module_has_no_configure_optimizers : std::false_type {};
template <class Module, class Batch> struct module_has_no_step_for_this_entry_point : std::false_type {};

template <class M, class D>
constexpr void diagnose_fit() {
  if constexpr (!TorchModule<M>) {
    static_assert(module_must_derive_from_torch_nn_Module<M>::value,
                  "volt: the Module must derive from torch::nn::Module: write `struct MyModel : torch::nn::Module`.");
  } else if constexpr (!HasTrainLoader<D>) {
    static_assert(datamodule_has_no_train_dataloader<D>::value,
                  "volt: the DataModule has no train_dataloader. Add: auto train_dataloader() returning a "
                  "range of batches (e.g. volt::data::TensorLoader, or a torch::data loader).");
  } else {
    using Batch = train_batch_t<D>;
    if constexpr (!HasTrainingStep<M, Batch>) {
      if constexpr (hooks::training_step_t::declared<M>) {
        static_assert(training_step_cannot_take_batch_type<M, Batch>::value,
                      "volt: training_step cannot take the DataModule's batch type (both types are in the note "
                      "below). Expected: torch::Tensor training_step(const Batch& batch, int64_t batch_idx, "
                      "volt::Context& ctx), where Batch is what train_dataloader() yields; batch_idx and ctx may "
                      "be left out.");
      } else {
        static_assert(module_has_no_training_step<M, Batch>::value,
                      "volt: the Module has no training_step. Add: torch::Tensor training_step(const Batch& "
                      "batch, int64_t batch_idx, volt::Context& ctx), where Batch is what train_dataloader() "
                      "yields (see the note below); batch_idx and ctx may be left out.");
      }
    } else if constexpr (!std::same_as<training_step_result_t<M, Batch>, torch::Tensor>) {
      static_assert(training_step_must_return_the_loss<M, training_step_result_t<M, Batch>>::value,
                    "volt: training_step must return the loss as torch::Tensor (a scalar that volt calls "
                    "backward() on).");
    } else if constexpr (!HasConfigureOptimizers<M>) {
      static_assert(module_has_no_configure_optimizers<M>::value,
                    "volt: the Module has no configure_optimizers. Add: auto configure_optimizers() { return "
                    "torch::optim::Adam(parameters(), torch::optim::AdamOptions(1e-3)); } (any torch::optim "
                    "optimizer, by value or in a unique_ptr/shared_ptr).");
    }
  }
}

}  // namespace volt::diagnostic
