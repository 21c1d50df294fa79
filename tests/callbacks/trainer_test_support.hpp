#pragma once
// A small module and DataModule for running the callbacks inside a real volt::Trainer fit.
#include <torch/torch.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace volt_test {

// A linear regressor whose validation logs a scripted "val_loss" per epoch (the last value
// repeats), so a test decides what the monitoring callbacks see.
struct ScriptedRegressor : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  std::vector<double> val_losses{1.0};
  std::int64_t throw_at_step = -1;  // training_step throws at this global step (-1: never)
  ScriptedRegressor() { fc = register_module("fc", torch::nn::Linear(2, 1)); }

  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    if (ctx.global_step() == throw_at_step) throw std::runtime_error("training_step failed on purpose");
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  torch::Tensor validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    const auto e = static_cast<std::size_t>(ctx.current_epoch());
    ctx.log("val_loss", val_losses[std::min(e, val_losses.size() - 1)]);
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.01)); }
};

// 8 samples: 4 training batches of 2, one validation batch of 8.
struct SmallData {
  torch::Tensor x = torch::randn({8, 2});
  torch::Tensor y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 2}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 8}}; }
};

template <class... Callbacks>
using TrainerWith = volt::Trainer<ScriptedRegressor, SmallData, volt::SingleDevice, volt::precision::FP32, Callbacks...>;

}  // namespace volt_test
