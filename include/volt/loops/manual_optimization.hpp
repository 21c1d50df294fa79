#pragma once
// One training batch under manual optimization (Lightning's `self.automatic_optimization =
// False`): training_step does zero_grad, ctx.manual_backward and ctx.optimizer(i).step()
// itself; volt only calls it and hands its output to on_train_batch_end.
#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <volt/core/module.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/hooks/call.hpp>
#include <volt/hooks/tags.hpp>
#include <volt/core/step_output.hpp>
#include <volt/detail/config.hpp>

namespace volt::loops {

// Trainer settings that only make sense when volt runs the optimizer (Lightning rejects them too).
VOLT_INLINE void check_manual_optimization_options(const TrainerOptions& options);

// As Lightning 1.x, a training_step_end(output) hook gets what training_step returned, and its
// result is what on_train_batch_end and training_epoch_end see.
template <class Run, class Batch>
auto manual_optimization_step(Run& run, const Batch& batch, std::int64_t batch_idx) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  [[maybe_unused]] auto autocast = run.precision.forward_context();
  if constexpr (std::is_void_v<decltype(run.call(hooks::training_step, batch, batch_idx))>) {
    run.call(hooks::training_step, batch, batch_idx);
    return NoStepOutput{};
  } else {
    auto out = run.call(hooks::training_step, batch, batch_idx);
    if constexpr (hooks::has<hooks::training_step_end_t, Module, decltype(out)&&>)
      return run.call(hooks::training_step_end, std::move(out));
    else
      return out;
  }
}

}  // namespace volt::loops

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loops/impl/manual_optimization.ipp>
#endif
