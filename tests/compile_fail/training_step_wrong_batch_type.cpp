// expect: static assertion failed: volt: training_step cannot take the DataModule's batch type.*training_step_cannot_take_batch_type<[^>]*Model, torch::data::Example<
//
// training_step declared for a batch type the DataModule's loader does not yield (its own
// struct instead of volt::data::Example): the message says training_step exists but cannot
// take the batch, and the note names both the Module and the batch type.
#include <cstdint>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

struct MyBatch {  // looks like an Example, but is another type
  torch::Tensor data, target;
};

#ifdef VOLT_COMPILE_FAIL
using StepBatch = MyBatch;  // the mistake: not what train_dataloader() yields
#else
using StepBatch = volt::data::Example;
#endif

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const StepBatch& batch, std::int64_t, volt::Context&) {
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
  volt::Trainer<Model, Data> trainer{{.max_epochs = 1}};
  trainer.fit(model, data);
}
