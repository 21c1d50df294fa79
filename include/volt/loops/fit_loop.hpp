#pragma once
// fit(): Lightning 2.x's hook order, in one place (docs/fit.md has it as pseudocode).
//   setup_stage(fit) | configure_optimizers | on_fit_start |
//   [sanity check: on_sanity_check_start, validation loop, on_sanity_check_end] |
//   on_train_start | per epoch: training_epoch (below) | on_train_end | on_fit_end | teardown_stage
#include <algorithm>
#include <optional>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/datamodule.hpp>
#include <volt/core/module.hpp>
#include <volt/loops/automatic_optimization.hpp>
#include <volt/loops/batches.hpp>
#include <volt/loops/evaluation_loop.hpp>
#include <volt/loops/stage_hooks.hpp>
#include <volt/optim/configure_optimizers.hpp>

namespace volt::loops {

// How this epoch validates: every `check_batch` training batches, or at the epoch's end when
// the loader cannot tell its length (check_batch == -1).
struct ValidationPlan {
  bool this_epoch = false;
  std::int64_t check_batch = -1;
  std::int64_t max_batches = -1;
};

template <class Run>
bool may_stop_early(const Run& run) {
  return run.state.current_epoch >= run.options.min_epochs && run.state.global_step >= run.options.min_steps;
}

template <class Run>
bool max_steps_reached(const Run& run) {
  return run.options.max_steps >= 0 && run.state.global_step >= run.options.max_steps;
}

// One training epoch:
//   on_train_epoch_start | per batch: on_train_batch_start (true / -1: skip the rest of the
//   epoch), automatic_optimization_step, [last batch: epoch-interval scheduler step],
//   on_train_batch_end, [validation when due] | training_epoch_end(outputs) (1.x, only if
//   declared) | on_train_epoch_end
template <class Run, class TrainLoader, class ValLoader, class Optimization>
void training_epoch(Run& run, TrainLoader& train_loader, ValLoader& val_loader, Optimization& optimization,
                    const ValidationPlan& val) {
  constexpr bool collect = hooks::has<hooks::training_epoch_end_t, std::remove_reference_t<decltype(run.module)>,
                                      std::vector<torch::Tensor>&&>;
  const std::int64_t epoch = run.state.current_epoch;
  set_epoch(train_loader, epoch);
  const std::int64_t n_batches =
      run.options.limit_train_batches.resolve(loader_size(train_loader), "limit_train_batches");

  auto validate = [&] {
    if constexpr (!std::is_same_v<ValLoader, NoLoader>) evaluation_loop<ValidationHooks>(run, val_loader, val.max_batches);
  };

  run.state.family = HookFamily::train_epoch;
  run.emit(hooks::on_train_epoch_start);
  std::conditional_t<collect, std::vector<torch::Tensor>, NoStepOutput> outputs{};
  bool epoch_scheduler_stepped = false;
  bool stopped_early = false;
  for_each_batch(train_loader, n_batches, [&](auto&& raw_batch, std::int64_t batch_idx) {
    const auto batch = run.prepare_batch(raw_batch);
    run.state.family = HookFamily::train_step;
    bool skip_rest = false;
    std::apply([&](auto&... cb) { (hooks::call(hooks::on_train_batch_start, cb, run.ctx, batch, batch_idx), ...); },
               run.callbacks);
    using Signal = decltype(run.call(hooks::on_train_batch_start, batch, batch_idx));
    if constexpr (std::is_same_v<Signal, bool>) skip_rest = run.call(hooks::on_train_batch_start, batch, batch_idx);
    else if constexpr (std::is_integral_v<Signal>) skip_rest = run.call(hooks::on_train_batch_start, batch, batch_idx) == -1;
    else run.call(hooks::on_train_batch_start, batch, batch_idx);
    if (skip_rest) {
      stopped_early = true;
      return false;
    }

    torch::Tensor loss = automatic_optimization_step(run, optimization, batch, batch_idx);
    if (batch_idx + 1 == n_batches) {
      optimization.step_scheduler(Interval::epoch, epoch + 1);
      epoch_scheduler_stepped = true;
    }
    run.emit(hooks::on_train_batch_end, std::as_const(loss), batch, batch_idx);
    if constexpr (collect) outputs.push_back(loss);

    if (val.this_epoch && val.check_batch > 0 && (batch_idx + 1) % val.check_batch == 0) validate();
    run.state.family = HookFamily::train_step;
    if (max_steps_reached(run) || (run.state.should_stop && may_stop_early(run))) {
      stopped_early = true;
      return false;
    }
    return true;
  });
  if (!stopped_early && !epoch_scheduler_stepped) optimization.step_scheduler(Interval::epoch, epoch + 1);
  if (!stopped_early && val.this_epoch && val.check_batch == -1) validate();

  run.state.family = HookFamily::train_epoch;
  if constexpr (collect) run.call(hooks::training_epoch_end, std::move(outputs));
  run.metrics.end_epoch(HookFamily::train_epoch);
  run.emit(hooks::on_train_epoch_end);
  run.metrics.end_epoch(HookFamily::train_epoch);  // what on_train_epoch_end itself logged
}

// Whether fit() runs validation at all: decided at compile time from the module's
// validation_step and the DataModule's val_dataloader.
template <class Module, class Data>
constexpr bool fit_validates() {
  if constexpr (HasValLoader<Data>) {
    using ValBatch = batch_type_t<loader_t<Data, hooks::val_dataloader_t>>;
    return HasValidationStep<Module, ValBatch>;
  } else {
    return false;
  }
}

template <class Run>
void fit_loop(Run& run) {
  using Module = std::remove_reference_t<decltype(run.module)>;
  using Data = std::remove_reference_t<decltype(run.data)>;
  const auto& opt = run.options;

  setup_stage(run, Stage::fit);
  auto optimization = optim::normalize(run.call(hooks::configure_optimizers));
  run.emit(hooks::on_fit_start);

  // Lightning asks for the val loader inside the sanity check, after on_sanity_check_start.
  using ValLoader = std::conditional_t<fit_validates<Module, Data>(), loader_or_void_t<Data, hooks::val_dataloader_t>,
                                       NoLoader>;
  std::optional<ValLoader> val_loader;
  std::int64_t val_batches = 0;
  auto load_val = [&] {
    if constexpr (fit_validates<Module, Data>()) {
      val_loader.emplace(run.call_data(hooks::val_dataloader));
      val_batches = opt.limit_val_batches.resolve(loader_size(*val_loader), "limit_val_batches");
    } else {
      val_loader.emplace();
    }
  };
  const bool val_disabled = opt.limit_val_batches.is_fraction() ? opt.limit_val_batches.fraction() == 0.0
                                                                 : opt.limit_val_batches.count() == 0;
  if (fit_validates<Module, Data>() && opt.num_sanity_val_steps != 0 && !val_disabled) {
    run.state.sanity_checking = true;
    run.emit(hooks::on_sanity_check_start);
    load_val();
    const std::int64_t sanity = opt.num_sanity_val_steps == -1 ? val_batches
                                : val_batches == -1            ? opt.num_sanity_val_steps
                                                               : std::min(opt.num_sanity_val_steps, val_batches);
    if constexpr (fit_validates<Module, Data>()) evaluation_loop<ValidationHooks>(run, *val_loader, sanity);
    run.emit(hooks::on_sanity_check_end);
    run.state.sanity_checking = false;
    run.metrics.reset();  // Lightning discards what the sanity check logged
  } else {
    load_val();
  }

  auto train_loader = run.call_data(hooks::train_dataloader);
  const auto train_size = loader_size(train_loader);
  const std::int64_t epoch_batches = opt.limit_train_batches.resolve(train_size, "limit_train_batches");
  ValidationPlan plan;
  if constexpr (fit_validates<Module, Data>()) {
    plan.max_batches = val_batches;
    if (opt.val_check_interval.is_fraction()) {
      plan.check_batch = epoch_batches < 0 ? -1
                                           : std::max<std::int64_t>(
                                                 1, static_cast<std::int64_t>(opt.val_check_interval.fraction() *
                                                                              static_cast<double>(epoch_batches)));
    } else {
      plan.check_batch = opt.val_check_interval.count();
      if (epoch_batches >= 0 && plan.check_batch > epoch_batches)
        throw std::invalid_argument(fmt::format(
            "volt: val_check_interval={} is more than the {} training batches of an epoch; use a number of "
            "batches <= {} or a fraction of the epoch (e.g. 0.5).",
            plan.check_batch, epoch_batches, epoch_batches));
    }
  }

  run.module.train();
  run.state.family = HookFamily::none;
  run.emit(hooks::on_train_start);
  const std::int64_t max_epochs = opt.resolved_max_epochs();
  while (!(max_epochs >= 0 && run.state.current_epoch >= max_epochs) && !max_steps_reached(run) &&
         !(run.state.should_stop && may_stop_early(run))) {
    plan.this_epoch = fit_validates<Module, Data>() && val_batches != 0 &&
                      (run.state.current_epoch + 1) % opt.check_val_every_n_epoch == 0;
    training_epoch(run, train_loader, *val_loader, optimization, plan);
    ++run.state.current_epoch;
  }
  run.state.family = HookFamily::none;
  run.emit(hooks::on_train_end);
  run.emit(hooks::on_fit_end);
  teardown_stage(run, Stage::fit);
}

}  // namespace volt::loops
