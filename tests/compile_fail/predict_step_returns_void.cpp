// expect: static assertion failed: volt: predict_step must return the prediction.*predict_step_returns_void<[^>]*Model, torch::data::Example<
//
// predict_step that stores its result instead of returning it: trainer.predict() returns
// every predict_step result, so a void predict_step is an error.
#include <cstdint>
#include <vector>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  std::vector<torch::Tensor> kept;
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  void predict_step(const volt::data::Example& batch) { kept.push_back(fc(batch.data)); }  // the mistake
#else
  torch::Tensor predict_step(const volt::data::Example& batch) { return kept.emplace_back(fc(batch.data)); }
#endif
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader predict_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

}  // namespace

int main() {
  Model model;
  Data data;
  volt::Trainer<Model, Data> trainer{{.max_epochs = 1}};
  trainer.fit(model, data);
  auto predictions = trainer.predict(model, data);
}
