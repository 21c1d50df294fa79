// expect: static assertion failed: volt: LambdaLR's lr_lambda must be callable as double\(std::int64_t epoch\)
//
// A LambdaLR whose lambda takes the optimizer instead of the epoch.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
#ifdef VOLT_COMPILE_FAIL
    auto lambda = [](torch::optim::Optimizer&) { return 0.5; };  // the mistake
#else
    auto lambda = [](std::int64_t epoch) { return 1.0 / static_cast<double>(epoch + 1); };
#endif
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)),
                                volt::optim::LambdaLR{volt::optim::LambdaLROptions{lambda}});
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
