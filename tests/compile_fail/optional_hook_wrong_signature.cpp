// expect: static assertion failed: volt: `on_train_epoch_start` is declared but cannot be called with the arguments volt passes\. Expected: void on_train_epoch_start\(volt::Context& ctx\).*hook_signature_does_not_match<[^>]*Model, volt::hooks::on_train_epoch_start_t>
//
// An optional hook declared with a parameter volt does not pass (the epoch as an int; volt
// passes only the Context): a near miss is an error, not a hook silently never called.
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
  void on_train_epoch_start(int) { ++epochs_started; }  // the mistake: volt passes no int
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
