// expect: static assertion failed: volt: the Module must derive from torch::nn::Module.*module_must_derive_from_torch_nn_Module<[^>]*Model>
//
// A Module that is not a torch::nn::Module: volt needs parameters(), train()/eval() and to()
// from the base class. The mistake is the missing base; everything else is the same in the twin.
#include <cstdint>

#include "case_support.hpp"

namespace {

#ifdef VOLT_COMPILE_FAIL
struct Model {  // the mistake: no torch::nn::Module base
#else
struct Model : torch::nn::Module {
#endif
  torch::nn::Linear fc{2, 1};
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(fc->parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
