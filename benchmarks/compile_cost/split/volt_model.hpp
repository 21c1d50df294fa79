// volt_fashion_mnist.cpp's LightningModule in a model file of its own (the two-file layout of
// compile_cost_rebuild.sh): the header declares the hooks, volt_model.cpp defines them,
// volt_train.cpp builds the Trainer. The Trainer sees the hooks' declarations, which is all its
// concepts need, so editing a hook's body recompiles volt_model.cpp only, not the Trainer's TU.
#pragma once

#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/data/example.hpp>
#include <volt/optim/configure_optimizers.hpp>
#include <volt/optim/schedulers/step_lr.hpp>

#include <cstdint>

struct FashionCNN : torch::nn::Module {
  torch::nn::Sequential net;
  FashionCNN(std::int64_t c, std::int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx);
  void validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx);
  void test_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx);
  // Spelled out, since a deduced `auto` needs its body in the header.
  volt::OptimizerConfig<torch::optim::Adam, volt::LRSchedulerConfig<volt::optim::StepLR>> configure_optimizers();
  void on_train_epoch_end(volt::Context& ctx);
};
