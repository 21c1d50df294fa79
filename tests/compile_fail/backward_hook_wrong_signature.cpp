// expect: static assertion failed: volt: `backward` is declared but cannot be called with the arguments volt passes\. Expected: void backward\(const torch::Tensor& loss, volt::Context& ctx\).*hook_signature_does_not_match<[^>]*Model, volt::hooks::backward_t
//
// The module's backward override (Lightning's LightningModule.backward) declared with a
// parameter volt does not pass: a near miss is an error, not an override silently skipped.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  std::int64_t backwards = 0;
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  void backward(double scale) { backwards += scale > 0 ? 1 : 0; }  // the mistake: volt passes the loss
#else
  void backward(const torch::Tensor& loss) {
    ++backwards;
    loss.backward();
  }
#endif
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
