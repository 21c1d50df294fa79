// The model file a user edits: the hooks of volt_fashion_mnist.cpp's module.
#include "model.hpp"

#include <iostream>

FashionCNN::FashionCNN(std::int64_t c, std::int64_t hidden) {
  using namespace torch::nn;
  net = register_module(
      "net", Sequential(Conv2d(Conv2dOptions(1, c, 3).padding(1)), BatchNorm2d(c), ReLU(), MaxPool2d(2),
                        Conv2d(Conv2dOptions(c, 2 * c, 3).padding(1)), BatchNorm2d(2 * c), ReLU(), MaxPool2d(2),
                        Flatten(), Dropout(0.25), Linear(2 * c * 7 * 7, hidden), ReLU(), Dropout(0.25),
                        Linear(hidden, 10)));
}

torch::Tensor FashionCNN::forward(const torch::Tensor& x) { return net->forward(x); }

torch::Tensor FashionCNN::training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
  auto loss = torch::nn::functional::cross_entropy(forward(batch.data), batch.target);
  ctx.log("train_loss", loss, {.on_step = false, .on_epoch = true});
  return loss;
}

void FashionCNN::validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
  auto logits = forward(batch.data);
  ctx.log("val_loss", torch::nn::functional::cross_entropy(logits, batch.target));
  ctx.log("val_acc", logits.argmax(1).eq(batch.target).to(torch::kFloat32).mean());
}

void FashionCNN::test_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
  auto logits = forward(batch.data);
  ctx.log("test_acc", logits.argmax(1).eq(batch.target).to(torch::kFloat32).mean());
}

volt::OptimizerConfig<torch::optim::Adam, volt::LRSchedulerConfig<volt::optim::StepLR>> FashionCNN::configure_optimizers() {
  return volt::with_scheduler(torch::optim::Adam(parameters(), torch::optim::AdamOptions(2e-3)),
                              volt::optim::StepLR{{.step_size = 1, .gamma = 0.6}}, {.interval = volt::Interval::epoch});
}

void FashionCNN::on_train_epoch_end(volt::Context& ctx) {
  const auto m = ctx.callback_metrics();
  std::cout << "epoch " << ctx.current_epoch() << ": train_loss=" << m.at("train_loss")
            << " val_loss=" << m.at("val_loss") << " val_acc=" << m.at("val_acc") << std::endl;
}
