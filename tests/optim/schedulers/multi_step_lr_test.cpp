#include <volt/optim/schedulers/multi_step_lr.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>

#include "../lr_test_util.hpp"

using volt_test::check_lrs;
using volt_test::make_sgd;

// torch.optim.lr_scheduler.MultiStepLR: lr = base_lr * gamma ** bisect_right(milestones, epoch)
TEST_CASE("MultiStepLR decays at each milestone", "[optim]") {
  const std::vector<double> bases{0.05, 1.0};
  auto opt = make_sgd(bases);
  volt::optim::MultiStepLR sched{{.milestones = {6, 2, 5}, .gamma = 0.1}};  // unsorted on purpose
  sched.attach(opt);
  auto expected = [](std::int64_t e, double base) {
    const int passed = (e >= 2) + (e >= 5) + (e >= 6);
    return base * std::pow(0.1, passed);
  };
  check_lrs(sched, opt, bases, 0, expected);
  for (std::int64_t e = 1; e <= 10; ++e) {
    sched.step();
    check_lrs(sched, opt, bases, e, expected);
  }
}

TEST_CASE("MultiStepLR applies a repeated milestone twice, as torch's Counter does", "[optim]") {
  const std::vector<double> bases{1.0};
  auto opt = make_sgd(bases);
  volt::optim::MultiStepLR sched{{.milestones = {3, 3}, .gamma = 0.5}};
  sched.attach(opt);
  auto expected = [](std::int64_t e, double base) { return e >= 3 ? base * 0.25 : base; };
  for (std::int64_t e = 1; e <= 5; ++e) {
    sched.step();
    check_lrs(sched, opt, bases, e, expected);
  }
}

TEST_CASE("MultiStepLR resumes identically after save / load", "[optim]") {
  volt_test::check_resume(
      {0.1}, [] { return volt::optim::MultiStepLR{{.milestones = {2, 4, 7}, .gamma = 0.5}}; },
      [](auto& s, int) { s.step(); }, 3, 8);
}
