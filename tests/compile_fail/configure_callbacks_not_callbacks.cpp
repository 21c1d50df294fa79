// expect: static assertion failed: volt: configure_callbacks must return a callback \(an object\) or a std::tuple of callbacks.*configure_callbacks_must_return_callbacks<[^>]*Model, int>
//
// configure_callbacks returning something that is not a callback (here a count): Lightning
// wants a callback or a list of them; volt wants one callback object or a std::tuple of them.
#include <cstdint>
#include <tuple>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

struct Counter {
  std::int64_t epochs = 0;
  void on_train_epoch_end() { ++epochs; }
};

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  int configure_callbacks() { return 1; }  // the mistake: a number, not a callback
#else
  auto configure_callbacks() { return std::tuple{Counter{}}; }
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
