#include <volt/optim/schedulers/one_cycle_lr.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <tuple>

#include "../lr_test_util.hpp"

using volt_test::make_sgd;

namespace {

// torch.optim.lr_scheduler.OneCycleLR's annealing functions, as documented.
double anneal_cos(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
}
double anneal_linear(double start, double end, double pct) { return (end - start) * pct + start; }

}  // namespace

// total_steps = 10, pct_start = 0.3, max_lr = 1, div_factor = 25, final_div_factor = 1e4:
// initial lr 0.04, min lr 4e-6; phase 1 ends at step 0.3 * 10 - 1 = 2, phase 2 at 10 - 1 = 9.
TEST_CASE("OneCycleLR (cos, two phases) rises to max_lr and anneals to the minimum", "[optim]") {
  auto opt = make_sgd({0.5}, /*momentum=*/0.9);
  volt::optim::OneCycleLR sched{{.max_lr = 1.0, .total_steps = 10}};
  sched.attach(opt);
  auto lr_at = [](std::int64_t t) {
    if (t <= 2) return anneal_cos(0.04, 1.0, static_cast<double>(t) / 2.0);
    return anneal_cos(1.0, 0.04 / 1e4, static_cast<double>(t - 2) / 7.0);
  };
  auto momentum_at = [](std::int64_t t) {
    if (t <= 2) return anneal_cos(0.95, 0.85, static_cast<double>(t) / 2.0);
    return anneal_cos(0.85, 0.95, static_cast<double>(t - 2) / 7.0);
  };
  auto momentum = [&] {
    return static_cast<torch::optim::SGDOptions&>(opt.param_groups()[0].options()).momentum();
  };
  CHECK(sched.base_lrs()[0] == Approx(0.04));
  for (std::int64_t t = 0; t <= 10; ++t) {
    if (t > 0) sched.step();
    INFO("step " << t);
    CHECK(sched.last_lr()[0] == Approx(lr_at(t)).epsilon(1e-12));
    CHECK(volt_test::lrs_of(opt)[0] == sched.last_lr()[0]);
    CHECK(momentum() == Approx(momentum_at(t)).epsilon(1e-12));
  }
  CHECK(lr_at(1) == Approx(0.52));  // the formula itself, written out
  CHECK(lr_at(2) == Approx(1.0));
  CHECK(lr_at(9) == Approx(4e-6));
  CHECK_THROWS_AS(sched.step(), std::out_of_range);  // step 11 > total_steps, as torch raises
}

// three_phase: up to max over [0, 2], back to the initial lr over (2, 2*0.3*10 - 2 = 4], then
// down to the minimum over (4, 9].
TEST_CASE("OneCycleLR (linear, three phases) with epochs * steps_per_epoch", "[optim]") {
  auto opt = make_sgd({0.5, 0.5});
  volt::optim::OneCycleLR sched{{.max_lrs = {1.0, 2.0},
                                 .epochs = 2,
                                 .steps_per_epoch = 5,
                                 .anneal_strategy = volt::optim::AnnealStrategy::linear,
                                 .cycle_momentum = false,
                                 .div_factor = 10.0,
                                 .final_div_factor = 100.0,
                                 .three_phase = true}};
  sched.attach(opt);
  CHECK(sched.total_steps() == 10);
  auto lr_at = [](std::int64_t t, double max_lr) {
    const double initial = max_lr / 10.0, min = initial / 100.0;
    const double s = static_cast<double>(t);
    if (t <= 2) return anneal_linear(initial, max_lr, s / 2.0);
    if (t <= 4) return anneal_linear(max_lr, initial, (s - 2) / 2.0);
    return anneal_linear(initial, min, (s - 4) / 5.0);
  };
  for (std::int64_t t = 0; t <= 10; ++t) {
    if (t > 0) sched.step();
    INFO("step " << t);
    CHECK(sched.last_lr()[0] == Approx(lr_at(t, 1.0)).epsilon(1e-12));
    CHECK(sched.last_lr()[1] == Approx(lr_at(t, 2.0)).epsilon(1e-12));
  }
  CHECK(sched.last_lr()[0] == Approx(anneal_linear(0.1, 0.001, 6.0 / 5.0)));
}

TEST_CASE("OneCycleLR cycles Adam's beta1", "[optim]") {
  torch::optim::Adam adam({torch::zeros({1}, torch::requires_grad())}, torch::optim::AdamOptions(0.1).betas({0.9, 0.98}));
  volt::optim::OneCycleLR sched{{.max_lr = 0.1, .total_steps = 20, .pct_start = 0.25}};
  sched.attach(adam);
  auto betas = [&] { return static_cast<torch::optim::AdamOptions&>(adam.param_groups()[0].options()).betas(); };
  CHECK(std::get<0>(betas()) == Approx(0.95));
  CHECK(std::get<1>(betas()) == Approx(0.98));
  for (int i = 0; i < 4; ++i) sched.step();  // end of phase 1: 0.25 * 20 - 1 = 4
  CHECK(std::get<0>(betas()) == Approx(0.85));
  CHECK(sched.last_lr()[0] == Approx(0.1));
}

TEST_CASE("OneCycleLR resumes identically after save / load", "[optim]") {
  volt_test::check_resume(
      {0.1}, [] { return volt::optim::OneCycleLR{{.max_lr = 0.5, .total_steps = 15, .three_phase = true}}; },
      [](auto& s, int) { s.step(); }, 6, 9, /*momentum=*/0.9);
}

TEST_CASE("OneCycleLR validates its options", "[optim]") {
  CHECK_THROWS_AS(volt::optim::OneCycleLR({.max_lr = 1.0}), std::invalid_argument);  // no total_steps
  CHECK_THROWS_WITH(volt::optim::OneCycleLR({.max_lr = 1.0}),
                    "volt: OneCycleLR needs total_steps, or epochs and steps_per_epoch (got total_steps=0, epochs=0, "
                    "steps_per_epoch=0); all must be positive.");
  CHECK_THROWS_AS(volt::optim::OneCycleLR({.max_lr = 1.0, .total_steps = 10, .pct_start = 1.5}), std::invalid_argument);
  CHECK_THROWS_AS(volt::optim::OneCycleLR({.total_steps = 10}), std::invalid_argument);  // no max_lr
  torch::optim::Adagrad adagrad({torch::zeros({1}, torch::requires_grad())}, torch::optim::AdagradOptions(0.1));
  volt::optim::OneCycleLR needs_momentum{{.max_lr = 1.0, .total_steps = 10}};
  CHECK_THROWS_AS(needs_momentum.attach(adagrad), std::invalid_argument);
  volt::optim::OneCycleLR without_momentum{{.max_lr = 1.0, .total_steps = 10, .cycle_momentum = false}};
  without_momentum.attach(adagrad);
  CHECK(volt_test::lrs_of(adagrad)[0] == Approx(0.04));
}
