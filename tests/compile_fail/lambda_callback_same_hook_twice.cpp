// expect: static assertion failed: volt::LambdaCallback: the same hook is given twice
//
// Two callables for on_train_epoch_end in one LambdaCallback: only one would run.
#include <cstdint>

#include "case_support.hpp"

namespace {

inline auto make_callback() {
  return volt::LambdaCallback{volt::lambda::on_train_epoch_end([] {}),
#ifdef VOLT_COMPILE_FAIL
                              volt::lambda::on_train_epoch_end([](volt::Context&) {})};  // the mistake
#else
                              volt::lambda::on_train_epoch_start([](volt::Context&) {})};
#endif
}

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(make_callback()); }
