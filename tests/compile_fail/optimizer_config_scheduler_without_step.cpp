// expect: static assertion failed: volt: OptimizerConfig::scheduler must have step\(\)
//
// volt::with_scheduler given a step size where the scheduler belongs.
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
    auto optimizer = std::make_unique<torch::optim::SGD>(parameters(), torch::optim::SGDOptions(0.1));
#ifdef VOLT_COMPILE_FAIL
    auto scheduler = 10;  // the mistake: the step size, not a scheduler
#else
    auto scheduler = std::make_unique<torch::optim::StepLR>(*optimizer, 10);
#endif
    return volt::with_scheduler(std::move(optimizer), std::move(scheduler), {.interval = volt::Interval::epoch});
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
