// expect: static assertion failed: volt: the Module has no configure_optimizers.*module_has_no_configure_optimizers<[^>]*Model>
//
// A Module without configure_optimizers: volt has nothing to step.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
#ifdef VOLT_COMPILE_FAIL
  // the mistake: no configure_optimizers
#else
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#endif
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
