// expect: static assertion failed: volt: configure_optimizers returned more schedulers than optimizers
//
// Two schedulers for one optimizer: the i-th scheduler drives the i-th optimizer. (Several
// schedules for one optimizer are one volt::optim::SequentialLR.)
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
    auto sgd = torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1));
#ifdef VOLT_COMPILE_FAIL
    return std::pair{std::tuple{std::move(sgd)}, std::tuple{volt::optim::ExponentialLR{{.gamma = 0.9}},
                                                 volt::optim::StepLR{{.step_size = 2}}}};  // the mistake
#else
    return std::pair{std::tuple{std::move(sgd)}, std::tuple{volt::optim::SequentialLR{
                                          {.milestones = {2}}, volt::optim::ExponentialLR{{.gamma = 0.9}},
                                          volt::optim::StepLR{{.step_size = 2}}}}};
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
