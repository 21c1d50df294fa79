// expect: static assertion failed: volt: configure_optimizers returned a std::vector of something volt cannot use
//
// A vector of learning rates where a vector of optimizers belongs.
#include <cstdint>
#include <vector>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
#ifdef VOLT_COMPILE_FAIL
    return std::vector<double>{0.1, 0.01};  // the mistake
#else
    std::vector<torch::optim::SGD> optimizers;
    optimizers.emplace_back(parameters(), torch::optim::SGDOptions(0.1));
    return optimizers;
#endif
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
