// expect: static assertion failed: volt: training_step takes the batch by non-const reference \(Batch&\); volt hands it over as const
//
// `training_step(volt::data::Example& batch, ...)`: the batch type is right, only the const is
// missing; the message says that instead of "cannot take the DataModule's batch type".
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
#ifdef VOLT_COMPILE_FAIL
  torch::Tensor training_step(volt::data::Example& batch, std::int64_t) {  // the mistake: no const
#else
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t) {
#endif
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
