// expect: static assertion failed: volt: OptimizerConfig::scheduler must have step\(\)
//
// volt::with_scheduler given a step size where the scheduler belongs.
#include <cstdint>
#include <memory>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
    auto optimizer = std::make_unique<torch::optim::SGD>(parameters(), torch::optim::SGDOptions(0.1));
#ifdef VOLT_COMPILE_FAIL
    auto scheduler = 10;  // the mistake: the step size, not a scheduler
#else
    auto scheduler = std::make_unique<torch::optim::StepLR>(*optimizer, 10);
#endif
    return volt::with_scheduler(std::move(optimizer), std::move(scheduler), {.interval = volt::Interval::epoch});
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
