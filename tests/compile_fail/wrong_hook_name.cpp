// expect: static assertion failed: volt: the Module declares `on_epoch_start`, which volt never calls \(Lightning has no such hook\); did you mean `on_train_epoch_start`\?
//
// A hook under a name Lightning users reach for but that no Lightning 2.x hook has (here the
// 1.x `on_epoch_start`): volt would never call it, so it is an error naming the right hook
// rather than a silently dead member.
#include <cstdint>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  std::int64_t epochs_started = 0;
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  void on_epoch_start(volt::Context&) { ++epochs_started; }  // the mistake: not a Lightning 2.x hook
#else
  void on_train_epoch_start(volt::Context&) { ++epochs_started; }
#endif
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
