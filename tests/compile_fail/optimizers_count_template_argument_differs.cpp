// expect: static assertion failed: volt: ctx.optimizers<N>\(\) unpacks another number of optimizers than configure_optimizers returns.*unpacked_optimizer_count_differs<3, 2>
//
// The count spelled out (`ctx.optimizers<3>()`) in a hook that gets the typed volt::RunContext:
// checked at compile time, and the note names both numbers.
#include <cstdint>
#include <tuple>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  static constexpr bool automatic_optimization = false;
  torch::nn::Linear other{register_module("other", torch::nn::Linear(2, 1))};
  // Before the hook: a non-template member body that calls ctx.optimizers() needs
  // configure_optimizers' deduced return type (with `auto& ctx` the order does not matter).
  auto configure_optimizers() {
    return std::tuple{torch::optim::Adam(fc->parameters(), torch::optim::AdamOptions(1e-3)),
                      torch::optim::SGD(other->parameters(), torch::optim::SGDOptions(0.1))};
  }
  void training_step(const volt::data::Example& batch, std::int64_t, volt::RunContext<Model>& ctx) {
#ifdef VOLT_COMPILE_FAIL
    auto [opt_a, opt_b, opt_c] = ctx.optimizers<3>();  // the mistake: configure_optimizers returns two
    (void)opt_c;
#else
    auto [opt_a, opt_b] = ctx.optimizers<2>();
#endif
    ctx.manual_backward(torch::mse_loss(fc(batch.data) + other(batch.data), batch.target));
    opt_a.step();
    opt_b.step();
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
