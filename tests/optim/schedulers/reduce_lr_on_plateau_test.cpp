#include <volt/optim/schedulers/reduce_lr_on_plateau.hpp>
#include <volt/callbacks/early_stopping.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <vector>

#include "../lr_test_util.hpp"

using volt_test::make_sgd;

// torch.optim.lr_scheduler.ReduceLROnPlateau, worked by hand: mode min, threshold 0.1 rel (better
// means < 0.9 * best), patience 2, factor 0.5, cooldown 1, min_lr 0.1.
//   metric:  10  9.5 9.5 9.5 | 8   8   8   8    | 8    8    8    8     | 8     8     8     8   | 8 ...
//   lr:      1   1   1   .5  | .5  .5  .5  .25  | .25  .25  .25  .125  | .125  .125  .125  .1  | .1 (floor)
TEST_CASE("ReduceLROnPlateau takes the same volt::Mode as ModelCheckpoint and EarlyStopping", "[optim]") {
  STATIC_REQUIRE(std::is_same_v<volt::optim::Mode, volt::Mode>);
  STATIC_REQUIRE(std::is_same_v<decltype(volt::optim::ReduceLROnPlateau::Options::mode), volt::Mode>);
  STATIC_REQUIRE(std::is_same_v<decltype(volt::EarlyStopping::Options::mode), volt::Mode>);
}

TEST_CASE("ReduceLROnPlateau cuts the lr after patience, waits cooldown, stops at min_lr", "[optim]") {
  auto opt = make_sgd({1.0});
  volt::optim::ReduceLROnPlateau sched{{.mode = volt::Mode::min,
                                        .factor = 0.5,
                                        .patience = 2,
                                        .threshold = 0.1,
                                        .threshold_mode = volt::optim::ThresholdMode::rel,
                                        .cooldown = 1,
                                        .min_lr = 0.1}};
  sched.attach(opt);
  const std::vector<double> metrics{10, 9.5, 9.5, 9.5, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
  const std::vector<double> lrs{1,     1,     1,     0.5,   0.5,   0.5, 0.5, 0.25, 0.25, 0.25, 0.25,
                                0.125, 0.125, 0.125, 0.125, 0.1,   0.1, 0.1, 0.1,  0.1,  0.1};
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    sched.step(metrics[i]);
    INFO("step " << i + 1);
    CHECK(volt_test::lrs_of(opt)[0] == Approx(lrs[i]));
    CHECK(sched.last_lr()[0] == volt_test::lrs_of(opt)[0]);
  }
  CHECK(sched.best() == 8);
  CHECK(sched.last_epoch() == static_cast<std::int64_t>(metrics.size()));
}

// mode max, threshold 0.5 abs (better means > best + 0.5), patience 0, factor 0.1.
TEST_CASE("ReduceLROnPlateau in max mode with an absolute threshold", "[optim]") {
  auto opt = make_sgd({1.0, 2.0});
  volt::optim::ReduceLROnPlateau sched{{.mode = volt::Mode::max,
                                        .factor = 0.1,
                                        .patience = 0,
                                        .threshold = 0.5,
                                        .threshold_mode = volt::optim::ThresholdMode::abs}};
  sched.attach(opt);
  sched.step(1.0);  // best 1
  CHECK(volt_test::lrs_of(opt) == std::vector<double>{1.0, 2.0});
  sched.step(1.4);  // not > 1.5: cut
  CHECK(volt_test::lrs_of(opt)[0] == Approx(0.1));
  CHECK(volt_test::lrs_of(opt)[1] == Approx(0.2));
  sched.step(2.0);  // > 1.5: best 2
  CHECK(volt_test::lrs_of(opt)[0] == Approx(0.1));
  sched.step(2.4);  // not > 2.5: cut
  CHECK(volt_test::lrs_of(opt)[0] == Approx(0.01));
}

TEST_CASE("ReduceLROnPlateau skips cuts smaller than eps and honours per-group min_lrs", "[optim]") {
  auto tiny = make_sgd({1e-9});
  volt::optim::ReduceLROnPlateau sched{{.factor = 0.5, .patience = 0}};
  sched.attach(tiny);
  sched.step(1.0);
  sched.step(1.0);
  CHECK(volt_test::lrs_of(tiny)[0] == 1e-9);  // 5e-10 < eps = 1e-8

  auto two = make_sgd({1.0, 1.0});
  volt::optim::ReduceLROnPlateau floors{{.factor = 0.1, .patience = 0, .min_lrs = {0.5, 0.0}}};
  floors.attach(two);
  floors.step(1.0);
  floors.step(1.0);
  CHECK(volt_test::lrs_of(two)[0] == Approx(0.5));
  CHECK(volt_test::lrs_of(two)[1] == Approx(0.1));

  volt::optim::ReduceLROnPlateau wrong_count{{.min_lrs = {0.1, 0.1, 0.1}}};
  CHECK_THROWS_AS(wrong_count.attach(two), std::invalid_argument);
  CHECK_THROWS_AS(volt::optim::ReduceLROnPlateau({.factor = 1.0}), std::invalid_argument);
}

TEST_CASE("ReduceLROnPlateau resumes identically after save / load", "[optim]") {
  const std::vector<double> metrics{5, 4, 4.5, 4.5, 4.2, 3, 3, 3.1, 3.2, 2, 2, 2, 2, 2, 2};
  volt_test::check_resume(
      {0.1, 0.2}, [] { return volt::optim::ReduceLROnPlateau{{.patience = 1, .cooldown = 2}}; },
      [&](auto& s, int i) { s.step(metrics[static_cast<std::size_t>(i)]); }, 7, 8);
}
