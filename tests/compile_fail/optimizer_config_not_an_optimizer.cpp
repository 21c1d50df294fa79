// expect: static assertion failed: volt: OptimizerConfig::optimizer must be a torch::optim optimizer
//
// volt::with_scheduler given the optimizer's options instead of the optimizer built from them.
#include <cstdint>
#include <memory>

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
    auto options = torch::optim::SGDOptions(0.1);
#ifdef VOLT_COMPILE_FAIL
    auto optimizer = options;  // the mistake: the options, not an optimizer
#else
    auto optimizer = std::make_unique<torch::optim::SGD>(parameters(), options);
#endif
    return volt::with_scheduler(std::move(optimizer), volt::NoScheduler{});
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
