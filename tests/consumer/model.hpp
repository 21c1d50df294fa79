// The consumer program's LightningModule, declared here and defined in model.cpp: the two-file
// layout docs/performance.md recommends for the edit-run cycle (the Trainer's TU sees only the
// hooks' declarations, so editing a hook's body recompiles model.cpp alone). Building it also
// proves that two TUs including volt's headers link into one program in either mode.
#pragma once

#include <volt/core/context.hpp>
#include <volt/data/example.hpp>

#include <torch/torch.h>

#include <cstdint>

namespace consumer {

struct LinearRegression : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  LinearRegression();
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t batch_idx, volt::Context& ctx);
  torch::Tensor validation_step(const volt::data::Example& batch, std::int64_t batch_idx, volt::Context& ctx);
  // Spelled out: a deduced `auto` would need its body here.
  torch::optim::SGD configure_optimizers();
};

}  // namespace consumer
