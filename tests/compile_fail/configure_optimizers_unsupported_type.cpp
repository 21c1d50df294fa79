// expect: static assertion failed: volt: configure_optimizers returned a type volt cannot use
//
// configure_optimizers returning something that is not an optimizer (here an int, as when the
// learning rate is returned by mistake).
// TODO(volt bug, include/volt/optim/configure_optimizers.hpp): the note should name the returned
// type, but unsupported_configure_optimizers_result inherits std::false_type, so GCC's note
// reads `std::integral_constant<bool, false>::value`; and a second error follows from
// fit_loop.hpp (`'void optimization' has incomplete type`). Once the trait defines its own
// `value`, append to the regex above: .*unsupported_configure_optimizers_result<int>
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
#ifdef VOLT_COMPILE_FAIL
  int configure_optimizers() { return 1; }  // the mistake: not an optimizer
#else
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(1)); }
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
