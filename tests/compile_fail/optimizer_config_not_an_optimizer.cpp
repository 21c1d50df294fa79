// expect: static assertion failed: volt: OptimizerConfig::optimizer must be a torch::optim optimizer
//
// volt::with_scheduler given the optimizer's options instead of the optimizer built from them.
#include <cstdint>
#include <memory>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
    auto options = torch::optim::SGDOptions(0.1);
#ifdef VOLT_COMPILE_FAIL
    auto optimizer = options;  // the mistake: the options, not an optimizer
#else
    auto optimizer = std::make_unique<torch::optim::SGD>(parameters(), options);
#endif
    return volt::with_scheduler(std::move(optimizer), volt::NoScheduler{});
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
