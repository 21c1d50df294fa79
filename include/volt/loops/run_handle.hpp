#pragma once
// Installs the RunHandle of a fit: what callbacks and manual-optimization code reach through
// volt::Context (optimizers, learning rates, manual_backward, optimizer steps) without knowing
// the Trainer's types. Plain function pointers, called at optimizer steps and epoch ends only.
#include <cstddef>
#include <filesystem>
#include <vector>

#include <torch/torch.h>

#include <volt/checkpoint/trainer_checkpoint.hpp>
#include <volt/core/context.hpp>
#include <volt/hooks/tags.hpp>

namespace volt::loops {

template <class Run, class Optimization>
struct FitHandle {
  Run* run;
  Optimization* optimization;
};

template <class Run, class Optimization>
void install_run_handle(FitHandle<Run, Optimization>& fit) {
  using Self = FitHandle<Run, Optimization>;
  auto& handle = fit.run->state.handle;
  handle.self = &fit;
  handle.optimizers = [](void* self) {
    std::vector<torch::optim::Optimizer*> out;
    static_cast<Self*>(self)->optimization->for_each_optimizer(
        [&](auto& opt, std::size_t) { out.push_back(static_cast<torch::optim::Optimizer*>(&opt)); });
    return out;
  };
  handle.learning_rates = [](void* self) { return static_cast<Self*>(self)->optimization->learning_rates(); };
  handle.manual_backward = [](void* self, const torch::Tensor& loss) {
    auto& run = *static_cast<Self*>(self)->run;
    run.emit(hooks::on_before_backward, loss);
    run.precision.backward(loss);
    run.emit(hooks::on_after_backward);
  };
  handle.optimizer_step = [](void* self, std::size_t index) {
    auto& fit = *static_cast<Self*>(self);
    auto& run = *fit.run;
    fit.optimization->for_each_optimizer([&](auto& optimizer, std::size_t i) {
      if (i != index) return;
      run.strategy.before_optimizer_step(run.module);
      run.precision.unscale_gradients(optimizer);
      run.emit(hooks::on_before_optimizer_step, optimizer);
      run.precision.optimizer_step(optimizer);
      ++run.state.global_step;
    });
  };
  handle.save_checkpoint = [](void* self, const std::filesystem::path& path, bool weights_only) {
    auto& fit = *static_cast<Self*>(self);
    checkpoint::save_trainer_checkpoint(*fit.run, *fit.optimization, path, weights_only);
  };
  handle.lr_scheduler_step = [](void* self, std::size_t index) {
    static_cast<Self*>(self)->optimization->step_lr_scheduler(index);
  };
}

}  // namespace volt::loops
