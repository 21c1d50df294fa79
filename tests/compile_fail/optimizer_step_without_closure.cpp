// expect: static assertion failed: volt: optimizer_step.epoch, batch_idx, optimizer. without the closure would step the torch optimizer itself, bypassing the Strategy and the Precision.*Fix: void optimizer_step.int64_t epoch, int64_t batch_idx, auto& optimizer, auto& optimizer_closure.*optimizer_step_needs_the_closure<.*Model>
//
// volt's older 3-argument optimizer_step stepped the torch optimizer directly, so under
// FP16Mixed the gradients stayed scaled and an inf/NaN step was not skipped (and DDP's buffers
// were not broadcast). Lightning 2.x has only the closure form, which steps through the
// Strategy and the Precision; the twin is that form.
#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  void optimizer_step(std::int64_t, std::int64_t, torch::optim::Optimizer& optimizer) { optimizer.step(); }  // the mistake
#else
  void optimizer_step(std::int64_t, std::int64_t, auto& optimizer, auto& optimizer_closure) {
    optimizer.step(optimizer_closure);
  }
#endif
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
