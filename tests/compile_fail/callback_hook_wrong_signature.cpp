// expect: static assertion failed: volt: `on_train_epoch_end` is declared but cannot be called with the arguments volt passes
// expect-within: 2048
//
// A callback hook with parameters volt never passes (Lightning's callbacks get trainer and
// pl_module; volt's get the Context): the message is given when the Trainer's type is formed,
// so it comes before the loops' instantiation context, whose Run<...> type names every callback.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct EpochCounter {
  std::int64_t epochs = 0;
#ifdef VOLT_COMPILE_FAIL
  void on_train_epoch_end(std::int64_t epoch) { epochs = epoch + 1; }  // the mistake: volt passes no epoch
#else
  void on_train_epoch_end(volt::Context& ctx) { epochs = ctx.current_epoch() + 1; }
#endif
};

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(EpochCounter{}); }
