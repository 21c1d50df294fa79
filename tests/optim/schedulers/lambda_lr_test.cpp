#include <volt/optim/schedulers/lambda_lr.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "../lr_test_util.hpp"

using volt_test::check_lrs;
using volt_test::make_sgd;

// torch.optim.lr_scheduler.LambdaLR: lr = base_lr * lr_lambda(epoch)
TEST_CASE("LambdaLR multiplies the base lr by the lambda's factor", "[optim]") {
  const std::vector<double> bases{0.1, 0.4};
  auto opt = make_sgd(bases);
  auto warmup_then_decay = [](std::int64_t e) { return e < 3 ? (e + 1) / 3.0 : std::pow(0.9, e - 3); };
  volt::optim::LambdaLR sched{warmup_then_decay};
  STATIC_REQUIRE(std::is_same_v<decltype(sched), volt::optim::LambdaLR<decltype(warmup_then_decay)>>);
  sched.attach(opt);
  auto expected = [&](std::int64_t e, double base) { return base * warmup_then_decay(e); };
  check_lrs(sched, opt, bases, 0, expected);
  for (std::int64_t e = 1; e <= 10; ++e) {
    sched.step();
    check_lrs(sched, opt, bases, e, expected);
  }
}

TEST_CASE("LambdaLR from an options struct, and a function pointer", "[optim]") {
  auto opt = make_sgd({1.0});
  volt::optim::LambdaLR sched{volt::optim::LambdaLROptions{.lr_lambda = [](std::int64_t e) { return 1.0 / (e + 1); }}};
  sched.attach(opt);
  sched.step();
  CHECK(volt_test::lrs_of(opt)[0] == Approx(0.5));

  double (*halve)(std::int64_t) = [](std::int64_t e) { return std::pow(0.5, static_cast<double>(e)); };
  volt::optim::LambdaLR by_pointer{halve};
  STATIC_REQUIRE(std::is_same_v<decltype(by_pointer), volt::optim::LambdaLR<double (*)(std::int64_t)>>);
}

TEST_CASE("LambdaLR resumes identically after save / load", "[optim]") {
  volt_test::check_resume(
      {0.1}, [] { return volt::optim::LambdaLR{[](std::int64_t e) { return 1.0 / (1.0 + 0.5 * e); }}; },
      [](auto& s, int) { s.step(); }, 4, 8);
}
