// expect: static assertion failed: volt: the DataModule declares `set_up`, which volt never calls \(a LightningDataModule has no such hook\); did you mean `setup`\?
//
// A DataModule hook under a wrong name (here `set_up`) would never run, and its loaders would
// hand out data that was never prepared: the table of wrong names covers DataModules too.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct Data {
  torch::Tensor x, y;
#ifdef VOLT_COMPILE_FAIL
  void set_up(volt::Stage) {  // the mistake: Lightning's hook is `setup`
#else
  void setup(volt::Stage) {
#endif
    x = torch::randn({8, 2});
    y = torch::randn({8, 1});
  }
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

}  // namespace

int main() {
  Model model;
  Data data;
  volt::Trainer<Model, Data> trainer{{.max_epochs = 1}};
  trainer.fit(model, data);
}
