// expect: static assertion failed: volt: a callback declares `on_train_epoch_ends`, which volt never calls \(Lightning has no such callback hook\); did you mean `on_train_epoch_end`\?
//
// A callback hook under a misspelled name would never run: the table of wrong and removed
// names covers callbacks too.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct EpochCounter {
  std::int64_t epochs = 0;
#ifdef VOLT_COMPILE_FAIL
  void on_train_epoch_ends(volt::Context&) { ++epochs; }  // the mistake: a typo
#else
  void on_train_epoch_end(volt::Context&) { ++epochs; }
#endif
};

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(EpochCounter{}); }
