// expect: static assertion failed: volt: the DataModule has no train_dataloader.*datamodule_has_no_train_dataloader<[^>]*Data>
//
// A DataModule whose training loader is misnamed (`train_loader`): volt cannot find
// train_dataloader, so fit() has nothing to train on.
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
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
#ifdef VOLT_COMPILE_FAIL
  volt::data::TensorLoader train_loader() const { return {x, y, {.batch_size = 4}}; }  // the mistake: misnamed
#else
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
#endif
};

}  // namespace

int main() {
  Model model;
  Data data;
  volt::Trainer<Model, Data> trainer{{.max_epochs = 1}};
  trainer.fit(model, data);
}
