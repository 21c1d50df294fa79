// expect: static assertion failed: volt: the Module declares `on_epoch_start`, which volt never calls \(Lightning has no such hook\); did you mean `on_train_epoch_start`\?
//
// A hook under a name Lightning users reach for but that no Lightning 2.x hook has (here the
// 1.x `on_epoch_start`): volt would never call it, so it is an error naming the right hook
// rather than a silently dead member.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  std::int64_t epochs_started = 0;
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  void on_epoch_start(volt::Context&) { ++epochs_started; }  // the mistake: not a Lightning 2.x hook
#else
  void on_train_epoch_start(volt::Context&) { ++epochs_started; }
#endif
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
