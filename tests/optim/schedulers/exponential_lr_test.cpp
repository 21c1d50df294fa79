#include <volt/optim/schedulers/exponential_lr.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>

#include "../lr_test_util.hpp"

using volt_test::check_lrs;
using volt_test::make_sgd;

// torch.optim.lr_scheduler.ExponentialLR: lr = base_lr * gamma ** epoch
TEST_CASE("ExponentialLR follows base_lr * gamma^epoch", "[optim]") {
  const std::vector<double> bases{0.1, 0.02};
  auto opt = make_sgd(bases);
  volt::optim::ExponentialLR sched{{.gamma = 0.9}};
  sched.attach(opt);
  auto expected = [](std::int64_t e, double base) { return base * std::pow(0.9, static_cast<double>(e)); };
  check_lrs(sched, opt, bases, 0, expected);
  for (std::int64_t e = 1; e <= 10; ++e) {
    sched.step();
    check_lrs(sched, opt, bases, e, expected);
  }
}

TEST_CASE("ExponentialLR jumps with its closed form (step_to)", "[optim]") {
  auto opt = make_sgd({1.0});
  volt::optim::ExponentialLR sched{{.gamma = 0.5}};
  sched.attach(opt);
  sched.step_to(4);
  CHECK(volt_test::lrs_of(opt)[0] == Approx(0.0625));
  sched.step();
  CHECK(volt_test::lrs_of(opt)[0] == Approx(0.03125));
}

TEST_CASE("ExponentialLR resumes identically after save / load", "[optim]") {
  volt_test::check_resume(
      {0.1, 0.2}, [] { return volt::optim::ExponentialLR{{.gamma = 0.8}}; }, [](auto& s, int) { s.step(); }, 4, 8);
}
