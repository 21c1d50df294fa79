#pragma once
// What most compile-fail cases share: a linear regressor with a training_step, 8 samples in
// batches of 4, and a one-epoch fit. A case derives its Model from LinearModel, adds the member
// its mistake is about, and calls fit_one_epoch<Model>(callbacks...) (or fit_then) from main.
#include <cstdint>
#include <utility>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace volt_cf {

struct LinearModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  LinearModel() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

// Data with a loader for every entry point, for the cases about validate / test / predict.
struct EvalData : Data {
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader test_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader predict_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

// One epoch of fit, then `then(trainer, model, data)`: the entry point a case is about.
template <class Model, class Then>
void fit_then(Then then) {
  Model model;
  EvalData data;
  volt::Trainer<Model, EvalData> trainer{{.max_epochs = 1}};
  trainer.fit(model, data);
  then(trainer, model, data);
}

// The callbacks' types join the Trainer's type, as a user's would.
template <class Model, class... Callbacks>
void fit_one_epoch(Callbacks... callbacks) {
  Model model;
  Data data;
  volt::Trainer<Model, Data, volt::SingleDevice, volt::precision::FP32, Callbacks...> trainer{
      {.max_epochs = 1}, volt::SingleDevice{}, volt::precision::FP32{}, std::move(callbacks)...};
  trainer.fit(model, data);
}

}  // namespace volt_cf
