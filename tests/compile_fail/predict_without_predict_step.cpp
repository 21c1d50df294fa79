// expect: static assertion failed: volt: trainer\.predict\(\) needs a predict_step.*trainer_predict_needs_predict_step_and_predict_dataloader<[^>]*Model, [^>]*Data>
//
// trainer.predict() on a Module without predict_step (the DataModule has predict_dataloader).
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  // the mistake: the Module has no predict_step
#else
  torch::Tensor predict_step(const volt::data::Example& batch) { return fc(batch.data); }
#endif
};

}  // namespace

int main() {
  volt_cf::fit_then<Model>([](auto& trainer, auto& model, auto& data) {
    auto predictions = trainer.predict(model, data);
  });
}
