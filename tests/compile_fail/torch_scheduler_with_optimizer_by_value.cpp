// expect: static assertion failed: volt: torch.s schedulers .torch::optim::StepLR, .... hold a reference to their optimizer
//
// torch::optim::StepLR keeps a reference to its optimizer, which volt then moves: the
// optimizer must be handed over in a smart pointer so its address stays valid.
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
    torch::optim::SGD optimizer(parameters(), torch::optim::SGDOptions(0.1));  // the mistake: by value
    auto scheduler = std::make_unique<torch::optim::StepLR>(optimizer, 10);
#else
    auto optimizer = std::make_unique<torch::optim::SGD>(parameters(), torch::optim::SGDOptions(0.1));
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
