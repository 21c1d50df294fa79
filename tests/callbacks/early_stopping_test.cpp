// EarlyStopping driven through its hooks: patience, min_delta, mode, strict, check_finite, the
// thresholds, where it checks, and its checkpoint state.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <volt/callbacks/early_stopping.hpp>

#include "callback_test_support.hpp"
#include "trainer_test_support.hpp"
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode

namespace {

using volt::EarlyStopping;
using volt_test::Harness;
using Reason = EarlyStopping::StopReason;

// One epoch whose validation logs `monitor` = value; the check runs where the callback checks.
void epoch(Harness& h, EarlyStopping& cb, const std::string& monitor, double value) {
  h.state.family = volt::HookFamily::train_epoch;
  h.log_validation(monitor, value);
  h.emit(volt::hooks::on_validation_end, cb);
  h.emit(volt::hooks::on_train_epoch_end, cb);
  ++h.state.current_epoch;
}

// Feeds values until the callback asks to stop; returns the epoch at which it did (or -1).
std::int64_t run(Harness& h, EarlyStopping& cb, const std::vector<double>& values, const std::string& monitor = "val_loss") {
  h.emit(volt::hooks::setup, cb, volt::Stage::fit);
  for (double v : values) {
    const auto e = h.state.current_epoch;
    epoch(h, cb, monitor, v);
    if (h.state.should_stop) return e;
  }
  return -1;
}

}  // namespace

TEST_CASE("EarlyStopping stops after `patience` checks without improvement", "[callbacks][early_stopping]") {
  Harness h;
  EarlyStopping cb{{.monitor = "val_loss", .patience = 3}};
  CHECK(run(h, cb, {1.0, 0.9, 0.95, 0.96}) == -1);
  CHECK(cb.wait_count() == 2);
  CHECK(cb.best_score() == Approx(0.9));
  CHECK(cb.stopping_reason() == Reason::not_stopped);
  epoch(h, cb, "val_loss", 0.97);
  CHECK(h.state.should_stop);
  CHECK(cb.wait_count() == 3);
  CHECK(cb.stopped_epoch() == 4);
  CHECK(cb.stopping_reason() == Reason::patience_exhausted);
  CHECK(cb.stopping_reason_message() ==
        "Monitored metric val_loss did not improve in the last 3 records. Best score: 0.900. Signaling Trainer to stop.");
  CHECK(cb.reason() == cb.stopping_reason_message());
}

TEST_CASE("EarlyStopping: an improvement resets the wait; the default patience is 3", "[callbacks][early_stopping]") {
  Harness h;
  EarlyStopping cb{{.monitor = "val_loss"}};
  CHECK(cb.options().patience == 3);
  CHECK(run(h, cb, {1.0, 1.1, 1.2, 0.5, 0.6, 0.7}) == -1);
  CHECK(cb.wait_count() == 2);
  CHECK(cb.reason().empty());
  epoch(h, cb, "val_loss", 0.4);
  CHECK(cb.wait_count() == 0);
  CHECK(cb.reason() == "Metric val_loss improved by 0.100 >= min_delta = 0. New best score: 0.400");
}

TEST_CASE("EarlyStopping min_delta: an improvement must be larger than min_delta", "[callbacks][early_stopping]") {
  Harness h;
  EarlyStopping cb{{.monitor = "val_loss", .min_delta = 0.1, .patience = 2}};
  CHECK(run(h, cb, {1.0, 0.95, 0.9}) == 2);  // 0.05 and 0.1 are not > 0.1
  CHECK(cb.best_score() == Approx(1.0));
  Harness h2;
  EarlyStopping cb2{{.monitor = "val_loss", .min_delta = 0.1, .patience = 2}};
  CHECK(run(h2, cb2, {1.0, 0.85, 0.8, 0.76}) == 3);
  CHECK(cb2.best_score() == Approx(0.85));
}

TEST_CASE("EarlyStopping mode max", "[callbacks][early_stopping]") {
  Harness h;
  EarlyStopping cb{{.monitor = "val_acc", .min_delta = 0.01, .patience = 1, .mode = volt::Mode::max}};
  CHECK(run(h, cb, {0.5, 0.6, 0.605}, "val_acc") == 2);
  CHECK(cb.best_score() == Approx(0.6));
}

TEST_CASE("EarlyStopping strict: a missing metric is an error naming it and the available ones",
          "[callbacks][early_stopping]") {
  Harness h;
  EarlyStopping cb{{.monitor = "val_acc"}};
  h.emit(volt::hooks::setup, cb, volt::Stage::fit);
  h.log_validation("val_loss", 0.3);
  h.log_validation("val_f1", 0.7);
  CHECK_THROWS_AS(h.emit(volt::hooks::on_train_epoch_end, cb), std::runtime_error);
  CHECK_THROWS_WITH(h.emit(volt::hooks::on_train_epoch_end, cb),
                    Catch::Contains("`val_acc` which is not available") && Catch::Contains("`val_f1`, `val_loss`"));

  EarlyStopping lenient{{.monitor = "val_acc", .strict = false}};
  h.emit(volt::hooks::setup, lenient, volt::Stage::fit);
  CHECK_NOTHROW(h.emit(volt::hooks::on_train_epoch_end, lenient));
  CHECK(lenient.wait_count() == 0);
  CHECK_FALSE(h.state.should_stop);

  Harness empty;
  EarlyStopping nothing_logged{{.monitor = "val_acc"}};
  CHECK_THROWS_WITH(empty.emit(volt::hooks::on_train_epoch_end, nothing_logged), Catch::Contains("no metric"));
}

TEST_CASE("EarlyStopping check_finite stops on NaN and infinity", "[callbacks][early_stopping]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Harness h;
  EarlyStopping cb{{.monitor = "val_loss", .patience = 10}};
  CHECK(run(h, cb, {1.0, nan}) == 1);
  CHECK(cb.stopping_reason() == Reason::non_finite_metric);
  CHECK(cb.stopping_reason_message() ==
        "Monitored metric val_loss = nan is not finite. Previous best value was 1.000. Signaling Trainer to stop.");

  Harness h2;
  EarlyStopping inf{{.monitor = "val_loss", .patience = 10}};
  CHECK(run(h2, inf, {std::numeric_limits<double>::infinity()}) == 0);

  Harness h3;
  EarlyStopping unchecked{{.monitor = "val_loss", .patience = 2, .check_finite = false}};
  CHECK(run(h3, unchecked, {1.0, nan}) == -1);  // a NaN is just not an improvement
  CHECK(unchecked.wait_count() == 1);
}

TEST_CASE("EarlyStopping stopping_threshold and divergence_threshold", "[callbacks][early_stopping]") {
  SECTION("stopping_threshold: stop once strictly better") {
    Harness h;
    EarlyStopping cb{{.monitor = "val_loss", .stopping_threshold = 0.5}};
    CHECK(run(h, cb, {0.9, 0.5, 0.49}) == 2);
    CHECK(cb.stopping_reason() == Reason::stopping_threshold);
    CHECK(cb.stopping_reason_message() == "Stopping threshold reached: val_loss = 0.49 < 0.5. Signaling Trainer to stop.");
  }
  SECTION("divergence_threshold: stop once strictly worse") {
    Harness h;
    EarlyStopping cb{{.monitor = "val_loss", .divergence_threshold = 10.0}};
    CHECK(run(h, cb, {1.0, 10.0, 11.0}) == 2);
    CHECK(cb.stopping_reason() == Reason::divergence_threshold);
  }
  SECTION("mode max thresholds") {
    Harness h;
    EarlyStopping cb{{.monitor = "acc", .mode = volt::Mode::max, .stopping_threshold = 0.95, .divergence_threshold = 0.1}};
    CHECK(run(h, cb, {0.5, 0.96}, "acc") == 1);
    Harness h2;
    EarlyStopping cb2{{.monitor = "acc", .mode = volt::Mode::max, .divergence_threshold = 0.1}};
    CHECK(run(h2, cb2, {0.5, 0.05}, "acc") == 1);
  }
}

TEST_CASE("EarlyStopping checks at the training epoch end or after validation", "[callbacks][early_stopping]") {
  Harness h;
  SECTION("default (validation once per epoch): at on_train_epoch_end") {
    EarlyStopping cb{{.monitor = "val_loss", .patience = 0}};
    h.emit(volt::hooks::setup, cb, volt::Stage::fit);
    CHECK(cb.check_on_train_epoch_end());
    h.log_validation("val_loss", 1.0);
    h.emit(volt::hooks::on_validation_end, cb);
    CHECK(cb.best_score() == std::numeric_limits<double>::infinity());
    h.emit(volt::hooks::on_train_epoch_end, cb);
    CHECK(cb.best_score() == 1.0);
  }
  SECTION("check_on_train_epoch_end = false: at on_validation_end") {
    EarlyStopping cb{{.monitor = "val_loss", .patience = 0, .check_on_train_epoch_end = false}};
    h.emit(volt::hooks::setup, cb, volt::Stage::fit);
    h.log_validation("val_loss", 1.0);
    h.emit(volt::hooks::on_validation_end, cb);
    CHECK(cb.best_score() == 1.0);
    h.log_validation("val_loss", 0.5);
    h.emit(volt::hooks::on_train_epoch_end, cb);
    CHECK(cb.best_score() == 1.0);
  }
  SECTION("Lightning's rule, given the Trainer's flags") {
    using volt::callback_detail::check_on_train_epoch_end;
    using volt::callback_detail::TrainerFlags;
    CHECK(check_on_train_epoch_end(std::nullopt, TrainerFlags{}));
    CHECK_FALSE(check_on_train_epoch_end(std::nullopt, TrainerFlags{.check_val_every_n_epoch = 2}));
    CHECK_FALSE(check_on_train_epoch_end(std::nullopt, TrainerFlags{.val_check_interval_is_one_epoch = false}));
    CHECK(check_on_train_epoch_end(true, TrainerFlags{.check_val_every_n_epoch = 2}));
  }
  SECTION("no check during the sanity check or outside fit") {
    EarlyStopping cb{{.monitor = "val_loss", .check_on_train_epoch_end = false}};
    h.log_validation("val_loss", 1.0);
    h.state.sanity_checking = true;
    h.emit(volt::hooks::on_validation_end, cb);
    h.state.sanity_checking = false;
    h.state.stage = volt::Stage::validate;
    h.emit(volt::hooks::on_validation_end, cb);
    CHECK(cb.best_score() == std::numeric_limits<double>::infinity());
  }
}

TEST_CASE("EarlyStopping state_dict / load_state_dict", "[callbacks][early_stopping]") {
  Harness h;
  EarlyStopping cb{{.monitor = "val_loss", .patience = 3}};
  run(h, cb, {1.0, 0.8, 0.9});
  const auto state = nlohmann::json::parse(cb.state_dict().dump());
  CHECK(state["wait_count"] == 1);
  CHECK(state["stopped_epoch"] == 0);
  CHECK(state["best_score"] == 0.8);
  CHECK(state["patience"] == 3);
  CHECK(EarlyStopping{{.monitor = "val_loss"}}.state_dict()["best_score"] == "inf");
  CHECK(EarlyStopping{{.monitor = "x", .mode = volt::Mode::max}}.state_dict()["best_score"] == "-inf");

  Harness h2;
  EarlyStopping resumed{{.monitor = "val_loss", .patience = 10}};
  resumed.load_state_dict(state);
  CHECK(resumed.wait_count() == 1);
  CHECK(resumed.best_score() == Approx(0.8));
  CHECK(resumed.options().patience == 3);  // Lightning restores patience too
  h2.state.current_epoch = 3;
  CHECK(run(h2, resumed, {0.9, 0.9}) == 4);  // waits 2 and 3
  CHECK(resumed.stopped_epoch() == 4);
  CHECK(resumed.state_key() == "EarlyStopping{'monitor': 'val_loss', 'mode': 'min'}");
}

TEST_CASE("EarlyStopping rejects a missing monitor and a negative patience", "[callbacks][early_stopping]") {
  CHECK_THROWS_WITH(EarlyStopping({}), Catch::Contains(".monitor"));
  CHECK_THROWS_WITH((EarlyStopping{{.monitor = "m", .patience = -1}}), Catch::Contains("patience=-1"));
}


TEST_CASE("EarlyStopping stops a real fit once val_loss stops improving", "[callbacks][early_stopping][trainer]") {
  volt_test::ScriptedRegressor model;
  model.val_losses = {1.0, 0.8, 0.9, 0.9, 0.9};
  volt_test::SmallData data;
  volt_test::TrainerWith<EarlyStopping> trainer({.max_epochs = 20}, EarlyStopping{{.monitor = "val_loss", .patience = 2}});
  trainer.fit(model, data);
  const auto& es = std::get<0>(trainer.callbacks());
  CHECK(es.stopped_epoch() == 3);  // epochs 2 and 3 did not improve on 0.8
  CHECK(trainer.current_epoch() == 4);
  CHECK(es.best_score() == Approx(0.8));
  CHECK(es.stopping_reason() == EarlyStopping::StopReason::patience_exhausted);
}
