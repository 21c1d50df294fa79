// expect: static assertion failed: volt: trainer\.test\(\) needs a test_step.*trainer_test_needs_test_step_and_test_dataloader<[^>]*Model, [^>]*Data>
//
// trainer.test() on a Module without test_step (the DataModule has test_dataloader).
#include <cstdint>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
#ifdef VOLT_COMPILE_FAIL
  // the mistake: the Module has no test_step
#else
  void test_step(const volt::data::Example& batch, volt::Context& ctx) {
    ctx.log("test_loss", torch::mse_loss(fc(batch.data), batch.target));
  }
#endif
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader test_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

}  // namespace

int main() {
  Model model;
  Data data;
  volt::Trainer<Model, Data> trainer{{.max_epochs = 1}};
  trainer.fit(model, data);
  trainer.test(model, data);
}
