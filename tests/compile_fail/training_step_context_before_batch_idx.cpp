// expect: static assertion failed: volt: training_step takes the volt::Context before batch_idx; the Context comes last
//
// The Context is volt's trailing parameter; written before batch_idx, the hook fits no form volt
// calls, and the message says which parameter is out of place.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
#ifdef VOLT_COMPILE_FAIL
  torch::Tensor training_step(const volt::data::Example& batch, volt::Context& ctx, std::int64_t) {  // the mistake
#else
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
#endif
    ctx.log("step", static_cast<double>(ctx.global_step()));
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
