// expect: static assertion failed: volt: SequentialLR runs volt's epoch/step schedulers
//
// ReduceLROnPlateau inside SequentialLR: it steps on a metric, not on a count, so it cannot
// be sequenced (torch.optim's SequentialLR has the same rule).
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
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)),
                                volt::optim::SequentialLR{{.milestones = {2}}, volt::optim::LinearLR{{.start_factor = 0.1, .total_iters = 2}},
#ifdef VOLT_COMPILE_FAIL
                                                          volt::optim::ReduceLROnPlateau{{}}});  // the mistake
#else
                                                          volt::optim::ExponentialLR{{.gamma = 0.9}}});
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
