// expect: static assertion failed: volt: the DataModule's train_dataloader\(\) returns something that is not a range of batches.*train_dataloader_result_is_not_a_loader<[^>]*Data, at::Tensor>
//
// A DataModule whose train_dataloader returns the data tensor itself: the message says what
// the hook returns, not that the DataModule "has no train_dataloader".
#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
#ifdef VOLT_COMPILE_FAIL
  torch::Tensor train_dataloader() const { return torch::cat({x, y}, 1); }  // the mistake: data, not a loader
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
