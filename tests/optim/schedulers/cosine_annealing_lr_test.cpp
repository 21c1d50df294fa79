#include <volt/optim/schedulers/cosine_annealing_lr.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <numbers>

#include "../lr_test_util.hpp"

using volt_test::check_lrs;
using volt_test::make_sgd;

// torch.optim.lr_scheduler.CosineAnnealingLR's documented closed form:
//   eta_t = eta_min + (eta_max - eta_min) * (1 + cos(pi * T_cur / T_max)) / 2
// torch computes it recursively (its chainable form); the two agree to rounding, past T_max too.
TEST_CASE("CosineAnnealingLR follows the closed form, through and past T_max", "[optim]") {
  const std::vector<double> bases{0.1, 0.5};
  const double eta_min = 0.001;
  auto opt = make_sgd(bases);
  volt::optim::CosineAnnealingLR sched{{.T_max = 4, .eta_min = eta_min}};
  sched.attach(opt);
  auto expected = [&](std::int64_t e, double base) {
    return eta_min + (base - eta_min) * (1 + std::cos(std::numbers::pi * static_cast<double>(e) / 4.0)) / 2;
  };
  check_lrs(sched, opt, bases, 0, expected);
  for (std::int64_t e = 1; e <= 13; ++e) {  // the minimum at 4 and 12, back at the top at 8
    sched.step();
    check_lrs(sched, opt, bases, e, expected);
  }
}

TEST_CASE("CosineAnnealingLR's recursive steps match the closed form's values", "[optim]") {
  // CosineAnnealingLR(SGD(lr=0.1), T_max=10), written out: 0.05 + 0.05 * cos(pi * t / 10) for t = 0..5.
  auto opt = make_sgd({0.1});
  volt::optim::CosineAnnealingLR sched{{.T_max = 10, .eta_min = 0.0}};
  sched.attach(opt);
  const double values[] = {0.1, 0.09755282581475769, 0.09045084971874738, 0.07938926261462367, 0.06545084971874738,
                           0.05};
  for (int t = 0; t < 6; ++t) {
    if (t > 0) sched.step();
    CHECK(sched.last_lr()[0] == Approx(values[t]).epsilon(1e-14));
  }
}

TEST_CASE("CosineAnnealingLR resumes identically after save / load", "[optim]") {
  volt_test::check_resume(
      {0.1, 0.3}, [] { return volt::optim::CosineAnnealingLR{{.T_max = 5, .eta_min = 1e-4}}; },
      [](auto& s, int) { s.step(); }, 3, 10);
}

TEST_CASE("CosineAnnealingLR rejects T_max < 1", "[optim]") {
  CHECK_THROWS_AS(volt::optim::CosineAnnealingLR({.T_max = 0}), std::invalid_argument);
}
