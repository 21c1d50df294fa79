#include <volt/optim/schedulers/linear_lr.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>

#include "../lr_test_util.hpp"

using volt_test::check_lrs;
using volt_test::make_sgd;

// torch.optim.lr_scheduler.LinearLR:
//   lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)
TEST_CASE("LinearLR warms up linearly, then holds", "[optim]") {
  const std::vector<double> bases{0.05, 0.2};
  auto opt = make_sgd(bases);
  volt::optim::LinearLR sched{{.start_factor = 0.05, .end_factor = 1.0, .total_iters = 6}};
  sched.attach(opt);
  auto expected = [](std::int64_t e, double base) {
    return base * (0.05 + 0.95 * static_cast<double>(std::min<std::int64_t>(e, 6)) / 6.0);
  };
  check_lrs(sched, opt, bases, 0, expected);
  for (std::int64_t e = 1; e <= 10; ++e) {
    sched.step();
    check_lrs(sched, opt, bases, e, expected);
  }
}

TEST_CASE("LinearLR decays too, and its defaults are torch's", "[optim]") {
  const std::vector<double> bases{1.0};
  auto opt = make_sgd(bases);
  volt::optim::LinearLR sched{{.start_factor = 1.0, .end_factor = 0.25, .total_iters = 3}};
  sched.attach(opt);
  auto expected = [](std::int64_t e, double base) {
    return base * (1.0 - 0.75 * static_cast<double>(std::min<std::int64_t>(e, 3)) / 3.0);
  };
  for (std::int64_t e = 1; e <= 5; ++e) {
    sched.step();
    check_lrs(sched, opt, bases, e, expected);
  }
  volt::optim::LinearLR defaults;
  CHECK(defaults.options().start_factor == Approx(1.0 / 3));
  CHECK(defaults.options().end_factor == 1.0);
  CHECK(defaults.options().total_iters == 5);
}

TEST_CASE("LinearLR resumes identically after save / load", "[optim]") {
  volt_test::check_resume(
      {0.1}, [] { return volt::optim::LinearLR{{.start_factor = 0.1, .total_iters = 8}}; },
      [](auto& s, int) { s.step(); }, 3, 8);
}

TEST_CASE("LinearLR rejects factors outside torch's ranges", "[optim]") {
  CHECK_THROWS_AS(volt::optim::LinearLR({.start_factor = 0.0}), std::invalid_argument);
  CHECK_THROWS_AS(volt::optim::LinearLR({.start_factor = 1.5}), std::invalid_argument);
  CHECK_THROWS_WITH(volt::optim::LinearLR({.start_factor = 1.5}),
                    "volt: LinearLR start_factor=1.5 is invalid; it must be greater than 0 and at most 1.");
  CHECK_THROWS_AS(volt::optim::LinearLR({.end_factor = -0.1}), std::invalid_argument);
}
