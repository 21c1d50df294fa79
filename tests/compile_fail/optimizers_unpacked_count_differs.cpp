// expect: 3 names provided for structured binding.*volt::ManualOptimizerTuple<torch::optim::Adam, torch::optim::SGD>.* decomposes into 2 elements
//
// Lightning's `opt_g, opt_d = self.optimizers()` unpacked with a name too many: a hook taking
// `auto& ctx` gets the typed volt::RunContext, so the count configure_optimizers returns is known
// at compile time and the compiler names both numbers (and the optimizers' types).
#include <cstdint>
#include <tuple>

#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  static constexpr bool automatic_optimization = false;
  torch::nn::Linear other{register_module("other", torch::nn::Linear(2, 1))};
  void training_step(const volt::data::Example& batch, std::int64_t, auto& ctx) {
#ifdef VOLT_COMPILE_FAIL
    auto [opt_a, opt_b, opt_c] = ctx.optimizers();  // the mistake: configure_optimizers returns two
    (void)opt_c;
#else
    auto [opt_a, opt_b] = ctx.optimizers();
#endif
    ctx.manual_backward(torch::mse_loss(fc(batch.data) + other(batch.data), batch.target));
    opt_a.step();
    opt_b.step();
  }
  auto configure_optimizers() {
    return std::tuple{torch::optim::Adam(fc->parameters(), torch::optim::AdamOptions(1e-3)),
                      torch::optim::SGD(other->parameters(), torch::optim::SGDOptions(0.1))};
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
