#pragma once
// Compile-time diagnostics for Trainer<Module, DataModule>: the requirements are walked in
// order and only the first failing one fires, so a user sees one message that names the hook,
// the expected signature and, in the compiler's note, the types involved.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include <volt/core/datamodule.hpp>
#include <volt/core/module.hpp>
#include <volt/detail/meta.hpp>

namespace volt::diagnostic {

// Never true; their template arguments show up in the compiler's note.
template <class Module> struct module_must_derive_from_torch_nn_Module {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
template <class DataModule> struct datamodule_has_no_train_dataloader {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
template <class Module, class Batch> struct module_has_no_training_step {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
template <class Module, class Batch> struct training_step_cannot_take_batch_type {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
template <class Module, class Result> struct training_step_must_return_the_loss {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
template <class Module> struct module_has_no_configure_optimizers {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};

// Names Lightning users reach for that volt (like Lightning 2.x) never calls: a member with one
// of these names is almost always a typo or a removed hook, so it is an error, not silence.
#define VOLT_WRONG_HOOK_NAMES(X)                                  \
  X(train_step, "training_step")                                  \
  X(val_step, "validation_step")                                  \
  X(validate_step, "validation_step")                             \
  X(training_steps, "training_step")                              \
  X(on_epoch_start, "on_train_epoch_start")                       \
  X(on_epoch_end, "on_train_epoch_end")                           \
  X(on_batch_start, "on_train_batch_start")                       \
  X(on_batch_end, "on_train_batch_end")                           \
  X(on_train_epoch_ends, "on_train_epoch_end")                    \
  X(training_epoch_ends, "training_epoch_end")                    \
  X(validation_epoch_ends, "validation_epoch_end")                \
  X(test_epoch_ends, "test_epoch_end")                            \
  X(on_val_epoch_start, "on_validation_epoch_start")              \
  X(on_val_epoch_end, "on_validation_epoch_end")                  \
  X(on_val_batch_end, "on_validation_batch_end")                  \
  X(val_epoch_end, "validation_epoch_end")                        \
  X(configure_optimizer, "configure_optimizers")                  \
  X(configure_optimisers, "configure_optimizers")                 \
  X(on_pretrain_routine_start, "on_fit_start (removed in Lightning 2.0)") \
  X(on_pretrain_routine_end, "on_fit_start (removed in Lightning 2.0)")

template <class M>
constexpr void diagnose_wrong_hook_names() {
#define VOLT_CHECK_WRONG_NAME(WRONG, RIGHT)                                                                 \
  static_assert(!requires { &M::WRONG; }, "volt: the Module declares `" #WRONG "`, which volt never calls " \
                                          "(Lightning has no such hook); did you mean `" RIGHT "`?");
  VOLT_WRONG_HOOK_NAMES(VOLT_CHECK_WRONG_NAME)
#undef VOLT_CHECK_WRONG_NAME
}

template <class M, class D>
constexpr bool validation_step_cannot_take_val_batch() {
  if constexpr (HasValLoader<D> && hooks::validation_step_t::declared<M>)
    return !HasValidationStep<M, batch_type_t<loader_t<D, hooks::val_dataloader_t>>>;
  else
    return false;
}

template <class M, class D>
constexpr void diagnose_fit() {
  diagnose_wrong_hook_names<M>();
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
                      "yields (see the note below); batch_idx and ctx may be left out. If it is private, add "
                      "`friend struct volt::access;` to the Module.");
      }
    } else if constexpr (!TrainingStepReturnsLoss<M, Batch>) {
      static_assert(training_step_must_return_the_loss<M, training_step_result_t<M, Batch>>::value,
                    "volt: training_step must return the loss: a torch::Tensor, a struct with a `loss` member, a "
                    "std::map<std::string, torch::Tensor> with a \"loss\" key, or a std::optional of one of these "
                    "(empty: skip this batch). Under manual optimization (static constexpr bool "
                    "automatic_optimization = false) it may return anything.");
    } else if constexpr (validation_step_cannot_take_val_batch<M, D>()) {
      // Without this, fit() would silently never validate.
      hooks::validation_step_t::signature_mismatch<M, const batch_type_t<loader_t<D, hooks::val_dataloader_t>>&,
                                                   std::int64_t>();
    } else if constexpr (!HasConfigureOptimizers<M>) {
      static_assert(module_has_no_configure_optimizers<M>::value,
                    "volt: the Module has no configure_optimizers. Add: auto configure_optimizers() { return "
                    "torch::optim::Adam(parameters(), torch::optim::AdamOptions(1e-3)); } (any torch::optim "
                    "optimizer, by value or in a unique_ptr/shared_ptr).");
    }
  }
}

}  // namespace volt::diagnostic

namespace volt {

// The hooks a type has, by name, in the hook table's order: for `Trainer::detected_hooks` and
// the summary printed at fit start. A hook counts when a member of its name is declared or
// one of its forms is callable with what volt passes (no arguments, or a batch and its index).
template <class T, class Batch>
struct hook_inventory {
 private:
  static constexpr std::pair<std::string_view, bool> table[] = {
#define VOLT_INVENTORY_ROW(NAME, MIN_ARGS, SIGNATURE)                                           \
  {#NAME, hooks::NAME##_t::declared<T> || hooks::has<hooks::NAME##_t, T> ||                     \
              hooks::has<hooks::NAME##_t, T, const Batch&, std::int64_t>},
      VOLT_HOOK_LIST(VOLT_INVENTORY_ROW)
#undef VOLT_INVENTORY_ROW
  };
  static constexpr std::size_t count = [] {
    std::size_t n = 0;
    for (const auto& row : table) n += row.second ? 1 : 0;
    return n;
  }();

 public:
  static constexpr std::array<std::string_view, count> names = [] {
    std::array<std::string_view, count> out{};
    std::size_t i = 0;
    for (const auto& row : table)
      if (row.second) out[i++] = row.first;
    return out;
  }();

  static constexpr bool contains(std::string_view name) {
    for (auto n : names)
      if (n == name) return true;
    return false;
  }
};

}  // namespace volt
