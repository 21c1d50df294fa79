#include <volt/optim/optimizer_state.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <sstream>
#include <tuple>
#include <vector>

#include "lr_test_util.hpp"

// libtorch's Optimizer::load keeps the param groups' options; volt::optim::load_optimizer
// restores them too (lr, betas, ...), along with the per-parameter state.
TEST_CASE("save_optimizer / load_optimizer restore the param groups' options and the state", "[optim]") {
  auto w = torch::ones({2}, torch::requires_grad());
  torch::optim::Adam a({w}, torch::optim::AdamOptions(0.1));
  (w * w).sum().backward();
  a.step();
  static_cast<torch::optim::AdamOptions&>(a.param_groups()[0].options()).lr(0.025).betas({0.8, 0.99});

  auto v = torch::ones({2}, torch::requires_grad());
  torch::optim::Adam b({v}, torch::optim::AdamOptions(0.1));
  volt_test::OptimizerState into{&b};
  volt_test::load_from_string(into, volt_test::save_to_string(volt_test::OptimizerState{&a}));

  const auto& options = static_cast<const torch::optim::AdamOptions&>(b.param_groups()[0].options());
  CHECK(options.lr() == 0.025);
  CHECK(std::get<0>(options.betas()) == 0.8);
  CHECK(std::get<1>(options.betas()) == 0.99);
  REQUIRE(b.state().size() == 1);

  // The restored state makes the next step identical.
  {
    torch::NoGradGuard no_grad;
    v.copy_(w);
  }
  for (auto* opt : {static_cast<torch::optim::Optimizer*>(&a), static_cast<torch::optim::Optimizer*>(&b)}) opt->zero_grad();
  (w * w).sum().backward();
  (v * v).sum().backward();
  a.step();
  b.step();
  CHECK(torch::equal(w, v));

  torch::optim::Adam two_groups({torch::optim::OptimizerParamGroup({torch::zeros({1}, torch::requires_grad())}),
                                 torch::optim::OptimizerParamGroup({torch::zeros({1}, torch::requires_grad())})},
                                torch::optim::AdamOptions(0.1));
  volt_test::OptimizerState wrong{&two_groups};
  CHECK_THROWS(volt_test::load_from_string(wrong, volt_test::save_to_string(volt_test::OptimizerState{&a})));
}
