#include <volt/optim/schedulers/sequential_lr.hpp>

#include <volt/optim/schedulers/cosine_annealing_lr.hpp>
#include <volt/optim/schedulers/exponential_lr.hpp>
#include <volt/optim/schedulers/linear_lr.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <type_traits>

#include "../lr_test_util.hpp"

using volt_test::check_lrs;
using volt_test::make_sgd;

// torch.optim.lr_scheduler.SequentialLR: scheduler i runs from milestone i-1; at a milestone it
// starts over at its epoch 0 (closed form). LinearLR warmup for 3 steps, then ExponentialLR:
//   epoch e < 3: base * (0.1 + 0.9 * e / 3);   e >= 3: base * 0.5^(e - 3)
TEST_CASE("SequentialLR runs a warmup, then a decay", "[optim]") {
  const std::vector<double> bases{0.1, 1.0};
  auto opt = make_sgd(bases);
  volt::optim::SequentialLR sched{{.milestones = {3}},
                                  volt::optim::LinearLR{{.start_factor = 0.1, .total_iters = 3}},
                                  volt::optim::ExponentialLR{{.gamma = 0.5}}};
  STATIC_REQUIRE(std::is_same_v<decltype(sched),
                                volt::optim::SequentialLR<volt::optim::LinearLR, volt::optim::ExponentialLR>>);
  sched.attach(opt);
  auto expected = [](std::int64_t e, double base) {
    return e < 3 ? base * (0.1 + 0.9 * static_cast<double>(e) / 3.0) : base * std::pow(0.5, static_cast<double>(e - 3));
  };
  check_lrs(sched, opt, bases, 0, expected);
  for (std::int64_t e = 1; e <= 10; ++e) {
    sched.step();
    check_lrs(sched, opt, bases, e, expected);
  }
}

// torch's documented example, with LinearLR holding 0.1 (start = end = 0.1) in place of
// ConstantLR(factor=0.1, total_iters=20), then ExponentialLR(gamma=0.9) from milestone 20:
// lr = 0.005 for epochs 0..19, 0.05 at 20, 0.045 at 21, 0.0405 at 22.
TEST_CASE("SequentialLR matches torch's documented example", "[optim]") {
  auto opt = make_sgd({0.05});
  volt::optim::SequentialLR sched{{.milestones = {20}},
                                  volt::optim::LinearLR{{.start_factor = 0.1, .end_factor = 0.1, .total_iters = 20}},
                                  volt::optim::ExponentialLR{{.gamma = 0.9}}};
  sched.attach(opt);
  for (int e = 0; e <= 22; ++e) {
    if (e > 0) sched.step();
    INFO("epoch " << e);
    const double want = e < 20 ? 0.005 : 0.05 * std::pow(0.9, e - 20);
    CHECK(sched.last_lr()[0] == Approx(want).epsilon(1e-12));
  }
}

TEST_CASE("SequentialLR with three schedulers resumes identically after save / load", "[optim]") {
  auto make = [] {
    return volt::optim::SequentialLR{{.milestones = {2, 6}},
                                     volt::optim::LinearLR{{.start_factor = 0.25, .total_iters = 2}},
                                     volt::optim::CosineAnnealingLR{{.T_max = 4, .eta_min = 0.01}},
                                     volt::optim::ExponentialLR{{.gamma = 0.7}}};
  };
  volt_test::check_resume({0.1, 0.3}, make, [](auto& s, int) { s.step(); }, 1, 9);
  volt_test::check_resume({0.1, 0.3}, make, [](auto& s, int) { s.step(); }, 4, 6);
  volt_test::check_resume({0.1, 0.3}, make, [](auto& s, int) { s.step(); }, 7, 5);
}

TEST_CASE("SequentialLR needs one milestone fewer than schedulers", "[optim]") {
  CHECK_THROWS_AS(volt::optim::SequentialLR({.milestones = {2, 4}}, volt::optim::ExponentialLR{{.gamma = 0.5}},
                                            volt::optim::ExponentialLR{{.gamma = 0.5}}),
                  std::invalid_argument);
}
