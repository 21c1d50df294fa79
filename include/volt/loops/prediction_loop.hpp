#pragma once
// The predict loop: no grad | on_predict_model_eval (default: eval mode) | on_predict_start | on_predict_epoch_start |
//   per batch: on_predict_batch_start, predict_step, on_predict_batch_end |
//   on_predict_epoch_end | on_predict_end. Returns every predict_step result, in order.
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include <volt/core/hook_family.hpp>
#include <volt/core/module.hpp>
#include <volt/core/step_output.hpp>
#include <volt/hooks/tags.hpp>
#include <volt/loops/batches.hpp>
#include <volt/loops/profiling.hpp>
#include <volt/loops/evaluation_loop.hpp>

namespace volt::loops {

namespace diagnostic {
template <class Module, class Batch>
struct predict_step_returns_void {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
}  // namespace diagnostic

// predict_step, or Lightning's default: forward(batch).
template <class Run, class Batch>
decltype(auto) predict_one(Run& run, const Batch& batch, std::int64_t batch_idx) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  [[maybe_unused]] auto autocast = run.precision.forward_context();  // Lightning's predict_step_context
  if constexpr (HasPredictStep<Module, Batch>) return run.call(hooks::predict_step, batch, batch_idx);
  else return run.call(hooks::forward, batch);
}

template <class Run, class Loader>
auto prediction_loop(Run& run, Loader& loader, std::int64_t max_batches) {
  using Batch = batch_type_t<Loader>;
  using Module = std::remove_reference_t<decltype(run.module)>;
  using Output = std::remove_cvref_t<decltype(predict_one(run, std::declval<const Batch&>(), std::int64_t{}))>;
  if constexpr (std::is_void_v<Output>) {
    static_assert(diagnostic::predict_step_returns_void<Module, Batch>::value,
                  "volt: predict_step must return the prediction (Lightning returns it from trainer.predict()); it "
                  "returns void.");
    return std::vector<NoStepOutput>{};
  } else {
  std::vector<Output> predictions;
  if (max_batches > 0) predictions.reserve(static_cast<std::size_t>(max_batches));

  EvalGradGuard grad_guard(run.options.inference_mode);
  model_mode_hook(run, hooks::on_predict_model_eval, [&] { run.module.eval(); });
  run.state.num_eval_batches = max_batches;
  run.emit(hooks::on_predict_start);
  run.emit(hooks::on_predict_epoch_start);
  for_each_batch(loader, max_batches, [&](auto&& raw_batch, std::int64_t batch_idx, bool) {
    const auto batch = run.prepare_batch(std::forward<decltype(raw_batch)>(raw_batch));
    run.emit(hooks::on_predict_batch_start, batch, batch_idx);
    predictions.push_back(predict_one(run, batch, batch_idx));
    run.emit(hooks::on_predict_batch_end, std::as_const(predictions.back()), batch, batch_idx);
    return true;
  }, [&] { return run.template profile_phase<PredictNext>(); });
  run.emit(hooks::on_predict_epoch_end);
  run.emit(hooks::on_predict_end);
  return predictions;
  }
}

}  // namespace volt::loops
