// expect: static assertion failed: volt: precision::FP16Mixed .16-mixed, with a grad scaler. cannot step torch::optim::LBFGS.*grad_scaler_cannot_step_lbfgs<torch::optim::LBFGS>
//
// 16-mixed's grad scaler unscales the gradients once between the closure and the step; LBFGS
// re-evaluates the closure inside step(), so the pair cannot work (Lightning raises at run time;
// here the optimizer's type decides it at compile time).
#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
#ifdef VOLT_COMPILE_FAIL
  auto configure_optimizers() { return torch::optim::LBFGS(parameters(), torch::optim::LBFGSOptions(0.1)); }  // the mistake
#else
  auto configure_optimizers() { return torch::optim::Adam(parameters(), torch::optim::AdamOptions(0.1)); }
#endif
};

}  // namespace

int main() {
  Model model;
  volt_cf::Data data;
  volt::Trainer<Model, volt_cf::Data, volt::SingleDevice, volt::precision::FP16Mixed> trainer{{.max_epochs = 1}};
  trainer.fit(model, data);
}
