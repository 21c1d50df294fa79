// expect: static assertion failed: volt: configure_optimizers returned a pair of \(optimizers, schedulers\) whose sides do not match
//
// Optimizers in a std::tuple, schedulers in a std::vector: volt pairs the i-th scheduler with
// the i-th optimizer, so both sides must be the same kind of sequence.
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
    auto scheduler = volt::optim::ExponentialLR{{.gamma = 0.9}};
#ifdef VOLT_COMPILE_FAIL
    return std::pair{std::tuple{torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1))},
                     std::vector{scheduler}};  // the mistake
#else
    return std::pair{std::tuple{torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1))}, std::tuple{scheduler}};
#endif
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
