// expect: static assertion failed: volt: trainer\.test\(\) needs a test_step.*trainer_test_needs_test_step_and_test_dataloader<[^>]*Model, [^>]*Data>
//
// trainer.test() on a Module without test_step (the DataModule has test_dataloader).
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  // the mistake: the Module has no test_step
#else
  void test_step(const volt::data::Example& batch, volt::Context& ctx) {
    ctx.log("test_loss", torch::mse_loss(fc(batch.data), batch.target));
  }
#endif
};

}  // namespace

int main() {
  volt_cf::fit_then<Model>([](auto& trainer, auto& model, auto& data) {
    trainer.test(model, data);
  });
}
