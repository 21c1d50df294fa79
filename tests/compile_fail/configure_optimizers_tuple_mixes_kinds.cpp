// expect: static assertion failed: volt: configure_optimizers returned a std::tuple that mixes optimizers with other things
//
// An optimizer and its scheduler side by side in one tuple (the Lightning 1.x list habit):
// the scheduler belongs in a pair or an OptimizerConfig.
#include <cstdint>
#include <tuple>
#include <utility>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
#ifdef VOLT_COMPILE_FAIL
    return std::tuple{torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)),
                      volt::optim::ExponentialLR{{.gamma = 0.9}}};  // the mistake
#else
    return std::pair{std::tuple{torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1))},
                     std::tuple{volt::optim::ExponentialLR{{.gamma = 0.9}}}};
#endif
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
