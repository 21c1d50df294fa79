// Timer: per-stage times, the time limit checked per step or per epoch, and elapsed training
// time carried through its checkpoint state.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>

#include <volt/callbacks/timer.hpp>

#include "callback_test_support.hpp"
#include "trainer_test_support.hpp"
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode

namespace {

using namespace std::chrono_literals;
using volt::Stage;
using volt::Timer;
using volt_test::Harness;

struct Batch {};

void batch_end(Harness& h, Timer& t) {
  h.emit(volt::hooks::on_train_batch_end, t, torch::zeros({}), Batch{}, std::int64_t{0});
}

}  // namespace

TEST_CASE("Timer measures training, validation and test separately", "[callbacks][timer]") {
  Harness h;
  Timer timer;
  CHECK(timer.time_elapsed() == Timer::seconds(0));
  CHECK_FALSE(timer.start_time().has_value());
  CHECK_FALSE(timer.time_remaining().has_value());

  h.emit(volt::hooks::on_train_start, timer);
  std::this_thread::sleep_for(20ms);
  h.emit(volt::hooks::on_validation_start, timer);
  std::this_thread::sleep_for(10ms);
  h.emit(volt::hooks::on_validation_end, timer);
  CHECK(timer.time_elapsed(Stage::validate) >= 10ms);
  CHECK(timer.time_elapsed() >= 30ms);  // training is still running: elapsed keeps growing
  const auto running = timer.time_elapsed();
  std::this_thread::sleep_for(5ms);
  CHECK(timer.time_elapsed() > running);
  h.emit(volt::hooks::on_train_end, timer);
  const auto done = timer.time_elapsed();
  std::this_thread::sleep_for(5ms);
  CHECK(timer.time_elapsed() == done);  // ended: fixed
  REQUIRE(timer.start_time().has_value());
  REQUIRE(timer.end_time().has_value());
  CHECK(*timer.end_time() - *timer.start_time() == done);

  CHECK(timer.time_elapsed(Stage::test) == Timer::seconds(0));
  h.emit(volt::hooks::on_test_start, timer);
  h.emit(volt::hooks::on_test_end, timer);
  CHECK(timer.end_time(Stage::test).has_value());
  h.emit(volt::hooks::on_predict_start, timer);
  CHECK(timer.start_time(Stage::predict).has_value());
}

TEST_CASE("Timer duration stops training: per step, or per epoch", "[callbacks][timer]") {
  Harness h;
  SECTION("interval step (the default): checked at each batch end") {
    Timer timer{{.duration = 15ms}};
    h.emit(volt::hooks::on_fit_start, timer);
    CHECK_FALSE(h.state.should_stop);
    h.emit(volt::hooks::on_train_start, timer);
    batch_end(h, timer);
    CHECK_FALSE(h.state.should_stop);
    REQUIRE(timer.time_remaining().has_value());
    CHECK(*timer.time_remaining() > Timer::seconds(0));
    std::this_thread::sleep_for(25ms);
    batch_end(h, timer);
    CHECK(h.state.should_stop);
    CHECK(*timer.time_remaining() <= Timer::seconds(0));
  }
  SECTION("interval epoch: not at batch ends, at the epoch end") {
    Timer timer{{.duration = 15ms, .interval = Timer::Interval::epoch, .verbose = false}};
    h.emit(volt::hooks::on_train_start, timer);
    std::this_thread::sleep_for(25ms);
    batch_end(h, timer);
    CHECK_FALSE(h.state.should_stop);
    h.emit(volt::hooks::on_train_epoch_end, timer);
    CHECK(h.state.should_stop);
  }
  SECTION("no duration: never stops") {
    Timer timer;
    h.emit(volt::hooks::on_fit_start, timer);
    h.emit(volt::hooks::on_train_start, timer);
    batch_end(h, timer);
    h.emit(volt::hooks::on_train_epoch_end, timer);
    CHECK_FALSE(h.state.should_stop);
  }
  SECTION("a long duration does not stop") {
    Timer timer{{.duration = std::chrono::hours(12)}};
    h.emit(volt::hooks::on_train_start, timer);
    batch_end(h, timer);
    CHECK_FALSE(h.state.should_stop);
  }
}

TEST_CASE("Timer state: elapsed training time continues after a resume", "[callbacks][timer]") {
  Harness h;
  Timer first;
  h.emit(volt::hooks::on_train_start, first);
  std::this_thread::sleep_for(10ms);
  h.emit(volt::hooks::on_train_end, first);
  const auto state = nlohmann::json::parse(first.state_dict().dump());
  CHECK(state["time_elapsed"]["train"].get<double>() >= 0.01);
  CHECK(state["time_elapsed"]["validate"] == 0.0);
  CHECK(state["time_elapsed"].contains("test"));

  Timer resumed;
  resumed.load_state_dict(state);
  CHECK(resumed.time_elapsed() == Timer::seconds(state["time_elapsed"]["train"].get<double>()));
  CHECK(resumed.time_elapsed(Stage::validate) == Timer::seconds(0));  // only training time carries over
  h.emit(volt::hooks::on_train_start, resumed);
  std::this_thread::sleep_for(5ms);
  CHECK(resumed.time_elapsed() >= first.time_elapsed() + 5ms);

  SECTION("a resumed timer that is already spent stops at on_fit_start") {
    Timer spent{{.duration = std::chrono::hours(1), .verbose = false}};
    spent.load_state_dict({{"time_elapsed", {{"train", 3601.0}}}});
    h.emit(volt::hooks::on_fit_start, spent);
    CHECK(h.state.should_stop);
  }
}

TEST_CASE("Timer::parse_duration reads Lightning's DD:HH:MM:SS", "[callbacks][timer]") {
  CHECK(Timer::parse_duration("00:12:00:00") == std::chrono::hours(12));
  CHECK(Timer::parse_duration("01:02:03:04") == Timer::seconds(93784));
  CHECK(Timer::parse_duration(" 2:00:00:01 ") == Timer::seconds(2 * 86400 + 1));
  CHECK_THROWS_WITH(Timer::parse_duration("12:00"), Catch::Contains("DD:HH:MM:SS"));
  CHECK_THROWS_AS(Timer::parse_duration("00:1:00:00"), std::invalid_argument);
  // Days may have any number of digits; blanks around the text (not inside) are ignored.
  CHECK(Timer::parse_duration("123:00:00:00") == std::chrono::hours(123 * 24));
  CHECK(Timer::parse_duration("\t00:00:00:05\n") == Timer::seconds(5));
  for (const char* bad : {"", "   ", ":00:00:00", "0a:00:00:00", "00:00:00:000", "00:00:00:0x", "00:00-00:00",
                          "00:00:00:00:00", "00 :00:00:00", "-1:00:00:00"})
    CHECK_THROWS_WITH(Timer::parse_duration(bad), Catch::Contains("DD:HH:MM:SS"));
  Timer timer{{.duration = Timer::parse_duration("00:00:30:00")}};
  CHECK(timer.options().duration == std::chrono::minutes(30));
  CHECK_THROWS_AS(Timer({.duration = Timer::seconds(-1)}), std::invalid_argument);
}


TEST_CASE("Timer stops a real fit when its duration has passed", "[callbacks][timer][trainer]") {
  volt_test::ScriptedRegressor model;
  volt_test::SmallData data;
  SECTION("a spent timer: no epoch runs") {
    Timer spent{{.duration = std::chrono::hours(1), .verbose = false}};
    spent.load_state_dict({{"time_elapsed", {{"train", 7200.0}}}});
    volt_test::TrainerWith<Timer> trainer({.max_epochs = 5}, spent);
    trainer.fit(model, data);
    CHECK(trainer.global_step() == 0);
  }
  SECTION("a tiny duration stops after the first batch (interval step)") {
    volt_test::TrainerWith<Timer> trainer({.max_epochs = 5}, Timer{{.duration = Timer::seconds(1e-9), .verbose = false}});
    trainer.fit(model, data);
    CHECK(trainer.global_step() == 1);
  }
  SECTION("measures the fit") {
    volt_test::TrainerWith<Timer> trainer({.max_epochs = 2}, Timer{});
    trainer.fit(model, data);
    const auto& timer = std::get<0>(trainer.callbacks());
    CHECK(timer.end_time().has_value());
    CHECK(timer.time_elapsed() > Timer::seconds(0));
    CHECK(timer.time_elapsed(Stage::validate) > Timer::seconds(0));
  }
}
