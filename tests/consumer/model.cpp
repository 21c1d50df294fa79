// The hooks of model.hpp's module (see there why they live in a TU of their own).
#include "model.hpp"

namespace consumer {

LinearRegression::LinearRegression() { fc = register_module("fc", torch::nn::Linear(3, 1)); }

torch::Tensor LinearRegression::forward(const torch::Tensor& x) { return fc(x); }

torch::Tensor LinearRegression::training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
  auto loss = torch::mse_loss(forward(batch.data), batch.target);
  ctx.log("train_loss", loss, {.on_epoch = true, .prog_bar = true});
  return loss;
}

torch::Tensor LinearRegression::validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
  auto loss = torch::mse_loss(forward(batch.data), batch.target);
  ctx.log("val_loss", loss);
  return loss;
}

torch::optim::SGD LinearRegression::configure_optimizers() {
  return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1));
}

}  // namespace consumer
