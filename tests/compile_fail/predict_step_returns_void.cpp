// expect: static assertion failed: volt: predict_step must return the prediction.*predict_step_returns_void<[^>]*Model, torch::data::Example<
//
// predict_step that stores its result instead of returning it: trainer.predict() returns
// every predict_step result, so a void predict_step is an error.
#include <cstdint>
#include <vector>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  std::vector<torch::Tensor> kept;
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  void predict_step(const volt::data::Example& batch) { kept.push_back(fc(batch.data)); }  // the mistake
#else
  torch::Tensor predict_step(const volt::data::Example& batch) { return kept.emplace_back(fc(batch.data)); }
#endif
};

}  // namespace

int main() {
  volt_cf::fit_then<Model>([](auto& trainer, auto& model, auto& data) {
    auto predictions = trainer.predict(model, data);
  });
}
