// Trainer end to end on small synthetic problems: fit reaches a loss threshold, validate /
// test / predict return what Lightning returns, and torch::data loaders work as loaders.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

// y = 3x0 - 2x1 + 0.5, learned by a linear layer.
struct Regressor : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Regressor() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor forward(const torch::Tensor& x) { return fc(x); }

  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto loss = torch::mse_loss(forward(batch.data), batch.target);
    ctx.log("train_loss", loss, {.on_epoch = true});
    return loss;
  }
  torch::Tensor validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto loss = torch::mse_loss(forward(batch.data), batch.target);
    ctx.log("val_loss", loss);
    return loss;
  }
  void test_step(const volt::data::Example& batch, volt::Context& ctx) {
    ctx.log("test_loss", torch::mse_loss(forward(batch.data), batch.target));
  }
  torch::Tensor predict_step(const volt::data::Example& batch) { return forward(batch.data); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct RegressionData {
  torch::Tensor x, y;
  RegressionData() {
    auto gen = at::detail::createCPUGenerator(7);
    x = torch::randn({256, 2}, gen);
    y = (3 * x.select(1, 0) - 2 * x.select(1, 1) + 0.5).unsqueeze(1);
  }
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 32, .shuffle = true, .seed = 1}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 64}}; }
  volt::data::TensorLoader test_dataloader() const { return {x, y, {.batch_size = 64}}; }
  volt::data::TensorLoader predict_dataloader() const { return {x, y, {.batch_size = 100}}; }
};

using RegressionTrainer = volt::Trainer<Regressor, RegressionData, volt::SingleDevice, volt::precision::FP32>;

}  // namespace

TEST_CASE("fit learns a linear function to a small loss", "[trainer]") {
  torch::manual_seed(0);
  Regressor model;
  RegressionData data;
  RegressionTrainer trainer{{.max_epochs = 20}, volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}};
  trainer.fit(model, data);
  CHECK(trainer.current_epoch() == 20);
  CHECK(trainer.global_step() == 20 * 8);
  const auto metrics = trainer.callback_metrics();
  REQUIRE(metrics.count("val_loss") == 1);
  CHECK(metrics.at("val_loss") < 1e-3);
  CHECK(metrics.at("train_loss_epoch") < 1e-2);
  CHECK(model.fc->weight[0][0].item<double>() == Approx(3.0).margin(0.05));
  CHECK(model.fc->weight[0][1].item<double>() == Approx(-2.0).margin(0.05));
  CHECK(model.is_training());

  const auto tested = trainer.test(model, data);
  REQUIRE(tested.count("test_loss") == 1);
  CHECK(tested.at("test_loss") < 1e-3);

  const auto validated = trainer.validate(model, data);
  CHECK(validated.at("val_loss") == Approx(tested.at("test_loss")).epsilon(1e-6));

  const std::vector<torch::Tensor> predictions = trainer.predict(model, data);
  REQUIRE(predictions.size() == 3);  // 256 examples in batches of 100
  CHECK(predictions[2].size(0) == 56);
  CHECK(torch::allclose(torch::cat(predictions), data.y, 0.0, 0.05));
  CHECK_FALSE(predictions[0].requires_grad());
}

namespace {
// A DataModule whose loader is torch::data's own (a unique_ptr to a StatelessDataLoader).
struct TorchDataLoaderData {
  torch::Tensor x, y;
  TorchDataLoaderData() {
    auto gen = at::detail::createCPUGenerator(3);
    x = torch::randn({128, 2}, gen);
    y = (3 * x.select(1, 0) - 2 * x.select(1, 1) + 0.5).unsqueeze(1);
  }
  auto train_dataloader() const {
    auto dataset = torch::data::datasets::TensorDataset({torch::cat({x, y}, 1)}).map(torch::data::transforms::Stack<torch::data::TensorExample>());
    return torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(std::move(dataset), 16);
  }
};

struct TensorBatchRegressor : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  TensorBatchRegressor() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  // torch::data's TensorDataset yields TensorExample: the batch type comes from the loader.
  torch::Tensor training_step(const torch::data::TensorExample& batch) {
    auto x = batch.data.narrow(1, 0, 2);
    auto y = batch.data.narrow(1, 2, 1);
    return torch::mse_loss(fc(x), y);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};
}  // namespace

TEST_CASE("torch::data loaders work as a DataModule's loaders", "[trainer][data]") {
  torch::manual_seed(0);
  TensorBatchRegressor model;
  TorchDataLoaderData data;
  volt::Trainer<TensorBatchRegressor, TorchDataLoaderData> trainer{{.max_epochs = 30}, volt::SingleDevice{torch::kCPU},
                                                                   volt::precision::FP32{}};
  trainer.fit(model, data);
  CHECK(trainer.global_step() == 30 * 8);
  CHECK(model.fc->weight[0][0].item<double>() == Approx(3.0).margin(0.05));
}
