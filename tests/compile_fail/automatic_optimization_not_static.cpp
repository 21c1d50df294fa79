// expect: static assertion failed: volt: the Module's `automatic_optimization` must be a compile-time constant.*Write: static constexpr bool automatic_optimization = false;.*automatic_optimization_must_be_static_constexpr_bool<[^>]*Model>
//
// Lightning's `self.automatic_optimization = False` ported as a non-static member: volt picks the
// optimization loop at compile time, so it must be a constant (else it would be silently ignored
// and the module's own steps would run backward a second time).
#include <cstdint>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
#ifdef VOLT_COMPILE_FAIL
  bool automatic_optimization = false;  // the mistake: a member, not a constant
#else
  static constexpr bool automatic_optimization = false;
#endif
  void training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto opt = ctx.optimizers()[0];
    opt.zero_grad();
    ctx.manual_backward(torch::mse_loss(fc(batch.data), batch.target));
    opt.step();
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
