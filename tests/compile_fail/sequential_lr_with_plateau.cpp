// expect: static assertion failed: volt: SequentialLR runs volt's epoch/step schedulers
//
// ReduceLROnPlateau inside SequentialLR: it steps on a metric, not on a count, so it cannot
// be sequenced (torch.optim's SequentialLR has the same rule).
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)),
                                volt::optim::SequentialLR{{.milestones = {2}}, volt::optim::LinearLR{{.start_factor = 0.1, .total_iters = 2}},
#ifdef VOLT_COMPILE_FAIL
                                                          volt::optim::ReduceLROnPlateau{{}}});  // the mistake
#else
                                                          volt::optim::ExponentialLR{{.gamma = 0.9}}});
#endif
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
