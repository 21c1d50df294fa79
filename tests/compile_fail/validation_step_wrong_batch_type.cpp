// expect: static assertion failed: volt: `validation_step` is declared but cannot be called with the arguments volt passes.*hook_signature_does_not_match<[^>]*Model, volt::hooks::validation_step_t, const torch::data::Example<
//
// validation_step declared for a batch type the DataModule's val_dataloader does not yield (its
// own struct instead of volt::data::Example). trainer.fit() alone must catch it: an optional
// step with the wrong signature would otherwise be skipped, and fit would silently never
// validate. The note names the Module and the batch type volt passes.
#include <cstdint>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

struct MyBatch {  // looks like an Example, but is another type
  torch::Tensor data, target;
};

#ifdef VOLT_COMPILE_FAIL
using ValBatch = MyBatch;  // the mistake: not what val_dataloader() yields
#else
using ValBatch = volt::data::Example;
#endif

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  torch::Tensor validation_step(const ValBatch& batch, std::int64_t, volt::Context& ctx) {
    auto loss = torch::mse_loss(fc(batch.data), batch.target);
    ctx.log("val_loss", loss);
    return loss;
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

}  // namespace

int main() {
  Model model;
  Data data;
  volt::Trainer<Model, Data> trainer{{.max_epochs = 1}};
  trainer.fit(model, data);
}
