// expect: static assertion failed: volt: training_step must return the loss.*training_step_must_return_the_loss<[^>]*Model, double>
//
// training_step returning the loss as a number (loss.item<double>()): volt needs the tensor
// to call backward() on. The note names the Module and the type that was returned.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor loss_of(const volt::data::Example& batch) { return torch::mse_loss(fc(batch.data), batch.target); }
#ifdef VOLT_COMPILE_FAIL
  double training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return loss_of(batch).item<double>();  // the mistake: a number has no autograd graph
  }
#else
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return loss_of(batch);
  }
#endif
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
