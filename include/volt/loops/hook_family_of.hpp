#pragma once
// Which logging context (volt::HookFamily) each hook runs in: the one table the loops consult
// when they call a hook (loops/run.hpp's HookScope sets it and restores the outer one), as
// Lightning's _FxValidator keys logging rules by hook name. Hooks not listed (batch transfer,
// lr_scheduler_step, the checkpoint hooks, forward) keep the context they are called from.
#include <optional>
#include <type_traits>

#include <volt/core/hook_family.hpp>
#include <volt/hooks/tags.hpp>

namespace volt::loops {

template <class Hook, class... Hooks>
inline constexpr bool is_one_of_v = (std::is_same_v<Hook, Hooks> || ...);

template <class Hook>
consteval std::optional<HookFamily> hook_family_of() {
  using namespace hooks;
  if constexpr (is_one_of_v<Hook, training_step_t, training_step_end_t, on_train_batch_start_t, on_train_batch_end_t,
                            on_before_zero_grad_t, optimizer_zero_grad_t, on_before_backward_t, backward_t,
                            on_after_backward_t, on_before_optimizer_step_t, configure_gradient_clipping_t,
                            optimizer_step_t>)
    return HookFamily::train_step;
  else if constexpr (is_one_of_v<Hook, on_train_start_t, on_train_epoch_start_t, on_train_epoch_end_t,
                                 training_epoch_end_t>)
    return HookFamily::train_epoch;  // Lightning allows epoch-level logging in on_train_start too
  else if constexpr (is_one_of_v<Hook, validation_step_t, validation_step_end_t, validation_epoch_end_t,
                                 on_validation_start_t, on_validation_end_t, on_validation_epoch_start_t,
                                 on_validation_epoch_end_t, on_validation_batch_start_t, on_validation_batch_end_t>)
    return HookFamily::validation;
  else if constexpr (is_one_of_v<Hook, test_step_t, test_step_end_t, test_epoch_end_t, on_test_start_t, on_test_end_t,
                                 on_test_epoch_start_t, on_test_epoch_end_t, on_test_batch_start_t,
                                 on_test_batch_end_t>)
    return HookFamily::test;
  else if constexpr (is_one_of_v<Hook, predict_step_t, on_predict_start_t, on_predict_end_t, on_predict_epoch_start_t,
                                 on_predict_epoch_end_t, on_predict_batch_start_t, on_predict_batch_end_t>)
    return HookFamily::predict;
  else if constexpr (is_one_of_v<Hook, on_before_batch_transfer_t, transfer_batch_to_device_t,
                                 on_after_batch_transfer_t, lr_scheduler_step_t, on_save_checkpoint_t,
                                 on_load_checkpoint_t, state_dict_t, load_state_dict_t, forward_t>)
    return std::nullopt;
  else
    return HookFamily::none;  // set-up, tear-down, fit / train end, sanity check, model mode, errors, loaders
}

}  // namespace volt::loops
