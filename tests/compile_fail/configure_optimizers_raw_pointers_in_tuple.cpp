// expect: static assertion failed: volt: configure_optimizers returned a raw pointer to an optimizer \(`new \.\.\.`\), which volt will not own or free
//
// Python's `return Adam(...), SGD(...)` ported as a tuple of `new` pointers: the same error as a
// single `new Adam(...)` (volt would otherwise keep the pointers and never free them).
#include <memory>
#include <tuple>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
#ifdef VOLT_COMPILE_FAIL
    return std::tuple{new torch::optim::Adam(parameters(), torch::optim::AdamOptions(1e-3)),  // the mistake
                      new torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1))};
#else
    return std::tuple{std::make_unique<torch::optim::Adam>(parameters(), torch::optim::AdamOptions(1e-3)),
                      std::make_unique<torch::optim::SGD>(parameters(), torch::optim::SGDOptions(0.1))};
#endif
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
