// expect: static assertion failed: volt: trainer\.validate\(\) needs a validation_step.*trainer_validate_needs_validation_step_and_val_dataloader<[^>]*Model, [^>]*Data>
//
// trainer.validate() on a Module without validation_step (the DataModule has val_dataloader).
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  // the mistake: the Module has no validation_step
#else
  torch::Tensor validation_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
#endif
};

}  // namespace

int main() {
  volt_cf::fit_then<Model>([](auto& trainer, auto& model, auto& data) {
    trainer.validate(model, data);
  });
}
