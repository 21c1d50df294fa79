// expect: static assertion failed: volt: torch.s schedulers .torch::optim::StepLR, .... hold a reference to their optimizer
//
// torch::optim::StepLR keeps a reference to its optimizer, which volt then moves: the
// optimizer must be handed over in a smart pointer so its address stays valid.
#include <cstdint>
#include <memory>
#include <utility>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
#ifdef VOLT_COMPILE_FAIL
    torch::optim::SGD optimizer(parameters(), torch::optim::SGDOptions(0.1));  // the mistake: by value
    auto scheduler = std::make_unique<torch::optim::StepLR>(optimizer, 10);
#else
    auto optimizer = std::make_unique<torch::optim::SGD>(parameters(), torch::optim::SGDOptions(0.1));
    auto scheduler = std::make_unique<torch::optim::StepLR>(*optimizer, 10);
#endif
    return volt::with_scheduler(std::move(optimizer), std::move(scheduler), {.interval = volt::Interval::epoch});
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
