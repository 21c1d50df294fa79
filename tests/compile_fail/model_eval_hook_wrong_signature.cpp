// expect: static assertion failed: volt: `on_validation_model_eval` is declared but cannot be called with the arguments volt passes\. Expected: void on_validation_model_eval\(volt::Context& ctx\).*hook_signature_does_not_match<[^>]*Model, volt::hooks::on_validation_model_eval_t
//
// on_validation_model_eval replaces volt's module.eval() when declared; declared with a
// parameter volt does not pass, it is an error, not a default silently kept.
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  std::int64_t evals = 0;
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
  torch::Tensor validation_step(const volt::data::Example& batch, std::int64_t) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
#ifdef VOLT_COMPILE_FAIL
  void on_validation_model_eval(bool training) { evals += training ? 0 : 1; }  // the mistake: volt passes no bool
#else
  void on_validation_model_eval() {
    ++evals;
    eval();
  }
#endif
};

}  // namespace

int main() {
  volt_cf::fit_then<Model>([](auto& trainer, Model& model, volt_cf::EvalData& data) { trainer.validate(model, data); });
}
