// expect: static assertion failed: volt: configure_optimizers returned a raw pointer to an optimizer \(`new \.\.\.`\), which volt will not own or free
//
// Python's `return Adam(self.parameters())` ported as `return new torch::optim::Adam(...)`:
// volt would have to guess whether it owns the optimizer, so it is an error naming both fixes.
#include <memory>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
#ifdef VOLT_COMPILE_FAIL
    return new torch::optim::Adam(parameters(), torch::optim::AdamOptions(1e-3));  // the mistake
#else
    return std::make_unique<torch::optim::Adam>(parameters(), torch::optim::AdamOptions(1e-3));
#endif
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
