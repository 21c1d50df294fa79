// The hand-written baseline's work (hand_fashion_mnist.cpp) written with volt: the same network,
// optimizer, scheduler, per-epoch print, best-epoch checkpoint and test, with the Trainer's
// defaults on (progress bar, model summary, CSV logger, resume support). compile_cost.sh compiles
// it beside the other two, so volt's own compile cost is told apart from what the full example
// adds (TensorBoard, load_from_checkpoint, volt::cli).

#include <torch/torch.h>

#include <volt/data/fashion_mnist.hpp>
#include <volt/volt.hpp>

#include <cstdint>
#include <iostream>
#include <string>

namespace {

struct FashionCNN : torch::nn::Module {
  torch::nn::Sequential net;
  FashionCNN(std::int64_t c, std::int64_t hidden) {
    using namespace torch::nn;
    net = register_module(
        "net", Sequential(Conv2d(Conv2dOptions(1, c, 3).padding(1)), BatchNorm2d(c), ReLU(), MaxPool2d(2),
                          Conv2d(Conv2dOptions(c, 2 * c, 3).padding(1)), BatchNorm2d(2 * c), ReLU(), MaxPool2d(2),
                          Flatten(), Dropout(0.25), Linear(2 * c * 7 * 7, hidden), ReLU(), Dropout(0.25),
                          Linear(hidden, 10)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return net->forward(x); }

  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto loss = torch::nn::functional::cross_entropy(forward(batch.data), batch.target);
    ctx.log("train_loss", loss, {.on_step = false, .on_epoch = true});
    return loss;
  }
  void validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto logits = forward(batch.data);
    ctx.log("val_loss", torch::nn::functional::cross_entropy(logits, batch.target));
    ctx.log("val_acc", logits.argmax(1).eq(batch.target).to(torch::kFloat32).mean());
  }
  void test_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto logits = forward(batch.data);
    ctx.log("test_acc", logits.argmax(1).eq(batch.target).to(torch::kFloat32).mean());
  }
  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::Adam(parameters(), torch::optim::AdamOptions(2e-3)),
                                volt::optim::StepLR{{.step_size = 1, .gamma = 0.6}}, {.interval = volt::Interval::epoch});
  }
  void on_train_epoch_end(volt::Context& ctx) {
    const auto m = ctx.callback_metrics();
    std::cout << "epoch " << ctx.current_epoch() << ": train_loss=" << m.at("train_loss")
              << " val_loss=" << m.at("val_loss") << " val_acc=" << m.at("val_acc") << std::endl;
  }
};

}  // namespace

int main(int argc, char** argv) {
  volt::data::FashionMNISTOptions data_options;
  if (argc > 1) data_options.root = argv[1];
  const std::int64_t epochs = argc > 2 ? std::stoll(argv[2]) : 5;
  volt::seed_everything(42);
  volt::data::FashionMNIST data{data_options};
  FashionCNN model(32, 128);
  // The best epoch by validation accuracy is kept, as the hand-written loop keeps best.pt.
  volt::Trainer<FashionCNN, volt::data::FashionMNIST, volt::SingleDevice, volt::precision::FP32, volt::ModelCheckpoint>
      trainer{{.max_epochs = epochs}, volt::SingleDevice{}, volt::precision::FP32{},
              volt::ModelCheckpoint{{.monitor = "val_acc", .mode = volt::Mode::max}}};
  trainer.fit(model, data);
  std::cout << "test_acc=" << trainer.test(model, data).at("test_acc") << std::endl;
}
