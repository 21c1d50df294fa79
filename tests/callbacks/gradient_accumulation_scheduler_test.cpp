// GradientAccumulationScheduler: the epoch -> factor schedule, its validation, and the factor
// handed to the Trainer at each epoch start.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <stdexcept>

#include <volt/callbacks/gradient_accumulation_scheduler.hpp>

#include "callback_test_support.hpp"
#include "trainer_test_support.hpp"

using volt::GradientAccumulationScheduler;
using volt_test::Harness;

TEST_CASE("GradientAccumulationScheduler: the factor of the last epoch key <= the epoch",
          "[callbacks][gradient_accumulation_scheduler]") {
  GradientAccumulationScheduler s{{.scheduling = {{0, 8}, {4, 4}, {8, 1}}}};
  CHECK(s.get_accumulate_grad_batches(0) == 8);
  CHECK(s.get_accumulate_grad_batches(3) == 8);
  CHECK(s.get_accumulate_grad_batches(4) == 4);
  CHECK(s.get_accumulate_grad_batches(7) == 4);
  CHECK(s.get_accumulate_grad_batches(8) == 1);
  CHECK(s.get_accumulate_grad_batches(100) == 1);
  CHECK(s.going_to_accumulate_grad_batches());

  GradientAccumulationScheduler late{{.scheduling = {{4, 2}}}};  // Lightning adds {0: 1}
  CHECK(late.get_accumulate_grad_batches(0) == 1);
  CHECK(late.get_accumulate_grad_batches(3) == 1);
  CHECK(late.get_accumulate_grad_batches(4) == 2);
  CHECK(late.scheduling().at(0) == 1);

  CHECK_FALSE(GradientAccumulationScheduler{{.scheduling = {{0, 1}}}}.going_to_accumulate_grad_batches());
}

TEST_CASE("GradientAccumulationScheduler sets ctx.accumulate_grad_batches at each epoch start",
          "[callbacks][gradient_accumulation_scheduler]") {
  Harness h;
  GradientAccumulationScheduler s{{.scheduling = {{0, 8}, {4, 4}, {8, 1}}}};
  h.emit(volt::hooks::on_train_start, s);
  const std::int64_t expected[] = {8, 8, 8, 8, 4, 4, 4, 4, 1, 1};
  for (std::int64_t epoch = 0; epoch < 10; ++epoch) {
    h.state.current_epoch = epoch;
    h.emit(volt::hooks::on_train_epoch_start, s);
    CHECK(h.ctx.accumulate_grad_batches() == expected[epoch]);
  }
}

TEST_CASE("GradientAccumulationScheduler validation", "[callbacks][gradient_accumulation_scheduler]") {
  CHECK_THROWS_WITH(GradientAccumulationScheduler({}), Catch::Contains("non-empty"));
  CHECK_THROWS_WITH((GradientAccumulationScheduler{{.scheduling = {{-1, 2}}}}), Catch::Contains(">= 0"));
  CHECK_THROWS_WITH((GradientAccumulationScheduler{{.scheduling = {{0, 2}, {3, 0}}}}),
                    Catch::Contains("factors must be >= 1") && Catch::Contains("[2, 0]"));

  SECTION("the Trainer's own accumulate_grad_batches must stay 1") {
    Harness h;
    h.state.accumulate_grad_batches = 4;
    GradientAccumulationScheduler s{{.scheduling = {{0, 2}}}};
    CHECK_THROWS_WITH(h.emit(volt::hooks::on_train_start, s),
                      Catch::Contains("accumulate_grad_batches=4") && Catch::Contains("GradientAccumulationScheduler"));
  }
}


TEST_CASE("GradientAccumulationScheduler changes the optimizer steps of a real fit",
          "[callbacks][gradient_accumulation_scheduler][trainer]") {
  volt_test::ScriptedRegressor model;
  volt_test::SmallData data;  // 4 batches per epoch
  volt_test::TrainerWith<GradientAccumulationScheduler> trainer(
      {.max_epochs = 3}, GradientAccumulationScheduler{{.scheduling = {{0, 4}, {1, 2}, {2, 1}}}});
  trainer.fit(model, data);
  CHECK(trainer.global_step() == 1 + 2 + 4);
}
