// expect: static assertion failed: volt: configure_optimizers returned a type volt cannot use.*unsupported_configure_optimizers_result<int>::value.* evaluates to false
//
// configure_optimizers returning something that is not an optimizer (here an int, as when the
// learning rate is returned by mistake); the note names the returned type. (g++ then adds a
// second error, `'void optimization' has incomplete type`, from fit_loop.hpp: the first one is
// the one that matters.)
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
#ifdef VOLT_COMPILE_FAIL
  int configure_optimizers() { return 1; }  // the mistake: not an optimizer
#else
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(1)); }
#endif
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
