// expect: static assertion failed: volt: LambdaLR's lr_lambda must be callable as double\(std::int64_t epoch\)
//
// A LambdaLR whose lambda takes the optimizer instead of the epoch.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() {
#ifdef VOLT_COMPILE_FAIL
    auto lambda = [](torch::optim::Optimizer&) { return 0.5; };  // the mistake
#else
    auto lambda = [](std::int64_t epoch) { return 1.0 / static_cast<double>(epoch + 1); };
#endif
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)),
                                volt::optim::LambdaLR{volt::optim::LambdaLROptions{lambda}});
  }
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

}  // namespace

int main() {
  Model model;
  Data data;
  volt::Trainer<Model, Data> trainer{{.max_epochs = 1}};
  trainer.fit(model, data);
}
