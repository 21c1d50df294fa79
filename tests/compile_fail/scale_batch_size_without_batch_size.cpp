// expect: static assertion failed: volt: scale_batch_size needs to find the DataModule's batch size.*scale_batch_size_needs_a_batch_size<[^>]*Data>
//
// A DataModule whose loader's batch size is fixed inside train_dataloader(): the batch size
// finder has nothing to change, so asking for it is an error naming where volt looks.
#include <cstdint>

#include <volt/tuner/tuner.hpp>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
#ifdef VOLT_COMPILE_FAIL
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }  // the mistake: fixed
#else
  std::int64_t batch_size = 4;
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = batch_size}}; }
#endif
};

}  // namespace

int main() {
  Model model;
  Data data;
  volt::Trainer<Model, Data> trainer{{.logger = false, .max_epochs = 1, .enable_checkpointing = false}};
  volt::Tuner tuner(trainer);
  tuner.scale_batch_size(model, data, {.init_val = 2, .max_val = 4});
}
