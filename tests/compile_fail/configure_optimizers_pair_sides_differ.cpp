// expect: static assertion failed: volt: configure_optimizers returned a pair of \(optimizers, schedulers\) whose sides do not match
//
// Optimizers in a std::tuple, schedulers in a std::vector: volt pairs the i-th scheduler with
// the i-th optimizer, so both sides must be the same kind of sequence.
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
    auto scheduler = volt::optim::ExponentialLR{{.gamma = 0.9}};
#ifdef VOLT_COMPILE_FAIL
    return std::pair{std::tuple{torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1))},
                     std::vector{scheduler}};  // the mistake
#else
    return std::pair{std::tuple{torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1))}, std::tuple{scheduler}};
#endif
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
