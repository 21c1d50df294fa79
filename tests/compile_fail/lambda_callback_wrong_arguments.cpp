// expect: static assertion failed: volt: the callable given to volt::lambda::on_train_batch_end\(\) cannot take the arguments of the hook
//
// A LambdaCallback part whose callable takes a string where on_train_batch_end passes
// the step outputs first.
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

#ifdef VOLT_COMPILE_FAIL
inline auto make_callback() {
  return volt::LambdaCallback{volt::lambda::on_train_batch_end([](const std::string&) {})};  // the mistake
}
#else
inline auto make_callback() {
  return volt::LambdaCallback{volt::lambda::on_train_batch_end([](const torch::Tensor&) {})};
}
#endif

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

}  // namespace

int main() {
  Model model;
  Data data;
  volt::Trainer<Model, Data, volt::SingleDevice, volt::precision::FP32, decltype(make_callback())> trainer{
      {.max_epochs = 1}, volt::SingleDevice{}, volt::precision::FP32{}, make_callback()};
  trainer.fit(model, data);
}
