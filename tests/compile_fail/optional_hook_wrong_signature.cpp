// expect: static assertion failed: volt: `on_train_epoch_start` is declared but cannot be called with the arguments volt passes\. Expected: void on_train_epoch_start\(volt::Context& ctx\).*hook_signature_does_not_match<[^>]*Model, volt::hooks::on_train_epoch_start_t>
//
// An optional hook declared with a parameter volt does not pass (the epoch as an int; volt
// passes only the Context): a near miss is an error, not a hook silently never called.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  std::int64_t epochs_started = 0;
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  void on_train_epoch_start(int) { ++epochs_started; }  // the mistake: volt passes no int
#else
  void on_train_epoch_start(volt::Context&) { ++epochs_started; }
#endif
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
