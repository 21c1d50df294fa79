// expect: static assertion failed: volt: configure_callbacks must return a callback \(an object\) or a std::tuple of callbacks.*configure_callbacks_must_return_callbacks<[^>]*Model, int>
//
// configure_callbacks returning something that is not a callback (here a count): Lightning
// wants a callback or a list of them; volt wants one callback object or a std::tuple of them.
#include <cstdint>
#include <tuple>

#include "case_support.hpp"

namespace {

struct Counter {
  std::int64_t epochs = 0;
  void on_train_epoch_end() { ++epochs; }
};

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  int configure_callbacks() { return 1; }  // the mistake: a number, not a callback
#else
  auto configure_callbacks() { return std::tuple{Counter{}}; }
#endif
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
