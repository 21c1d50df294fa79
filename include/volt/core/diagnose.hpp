#pragma once
// Compile-time diagnostics for Trainer<Module, DataModule>: the requirements are walked in
// order and only the first failing one fires, so a user sees one message that names the hook,
// the expected signature and, in the compiler's note, the types involved.
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>
#include <type_traits>
#include <utility>

#include <volt/core/datamodule.hpp>
#include <volt/core/module.hpp>
#include <volt/core/stage.hpp>
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
template <class Module, class Batch> struct training_step_takes_the_batch_by_non_const_reference {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
template <class Module, class Batch> struct training_step_takes_the_context_before_batch_idx {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
template <class DataModule, class Returned> struct train_dataloader_result_is_not_a_loader {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
template <class Module> struct module_has_no_configure_optimizers {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};

// Names Lightning users reach for that volt (like Lightning 2.x) never calls: a member with one
// of these names is almost always a typo or a removed hook, so it is an error, not silence.
// C++ cannot list a type's members, so the names are a table (as Lightning's own
// configuration_validator.py keeps one of removed hooks). Each row: (wrong name, what to write).
// Epoch and batch hooks, wrong for a Module and for a callback alike:
#define VOLT_WRONG_HOOK_NAMES(X)                                                          \
  X(on_epoch_start, "on_train_epoch_start")                                               \
  X(on_epoch_end, "on_train_epoch_end")                                                   \
  X(on_batch_start, "on_train_batch_start")                                               \
  X(on_batch_end, "on_train_batch_end")                                                   \
  X(on_train_epoch_ends, "on_train_epoch_end")                                            \
  X(on_train_epoch_edn, "on_train_epoch_end")                                             \
  X(on_train_epoch_begin, "on_train_epoch_start")                                         \
  X(on_train_batch_ends, "on_train_batch_end")                                            \
  X(on_validation_epoch_ends, "on_validation_epoch_end")                                  \
  X(on_validation_epoch_edn, "on_validation_epoch_end")                                   \
  X(on_validation_batch_ends, "on_validation_batch_end")                                  \
  X(on_test_epoch_ends, "on_test_epoch_end")                                              \
  X(on_val_epoch_start, "on_validation_epoch_start")                                      \
  X(on_val_epoch_end, "on_validation_epoch_end")                                          \
  X(on_val_batch_start, "on_validation_batch_start")                                      \
  X(on_val_batch_end, "on_validation_batch_end")                                          \
  X(on_fit_begin, "on_fit_start")                                                         \
  X(on_training_start, "on_train_start")                                                  \
  X(on_training_end, "on_train_end")                                                      \
  X(on_pretrain_routine_start, "on_fit_start (removed in Lightning 2.0)")                 \
  X(on_pretrain_routine_end, "on_fit_start (removed in Lightning 2.0)")                   \
  X(on_hpc_save, "on_save_checkpoint (on_hpc_save was removed in Lightning 2.0)")         \
  X(on_hpc_load, "on_load_checkpoint (on_hpc_load was removed in Lightning 2.0)")
// Steps and optimizers, on a Module:
#define VOLT_WRONG_MODULE_NAMES(X)                                                        \
  X(train_step, "training_step")                                                          \
  X(trainig_step, "training_step")                                                        \
  X(training_steps, "training_step")                                                      \
  X(val_step, "validation_step")                                                          \
  X(validate_step, "validation_step")                                                     \
  X(validaton_step, "validation_step")                                                    \
  X(validation_steps, "validation_step")                                                  \
  X(test_steps, "test_step")                                                              \
  X(predict_steps, "predict_step")                                                        \
  X(training_epoch_ends, "training_epoch_end")                                            \
  X(validation_epoch_ends, "validation_epoch_end")                                        \
  X(test_epoch_ends, "test_epoch_end")                                                    \
  X(val_epoch_end, "validation_epoch_end")                                                \
  X(configure_optimizer, "configure_optimizers")                                          \
  X(configure_optimisers, "configure_optimizers")                                         \
  X(configure_callback, "configure_callbacks")                                            \
  X(get_progress_bar_dict, "ctx.log(name, value, {.prog_bar = true}) (removed in Lightning 2.0)") \
  X(on_train_dataloader, "the DataModule's train_dataloader (removed in Lightning 2.0)")
// Hooks Lightning removed from callbacks:
#define VOLT_WRONG_CALLBACK_NAMES(X)                                                      \
  X(on_init_start, "the callback's constructor (on_init_start was removed in Lightning 2.0)") \
  X(on_init_end, "the callback's constructor (on_init_end was removed in Lightning 2.0)")   \
  X(on_keyboard_interrupt, "on_exception (on_keyboard_interrupt was removed in Lightning 2.0)") \
  X(on_configure_sharded_model, "setup (removed in Lightning 2.0)")                        \
  X(on_before_accelerator_backend_setup, "setup (removed in Lightning 2.0)")
// Loaders and set-up, on a DataModule:
#define VOLT_WRONG_DATAMODULE_NAMES(X)                                                    \
  X(set_up, "setup")                                                                      \
  X(setup_data, "setup")                                                                  \
  X(tear_down, "teardown")                                                                \
  X(prepare_dataset, "prepare_data")                                                      \
  X(train_data_loader, "train_dataloader")                                                \
  X(training_dataloader, "train_dataloader")                                              \
  X(val_data_loader, "val_dataloader")                                                    \
  X(validation_dataloader, "val_dataloader")                                              \
  X(valid_dataloader, "val_dataloader")                                                   \
  X(test_data_loader, "test_dataloader")                                                  \
  X(predict_data_loader, "predict_dataloader")

// Any member of the name (a function, an overload set, a member template, a data member):
// the decoy trick of hooks/access.hpp, with one decoy struct holding every name, so a checked
// type costs one class instantiation (about 10 ms per type for the table, g++ 12, measured).
namespace wrong_name {
#define VOLT_WRONG_NAME_DECOY(WRONG, RIGHT) int WRONG;
struct decoys {
  VOLT_WRONG_HOOK_NAMES(VOLT_WRONG_NAME_DECOY)
  VOLT_WRONG_MODULE_NAMES(VOLT_WRONG_NAME_DECOY)
  VOLT_WRONG_CALLBACK_NAMES(VOLT_WRONG_NAME_DECOY)
  VOLT_WRONG_DATAMODULE_NAMES(VOLT_WRONG_NAME_DECOY)
};
#undef VOLT_WRONG_NAME_DECOY
template <class T>
struct mixed : T, decoys {};
#define VOLT_WRONG_NAME_PROBE(WRONG, RIGHT) \
  template <class T>                        \
  concept WRONG = std::is_class_v<T> && !std::is_final_v<T> && !requires { &mixed<T>::WRONG; };
VOLT_WRONG_HOOK_NAMES(VOLT_WRONG_NAME_PROBE)
VOLT_WRONG_MODULE_NAMES(VOLT_WRONG_NAME_PROBE)
VOLT_WRONG_CALLBACK_NAMES(VOLT_WRONG_NAME_PROBE)
VOLT_WRONG_DATAMODULE_NAMES(VOLT_WRONG_NAME_PROBE)
#undef VOLT_WRONG_NAME_PROBE
}  // namespace wrong_name

template <class M>
constexpr void diagnose_wrong_hook_names() {
#define VOLT_CHECK_WRONG_NAME(WRONG, RIGHT)                                                              \
  static_assert(!wrong_name::WRONG<M>, "volt: the Module declares `" #WRONG "`, which volt never calls " \
                                       "(Lightning has no such hook); did you mean `" RIGHT "`?");
  VOLT_WRONG_HOOK_NAMES(VOLT_CHECK_WRONG_NAME)
  VOLT_WRONG_MODULE_NAMES(VOLT_CHECK_WRONG_NAME)
#undef VOLT_CHECK_WRONG_NAME
}

// For each of the Trainer's callbacks (the type is in the compiler's note above the message).
template <class C>
constexpr void diagnose_wrong_callback_hook_names() {
#define VOLT_CHECK_WRONG_NAME(WRONG, RIGHT)                                                              \
  static_assert(!wrong_name::WRONG<C>, "volt: a callback declares `" #WRONG "`, which volt never calls " \
                                       "(Lightning has no such callback hook); did you mean `" RIGHT "`?");
  VOLT_WRONG_HOOK_NAMES(VOLT_CHECK_WRONG_NAME)
  VOLT_WRONG_CALLBACK_NAMES(VOLT_CHECK_WRONG_NAME)
#undef VOLT_CHECK_WRONG_NAME
}

template <class D>
constexpr void diagnose_wrong_datamodule_names() {
#define VOLT_CHECK_WRONG_NAME(WRONG, RIGHT)                                                                    \
  static_assert(!wrong_name::WRONG<D>, "volt: the DataModule declares `" #WRONG "`, which volt never calls " \
                                       "(a LightningDataModule has no such hook); did you mean `" RIGHT "`?");
  VOLT_WRONG_DATAMODULE_NAMES(VOLT_CHECK_WRONG_NAME)
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
  diagnose_wrong_datamodule_names<D>();
  if constexpr (!TorchModule<M>) {
    static_assert(module_must_derive_from_torch_nn_Module<M>::value,
                  "volt: the Module must derive from torch::nn::Module: write `struct MyModel : torch::nn::Module`.");
  } else if constexpr (hooks::has<hooks::train_dataloader_t, D> && !HasTrainLoader<D>) {
    static_assert(train_dataloader_result_is_not_a_loader<D, loader_t<D, hooks::train_dataloader_t>>::value,
                  "volt: the DataModule's train_dataloader() returns something that is not a range of batches (its "
                  "type is in the note below; a loader has begin() and end(), a torch::Tensor does not). Return a "
                  "loader, e.g. volt::data::TensorLoader(x, y, {.batch_size = 64}), or a torch::data loader.");
  } else if constexpr (hooks::train_dataloader_t::declared<D> && !HasTrainLoader<D>) {
    hooks::train_dataloader_t::signature_mismatch<D>();
  } else if constexpr (!HasTrainLoader<D>) {
    static_assert(datamodule_has_no_train_dataloader<D>::value,
                  "volt: the DataModule has no train_dataloader. Add: auto train_dataloader() returning a "
                  "range of batches (e.g. volt::data::TensorLoader, or a torch::data loader).");
  } else {
    using Batch = train_batch_t<D>;
    if constexpr (!HasTrainingStep<M, Batch>) {
      if constexpr (hooks::training_step_t::declared<M> && hooks::has<hooks::training_step_t, M, Batch&, std::int64_t>) {
        static_assert(training_step_takes_the_batch_by_non_const_reference<M, Batch>::value,
                      "volt: training_step takes the batch by non-const reference (Batch&); volt hands it over as "
                      "const. Write: torch::Tensor training_step(const Batch& batch, int64_t batch_idx, "
                      "volt::Context& ctx) (or take the batch by value).");
      } else if constexpr (hooks::training_step_t::declared<M> &&
                           hooks::has<hooks::training_step_t, M, const Batch&, Context&, std::int64_t>) {
        static_assert(training_step_takes_the_context_before_batch_idx<M, Batch>::value,
                      "volt: training_step takes the volt::Context before batch_idx; the Context comes last. Write: "
                      "torch::Tensor training_step(const Batch& batch, int64_t batch_idx, volt::Context& ctx).");
      } else if constexpr (hooks::training_step_t::declared<M>) {
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

namespace inventory_detail {

template <class Hook, class... Hooks>
inline constexpr bool one_of = (std::is_same_v<Hook, Hooks> || ...);

enum class Fit { yes, no, unknown };

// The leading arguments volt passes to each hook (Batch: the batch of the loop that calls it).
// A member template or overload set is only "found" when a call volt makes fits it; for the
// few hooks whose arguments depend on more than the batch, volt cannot tell (unknown).
template <class Hook, class T, class Batch, class Module = T>
constexpr Fit fits_what_volt_passes() {
  using namespace hooks;
  if constexpr (has<Hook, T>) {  // a form without the leading arguments
    return Fit::yes;
  } else if constexpr (std::is_void_v<Batch>) {
    return Fit::unknown;
  } else if constexpr (one_of<Hook, on_fit_start_t, on_fit_end_t, on_sanity_check_start_t, on_sanity_check_end_t,
                              on_train_start_t, on_train_end_t, on_validation_start_t, on_validation_end_t,
                              on_test_start_t, on_test_end_t, on_predict_start_t, on_predict_end_t,
                              on_train_epoch_start_t, on_train_epoch_end_t, on_validation_epoch_start_t,
                              on_validation_epoch_end_t, on_test_epoch_start_t, on_test_epoch_end_t,
                              on_predict_epoch_start_t, on_predict_epoch_end_t, on_after_backward_t,
                              configure_optimizers_t, configure_model_t, prepare_data_t>) {
    return Fit::no;  // volt passes nothing but the Context
  } else if constexpr (one_of<Hook, training_step_t, validation_step_t, test_step_t, predict_step_t, on_train_batch_start_t,
                              on_validation_batch_start_t, on_test_batch_start_t, on_predict_batch_start_t>) {
    return has<Hook, T, const Batch&, std::int64_t> ? Fit::yes : Fit::no;
  } else if constexpr (one_of<Hook, on_train_batch_end_t>) {
    // The output is training_step's result unless training_step_end or 1.x optimizer_idx reshape it.
    if constexpr (has<training_step_t, Module, const Batch&, std::int64_t> && !training_step_end_t::named<Module> &&
                  match_v<training_step_t, Module, const Batch&, std::int64_t, std::int64_t>.arity != 3) {
      using Output = training_step_result_t<Module, Batch>;
      if constexpr (std::is_void_v<Output>) return Fit::unknown;
      else return has<Hook, T, const Output&, const Batch&, std::int64_t> ? Fit::yes : Fit::no;
    } else {
      return Fit::unknown;
    }
  } else if constexpr (one_of<Hook, setup_t, teardown_t>) {
    return has<Hook, T, Stage> ? Fit::yes : Fit::no;
  } else if constexpr (one_of<Hook, on_before_backward_t, backward_t>) {
    return has<Hook, T, const torch::Tensor&> ? Fit::yes : Fit::no;
  } else if constexpr (one_of<Hook, on_before_zero_grad_t, on_before_optimizer_step_t>) {
    // volt passes the concrete optimizer type, which a plain member may name: only a fit is known.
    return has<Hook, T, torch::optim::Optimizer&> ? Fit::yes : Fit::unknown;
  } else if constexpr (one_of<Hook, on_exception_t>) {
    return has<Hook, T, const std::exception&> ? Fit::yes : Fit::no;
  } else {
    return Fit::unknown;
  }
}

// Why a step hook of the Module is never called: its loader is missing from the DataModule.
template <class Hook, class Data>
constexpr std::string_view missing_loader() {
  if constexpr (std::is_void_v<Data>) return {};
  else if constexpr (one_of<Hook, hooks::validation_step_t> && !HasValLoader<Data>) return "val_dataloader()";
  else if constexpr (one_of<Hook, hooks::test_step_t> && !HasTestLoader<Data>) return "test_dataloader()";
  else if constexpr (one_of<Hook, hooks::predict_step_t> && !HasPredictLoader<Data>) return "predict_dataloader()";
  else return {};
}

// void: the batch is unknown (no such loader, or Data unknown for a non-training hook).
template <class Hook, class Data, class TrainBatch>
struct batch_of_hook {
  using type = std::conditional_t<one_of<Hook, hooks::validation_step_t, hooks::on_validation_batch_start_t,
                                         hooks::test_step_t, hooks::on_test_batch_start_t, hooks::predict_step_t,
                                         hooks::on_predict_batch_start_t>,
                                  void, TrainBatch>;
};
template <class Hook, class Data, class TrainBatch>
  requires(one_of<Hook, hooks::validation_step_t, hooks::on_validation_batch_start_t> && HasValLoader<Data>)
struct batch_of_hook<Hook, Data, TrainBatch> {
  using type = batch_type_t<loader_t<Data, hooks::val_dataloader_t>>;
};
template <class Hook, class Data, class TrainBatch>
  requires(one_of<Hook, hooks::test_step_t, hooks::on_test_batch_start_t> && HasTestLoader<Data>)
struct batch_of_hook<Hook, Data, TrainBatch> {
  using type = batch_type_t<loader_t<Data, hooks::test_dataloader_t>>;
};
template <class Hook, class Data, class TrainBatch>
  requires(one_of<Hook, hooks::predict_step_t, hooks::on_predict_batch_start_t> && HasPredictLoader<Data>)
struct batch_of_hook<Hook, Data, TrainBatch> {
  using type = batch_type_t<loader_t<Data, hooks::predict_dataloader_t>>;
};

}  // namespace inventory_detail

namespace diagnostic {

// A callback's hook that is one plain member whose parameters cannot take what volt passes is
// reported when the Trainer's type is formed, so the message comes before the loops' long
// instantiation context (the Run type with every callback) that a later error would print.
template <class MemberPointer, class Module>
struct first_parameter_is_module : std::false_type {};
template <class R, class C, class P, class... Rest, class Module>
struct first_parameter_is_module<R (C::*)(P, Rest...), Module> : std::is_base_of<std::remove_cvref_t<P>, Module> {};
template <class R, class C, class P, class... Rest, class Module>
struct first_parameter_is_module<R (C::*)(P, Rest...) const, Module>
    : std::is_base_of<std::remove_cvref_t<P>, Module> {};

template <class C, class Module, class Data>
constexpr void diagnose_callback_hooks() {
  using namespace inventory_detail;
  // A hook that takes the module first (Lightning's pl_module) is left to the loops to judge.
#define VOLT_CHECK_CALLBACK_HOOK(NAME, MIN_ARGS, SIGNATURE)                                                  \
  if constexpr (hooks::NAME##_t::declared<C>) {                                                              \
    if constexpr (!first_parameter_is_module<decltype(access::NAME##_member<C>()), Module>::value &&                           \
                  fits_what_volt_passes<hooks::NAME##_t, C,                                                  \
                                        typename batch_of_hook<hooks::NAME##_t, Data, train_batch_t<Data>>::type, \
                                        Module>() == Fit::no)                                                \
      hooks::NAME##_t::signature_mismatch<C>();                                                              \
  }
  VOLT_HOOK_LIST(VOLT_CHECK_CALLBACK_HOOK)
#undef VOLT_CHECK_CALLBACK_HOOK
}

}  // namespace diagnostic

// A hook the type declares that volt will not call, and why (see hook_inventory).
struct UnusedHook {
  std::string_view name;
  std::string_view missing_loader;  // non-empty: the DataModule lacks this loader
  std::string_view signature;       // else: no form of the member fits; this is what volt passes
};

namespace inventory_detail {
enum class Use { absent, called, unused };
struct Row {
  std::string_view name;
  Use use;
  UnusedHook unused;
};
template <class Hook, class T, class Batch, class Data>
constexpr Row row() {
  if constexpr (!Hook::template declared<T> && !Hook::template named<T> && !hooks::has<Hook, T>) {
    return {Hook::name, Use::absent, {}};
  } else if constexpr (constexpr std::string_view loader = missing_loader<Hook, Data>(); !loader.empty()) {
    return {Hook::name, Use::unused, {Hook::name, loader, {}}};
  } else if constexpr (Hook::template declared<T> ||
                       fits_what_volt_passes<Hook, T, typename batch_of_hook<Hook, Data, Batch>::type>() != Fit::no) {
    return {Hook::name, Use::called, {}};
  } else {
    return {Hook::name, Use::unused, {Hook::name, {}, Hook::signature}};
  }
}
template <class T, class Batch, class Data>
inline constexpr Row rows[] = {
#define VOLT_INVENTORY_ROW(NAME, MIN_ARGS, SIGNATURE) row<hooks::NAME##_t, T, Batch, Data>(),
    VOLT_HOOK_LIST(VOLT_INVENTORY_ROW)
#undef VOLT_INVENTORY_ROW
};
template <class T, class Batch, class Data>
constexpr std::size_t count_of(Use use) {
  std::size_t n = 0;
  for (const auto& r : rows<T, Batch, Data>) n += r.use == use ? 1 : 0;
  return n;
}
}  // namespace inventory_detail

// The hooks a type has, by name, in the hook table's order: for `Trainer::detected_hooks` and
// the summary printed at fit start. A hook is listed in `names` when volt will call it: a
// single member of its name (a mismatch is a compile error where volt calls it), or a member
// template / overload set that a call volt makes fits. Members with a hook's name that volt
// will not call are in `unused`, with the reason: no form fits what volt passes (e.g. a
// member-template on_train_batch_end taking the wrong arguments), or, given the DataModule,
// a step whose loader it lacks. Batch is the training batch type; Data the DataModule (void: unknown).
template <class T, class Batch, class Data = void>
struct hook_inventory {
 private:
  using Use = inventory_detail::Use;
  static constexpr std::size_t called_count = inventory_detail::count_of<T, Batch, Data>(Use::called);
  static constexpr std::size_t unused_count = inventory_detail::count_of<T, Batch, Data>(Use::unused);

 public:
  static constexpr std::array<std::string_view, called_count> names = [] {
    std::array<std::string_view, called_count> out{};
    std::size_t i = 0;
    for (const auto& r : inventory_detail::rows<T, Batch, Data>)
      if (r.use == Use::called) out[i++] = r.name;
    return out;
  }();
  static constexpr std::array<UnusedHook, unused_count> unused = [] {
    std::array<UnusedHook, unused_count> out{};
    std::size_t i = 0;
    for (const auto& r : inventory_detail::rows<T, Batch, Data>)
      if (r.use == Use::unused) out[i++] = r.unused;
    return out;
  }();

  static constexpr bool contains(std::string_view name) {
    for (auto n : names)
      if (n == name) return true;
    return false;
  }
};

}  // namespace volt
