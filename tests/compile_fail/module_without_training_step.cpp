// expect: static assertion failed: volt: the Module has no training_step.*module_has_no_training_step<[^>]*Model, torch::data::Example<
//
// A Module without training_step: there is no member of that name at all, so the message says
// it is missing (not mis-declared) and the note names the batch type it should take.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
#ifdef VOLT_COMPILE_FAIL
  // the mistake: no training_step
#else
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
#endif
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
