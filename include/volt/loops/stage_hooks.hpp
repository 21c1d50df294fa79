#pragma once
// Set-up and tear-down common to fit / validate / test / predict, in Lightning's order:
//   prepare_data | DataModule.setup(stage), callbacks' setup(stage), module.setup(stage) |
//   module.configure_model() (Lightning 2.1: layers built late, before configure_optimizers) |
//   move the module to the device, convert it to the precision | ... |
//   DataModule.teardown(stage), callbacks' teardown(stage), module.teardown(stage)
#include <tuple>

#include <torch/torch.h>

#include <volt/core/hook_family.hpp>
#include <volt/core/stage.hpp>
#include <volt/hooks/tags.hpp>
#include <volt/loops/run_facade.hpp>

namespace volt::loops {

template <class Run>
void setup_stage(Run& run, Stage stage) {
  run.state.stage = stage;
  run.state.family = HookFamily::none;
  run.state.should_stop = false;
  run.state.stop_reason.clear();
  run.state.device = run.strategy.root_device();
  run.state.global_rank = run.strategy.global_rank();
  run.state.local_rank = run.strategy.local_rank();
  run.state.world_size = run.strategy.world_size();
  run.state.accumulate_grad_batches = run.options.accumulate_grad_batches;
  run.state.default_root_dir = run.options.default_root_dir;
  run.state.options = &run.options;
  install_collectives(run);
  if (run.options.deterministic) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  if (run.state.local_rank == 0) {  // once per machine, the other ranks wait (Lightning)
    run.call_data(hooks::prepare_data);
    run.call(hooks::prepare_data);  // Lightning calls the LightningModule's too
  }
  run.strategy.barrier();
  run.call_data(hooks::setup, stage);
  run.emit(hooks::setup, stage);
  run.call(hooks::configure_model);
  // DDP: a precision whose gradients the backend cannot reduce fails here, before any step
  // (fit only: evaluation reduces no gradients).
  if constexpr (requires { run.strategy.check_precision(run.precision); })
    if (stage == Stage::fit) run.strategy.check_precision(run.precision);
  run.strategy.setup_module(run.module);
  run.precision.convert_module(run.module);
}

template <class Run>
void teardown_stage(Run& run, Stage stage) {
  run.state.facade = {};
  run.call_data(hooks::teardown, stage);
  run.emit(hooks::teardown, stage);
  run.strategy.barrier();
}

}  // namespace volt::loops
