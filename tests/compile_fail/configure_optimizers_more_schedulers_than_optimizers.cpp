// expect: static assertion failed: volt: configure_optimizers returned more schedulers than optimizers
//
// Two schedulers for one optimizer: the i-th scheduler drives the i-th optimizer. (Several
// schedules for one optimizer are one volt::optim::SequentialLR.)
#include <cstdint>
#include <tuple>
#include <utility>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
    auto sgd = torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1));
#ifdef VOLT_COMPILE_FAIL
    return std::pair{std::tuple{std::move(sgd)}, std::tuple{volt::optim::ExponentialLR{{.gamma = 0.9}},
                                                 volt::optim::StepLR{{.step_size = 2}}}};  // the mistake
#else
    return std::pair{std::tuple{std::move(sgd)}, std::tuple{volt::optim::SequentialLR{
                                          {.milestones = {2}}, volt::optim::ExponentialLR{{.gamma = 0.9}},
                                          volt::optim::StepLR{{.step_size = 2}}}}};
#endif
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
