#pragma once
// The validation and test loops (one template, two hook sets). Order, as Lightning 2.x:
//   no grad | on_{stage}_model_eval (default: eval mode) | on_{stage}_start | on_{stage}_epoch_start |
//   per batch: on_{stage}_batch_start, {stage}_step, {stage}_step_end (1.x), on_{stage}_batch_end |
//   {stage}_epoch_end(outputs) (1.x, only if declared) | on_{stage}_epoch_end | on_{stage}_end |
//   on_{stage}_model_train (default: the mode the module had before)
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <volt/core/hook_family.hpp>
#include <volt/hooks/call.hpp>
#include <volt/hooks/tags.hpp>
#include <volt/loops/batches.hpp>
#include <volt/loops/profiling.hpp>
#include <volt/loops/logging.hpp>
#include <volt/core/step_output.hpp>
#include <volt/detail/config.hpp>

namespace volt::loops {

struct ValidationHooks {
  static constexpr HookFamily family = HookFamily::validation;
  static constexpr auto start = hooks::on_validation_start;
  static constexpr auto end = hooks::on_validation_end;
  static constexpr auto epoch_start = hooks::on_validation_epoch_start;
  static constexpr auto epoch_end = hooks::on_validation_epoch_end;
  static constexpr auto batch_start = hooks::on_validation_batch_start;
  static constexpr auto batch_end = hooks::on_validation_batch_end;
  static constexpr auto step = hooks::validation_step;
  static constexpr auto step_end = hooks::validation_step_end;
  static constexpr auto epoch_end_outputs = hooks::validation_epoch_end;
  static constexpr auto model_eval = hooks::on_validation_model_eval;
  static constexpr auto model_train = hooks::on_validation_model_train;
};

struct TestHooks {
  static constexpr HookFamily family = HookFamily::test;
  static constexpr auto start = hooks::on_test_start;
  static constexpr auto end = hooks::on_test_end;
  static constexpr auto epoch_start = hooks::on_test_epoch_start;
  static constexpr auto epoch_end = hooks::on_test_epoch_end;
  static constexpr auto batch_start = hooks::on_test_batch_start;
  static constexpr auto batch_end = hooks::on_test_batch_end;
  static constexpr auto step = hooks::test_step;
  static constexpr auto step_end = hooks::test_step_end;
  static constexpr auto epoch_end_outputs = hooks::test_epoch_end;
  static constexpr auto model_eval = hooks::on_test_model_eval;
  static constexpr auto model_train = hooks::on_test_model_train;
};

// on_{stage}_model_eval / on_{stage}_model_train: the module's override replaces volt's default
// (Lightning's hooks of these names, called on the module only, where no logging is allowed).
template <class Run, class Hook, class Default>
void model_mode_hook(Run& run, Hook hook, Default&& by_default) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  if constexpr (hooks::has<Hook, Module>) {
    run.call(hook);
  } else {
    if constexpr (Hook::template declared<Module>) Hook::template signature_mismatch<Module>();
    by_default();
  }
}

// Grad mode off for evaluation: torch::InferenceMode (Lightning's default inference_mode=True)
// or torch::NoGradGuard. Constructor and destructor compiled once (fast mode): inline, every
// user TU compiled two std::optional stacks for them.
class EvalGradGuard {
 public:
  VOLT_INLINE explicit EvalGradGuard(bool inference_mode);
  VOLT_INLINE ~EvalGradGuard();
  EvalGradGuard(const EvalGradGuard&) = delete;
  EvalGradGuard& operator=(const EvalGradGuard&) = delete;

 private:
  std::optional<c10::InferenceMode> inference_;
  std::optional<torch::NoGradGuard> no_grad_;
};

// {stage}_step, then the 1.x {stage}_step_end(output) when the module has it: what that returns
// is the step's output from then on (on_{stage}_batch_end, {stage}_epoch_end), as in Lightning 1.x.
// A step (or step_end) that returns void gives NoStepOutput.
template <class Kind, class Run, class Batch>
auto evaluation_step(Run& run, const Batch& batch, std::int64_t batch_idx) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  using StepEndHook = std::remove_const_t<decltype(Kind::step_end)>;
  // The step under the precision's forward context (autocast), as Lightning's val/test_step_context.
  auto step = [&] {
    [[maybe_unused]] auto autocast = run.precision.forward_context();
    return run.call(Kind::step, batch, batch_idx);
  };
  if constexpr (std::is_void_v<decltype(run.call(Kind::step, batch, batch_idx))>) {
    step();
    return NoStepOutput{};
  } else {
    auto out = step();
    using Out = decltype(out);
    if constexpr (!hooks::has<StepEndHook, Module, Out&&>) {
      if constexpr (StepEndHook::template declared<Module>) StepEndHook::template signature_mismatch<Module, Out&&>();
      return out;
    } else if constexpr (std::is_void_v<decltype(run.call(Kind::step_end, std::declval<Out&&>()))>) {
      run.call(Kind::step_end, std::move(out));
      return NoStepOutput{};
    } else {
      return run.call(Kind::step_end, std::move(out));
    }
  }
}

// Returns the epoch-level metrics this loop produced (what trainer.validate / test return).
template <class Kind, class Run, class Loader>
std::map<std::string, double> evaluation_loop(Run& run, Loader& loader, std::int64_t max_batches) {
  using Batch = batch_type_t<Loader>;
  using Output = decltype(evaluation_step<Kind>(run, std::declval<const Batch&>(), std::int64_t{}));
  // outputs are kept only when the 1.x {stage}_epoch_end(outputs) hook exists
  using EpochEndHook = std::remove_const_t<decltype(Kind::epoch_end_outputs)>;
  using Module = std::remove_reference_t<decltype(run.module)>;
  constexpr bool collect = hooks::has<EpochEndHook, Module, std::vector<Output>&&>;
  if constexpr (!collect && EpochEndHook::template declared<Module>)
    EpochEndHook::template signature_mismatch<Module, std::vector<Output>&&>();

  const bool was_training = run.module.is_training();
  EvalGradGuard grad_guard(run.options.inference_mode);
  model_mode_hook(run, Kind::model_eval, [&] { run.module.eval(); });
  run.state.num_eval_batches = max_batches;

  run.emit(Kind::start);
  run.emit(Kind::epoch_start);
  std::conditional_t<collect, std::vector<Output>, NoStepOutput> outputs{};
  for_each_batch(loader, max_batches, [&](auto&& raw_batch, std::int64_t batch_idx, bool) {
    const auto batch = run.prepare_batch(std::forward<decltype(raw_batch)>(raw_batch));
    run.emit(Kind::batch_start, batch, batch_idx);
    Output out = evaluation_step<Kind>(run, batch, batch_idx);
    run.emit(Kind::batch_end, std::as_const(out), batch, batch_idx);
    if constexpr (collect) outputs.push_back(std::move(out));
    return true;
  }, [&] { return run.template profile_phase<std::conditional_t<Kind::family == HookFamily::test, TestNext, ValNext>>(); });
  if constexpr (collect) run.call(Kind::epoch_end_outputs, std::move(outputs));
  auto produced = run.metrics.end_epoch(Kind::family);
  run.emit(Kind::epoch_end);
  produced.merge(run.metrics.end_epoch(Kind::family));  // what on_*_epoch_end itself logged
  log_epoch_metrics(run);
  run.emit(Kind::end);

  model_mode_hook(run, Kind::model_train, [&] { run.module.train(was_training); });
  return produced;
}

}  // namespace volt::loops

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loops/impl/evaluation_loop.ipp>
#endif
