// expect: static assertion failed: volt: configure_optimizers returned a raw pointer to an optimizer \(`new \.\.\.`\), which volt will not own or free
//
// A std::vector of `new` optimizers: the same error as a single `new Adam(...)`.
#include <memory>
#include <vector>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
#ifdef VOLT_COMPILE_FAIL
    std::vector<torch::optim::SGD*> optimizers;  // the mistake
    optimizers.push_back(new torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)));
#else
    std::vector<std::unique_ptr<torch::optim::SGD>> optimizers;
    optimizers.push_back(std::make_unique<torch::optim::SGD>(parameters(), torch::optim::SGDOptions(0.1)));
#endif
    return optimizers;
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
