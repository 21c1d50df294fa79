// expect: static assertion failed: volt: the callable given to volt::lambda::on_train_batch_end\(\) cannot take the arguments of the hook
//
// A LambdaCallback part whose callable takes a string where on_train_batch_end passes
// the step outputs first.
#include <cstdint>
#include <string>

#include "case_support.hpp"

namespace {

#ifdef VOLT_COMPILE_FAIL
inline auto make_callback() {
  return volt::LambdaCallback{volt::lambda::on_train_batch_end([](const std::string&) {})};  // the mistake
}
#else
inline auto make_callback() {
  return volt::LambdaCallback{volt::lambda::on_train_batch_end([](const torch::Tensor&) {})};
}
#endif

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(make_callback()); }
