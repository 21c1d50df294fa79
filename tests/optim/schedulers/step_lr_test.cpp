#include <volt/optim/schedulers/step_lr.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>

#include "../lr_test_util.hpp"

using volt_test::check_lrs;
using volt_test::make_sgd;

// torch.optim.lr_scheduler.StepLR: lr = base_lr * gamma ** (epoch // step_size)
TEST_CASE("StepLR follows base_lr * gamma^(epoch / step_size)", "[optim]") {
  const std::vector<double> bases{0.1, 0.05};
  auto opt = make_sgd(bases);
  volt::optim::StepLR sched{{.step_size = 3, .gamma = 0.5}};
  CHECK_FALSE(sched.attached());
  sched.attach(opt);
  CHECK(sched.attached());
  auto expected = [](std::int64_t e, double base) { return base * std::pow(0.5, static_cast<double>(e / 3)); };
  check_lrs(sched, opt, bases, 0, expected);
  CHECK(sched.base_lrs() == bases);
  for (std::int64_t e = 1; e <= 10; ++e) {
    sched.step();
    CHECK(sched.last_epoch() == e);
    check_lrs(sched, opt, bases, e, expected);
  }
}

// libtorch's StepLR takes no step in its constructor (Python's does: the epoch-0 step), so its
// k+1-th step() is Python's (and volt's) k-th.
TEST_CASE("StepLR matches torch::optim::StepLR, one constructor step apart", "[optim]") {
  auto opt_volt = make_sgd({0.2});
  auto opt_torch = make_sgd({0.2});
  volt::optim::StepLR ours{{.step_size = 2, .gamma = 0.3}};
  ours.attach(opt_volt);
  torch::optim::StepLR theirs(opt_torch, 2, 0.3);
  theirs.step();  // Python's initial step
  for (int i = 0; i < 10; ++i) {
    ours.step();
    theirs.step();
    CHECK(volt_test::lrs_of(opt_volt)[0] == Approx(volt_test::lrs_of(opt_torch)[0]).epsilon(1e-12));
  }
}

TEST_CASE("StepLR resumes identically after save / load", "[optim]") {
  volt_test::check_resume(
      {0.1, 0.3}, [] { return volt::optim::StepLR{{.step_size = 2, .gamma = 0.7}}; },
      [](auto& s, int) { s.step(); }, 5, 8);
}

TEST_CASE("StepLR rejects a step_size below 1 and a step before attach", "[optim]") {
  CHECK_THROWS_AS(volt::optim::StepLR({.step_size = 0}), std::invalid_argument);
  // The message comes from a helper compiled once (fast mode); its wording is the header's.
  CHECK_THROWS_WITH(volt::optim::StepLR({.step_size = 0}), "volt: StepLR step_size=0 is invalid; it must be >= 1.");
  volt::optim::StepLR sched{{.step_size = 1}};
  CHECK_THROWS_AS(sched.step(), std::logic_error);
}
