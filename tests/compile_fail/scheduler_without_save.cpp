// expect: static assertion failed: volt: this lr scheduler cannot be saved
//
// A hand-written scheduler that steps but cannot be saved: a checkpoint holds every
// scheduler's state, so it needs save/load (or volt::optim::LRSchedulerBase).
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

// Halves the lr of a bound optimizer on each step.
struct Halving {
  torch::optim::Optimizer* optimizer = nullptr;
  void on_bind(torch::optim::Optimizer& o) { optimizer = &o; }
  void step() {
    if (optimizer == nullptr) return;
    for (auto& g : optimizer->param_groups()) g.options().set_lr(g.options().get_lr() * 0.5);
  }
#ifndef VOLT_COMPILE_FAIL
  void save(torch::serialize::OutputArchive&) const {}  // stateless: nothing to write
  void load(torch::serialize::InputArchive&) {}
#endif
};

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() {
    auto optimizer = std::make_unique<torch::optim::SGD>(parameters(), torch::optim::SGDOptions(0.1));
    return volt::with_scheduler(std::move(optimizer), Halving{});
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
