// ModelCheckpoint driven through its hooks as the fit loop calls them, on a real temporary
// directory: which files exist after each save, their names, best/last paths, the triggers,
// when it saves, and its checkpoint state.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <volt/callbacks/model_checkpoint.hpp>

#include "callback_test_support.hpp"
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode

namespace {

using volt::ModelCheckpoint;
using volt_test::files_in;
using volt_test::Harness;
using volt_test::TempDir;
namespace fs = std::filesystem;

struct Batch {
  int value = 0;
};

void start_fit(Harness& h, ModelCheckpoint& cb) {
  h.state.stage = volt::Stage::fit;
  h.emit(volt::hooks::setup, cb, volt::Stage::fit);
  h.emit(volt::hooks::on_train_start, cb);
}

// One training epoch as the fit loop runs it: `steps` batches (one optimizer step each), then,
// when `val` is given, a validation run at the end of the epoch logging it, then
// on_train_epoch_end.
void run_epoch(Harness& h, ModelCheckpoint& cb, std::int64_t steps,
               std::optional<std::pair<std::string, double>> val = std::nullopt) {
  h.state.family = volt::HookFamily::train_epoch;
  h.emit(volt::hooks::on_train_epoch_start, cb);
  const torch::Tensor loss = torch::zeros({});
  for (std::int64_t i = 0; i < steps; ++i) {
    h.state.family = volt::HookFamily::train_step;
    ++h.state.global_step;
    h.emit(volt::hooks::on_train_batch_end, cb, loss, Batch{}, i);
  }
  if (val) {
    h.state.family = volt::HookFamily::validation;
    h.emit(volt::hooks::on_validation_start, cb);
    h.log_validation(val->first, val->second);
    h.emit(volt::hooks::on_validation_end, cb);
  }
  h.state.family = volt::HookFamily::train_epoch;
  h.emit(volt::hooks::on_train_epoch_end, cb);
  ++h.state.current_epoch;
}

std::string in(const fs::path& dir, const std::string& name) { return (dir / name).string(); }

}  // namespace

TEST_CASE("ModelCheckpoint without monitor keeps only the latest checkpoint in <default_root_dir>/checkpoints",
          "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  h.state.default_root_dir = tmp.path();
  ModelCheckpoint cb;
  start_fit(h, cb);
  const fs::path dir = fs::weakly_canonical(tmp.path() / "checkpoints");
  CHECK(cb.dirpath() == dir);

  run_epoch(h, cb, 10);
  CHECK(files_in(dir) == std::set<std::string>{"epoch=0-step=10.ckpt"});
  run_epoch(h, cb, 10);
  run_epoch(h, cb, 10);
  CHECK(files_in(dir) == std::set<std::string>{"epoch=2-step=30.ckpt"});
  REQUIRE(h.saved.size() == 3);
  CHECK(h.saved[0].path == dir / "epoch=0-step=10.ckpt");
  CHECK_FALSE(h.saved[0].weights_only);
  CHECK(cb.best_model_path() == in(dir, "epoch=2-step=30.ckpt"));
  CHECK_FALSE(cb.best_model_score().has_value());
  CHECK(cb.last_model_path().empty());
  CHECK(cb.every_n_epochs() == 1);
  CHECK(cb.every_n_train_steps() == 0);
}

TEST_CASE("ModelCheckpoint save_top_k keeps the k best by the monitored metric and deletes the rest",
          "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  const std::vector<double> losses{0.5, 0.3, 0.4, 0.1, 0.35};

  SECTION("mode min, k = 2") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .filename = "{epoch}-{val_loss:.2f}", .monitor = "val_loss",
                        .save_top_k = 2}};
    start_fit(h, cb);
    run_epoch(h, cb, 5, {{"val_loss", losses[0]}});
    run_epoch(h, cb, 5, {{"val_loss", losses[1]}});
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=0-val_loss=0.50.ckpt", "epoch=1-val_loss=0.30.ckpt"});
    CHECK(cb.kth_best_model_path() == in(cb.dirpath(), "epoch=0-val_loss=0.50.ckpt"));
    run_epoch(h, cb, 5, {{"val_loss", losses[2]}});  // 0.4 beats the 2nd best (0.5), which is deleted
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=1-val_loss=0.30.ckpt", "epoch=2-val_loss=0.40.ckpt"});
    run_epoch(h, cb, 5, {{"val_loss", losses[3]}});
    run_epoch(h, cb, 5, {{"val_loss", losses[4]}});  // 0.35 is not better than 0.3: not saved
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=1-val_loss=0.30.ckpt", "epoch=3-val_loss=0.10.ckpt"});
    CHECK(h.saved.size() == 4);
    CHECK(cb.best_model_path() == in(cb.dirpath(), "epoch=3-val_loss=0.10.ckpt"));
    CHECK(cb.best_model_score() == Approx(0.1));
    CHECK(cb.kth_best_model_path() == in(cb.dirpath(), "epoch=1-val_loss=0.30.ckpt"));
    CHECK(cb.kth_value() == Approx(0.3));
    CHECK(cb.current_score() == Approx(0.1));
    REQUIRE(cb.best_k_models().size() == 2);
    CHECK(cb.best_k_models()[0].first == in(cb.dirpath(), "epoch=1-val_loss=0.30.ckpt"));
    CHECK(cb.best_k_models()[1].second == Approx(0.1));
  }
  SECTION("mode max keeps the largest") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .filename = "{epoch}", .monitor = "val_loss", .save_top_k = 2,
                        .mode = volt::Mode::max}};
    start_fit(h, cb);
    for (double v : losses) run_epoch(h, cb, 5, {{"val_loss", v}});
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=0.ckpt", "epoch=2.ckpt"});
    CHECK(cb.best_model_path() == in(cb.dirpath(), "epoch=0.ckpt"));
    CHECK(cb.best_model_score() == Approx(0.5));
  }
  SECTION("k = 1 (the default) keeps the single best") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .filename = "{epoch}", .monitor = "val_loss"}};
    start_fit(h, cb);
    for (double v : losses) run_epoch(h, cb, 5, {{"val_loss", v}});
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=3.ckpt"});
  }
  SECTION("k = -1 keeps everything") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .filename = "{epoch}", .monitor = "val_loss", .save_top_k = -1}};
    start_fit(h, cb);
    for (double v : losses) run_epoch(h, cb, 5, {{"val_loss", v}});
    CHECK(files_in(cb.dirpath()).size() == 5);
    CHECK(cb.best_k_models().size() == 5);
    CHECK(cb.best_model_path() == in(cb.dirpath(), "epoch=3.ckpt"));
  }
  SECTION("k = 0 saves nothing") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .monitor = "val_loss", .save_top_k = 0}};
    start_fit(h, cb);
    for (double v : losses) run_epoch(h, cb, 5, {{"val_loss", v}});
    CHECK(h.saved.empty());
    CHECK(files_in(cb.dirpath()).empty());
  }
  SECTION("no monitor, k = -1 keeps every epoch") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .save_top_k = -1}};
    start_fit(h, cb);
    for (int e = 0; e < 3; ++e) run_epoch(h, cb, 5);
    CHECK(files_in(cb.dirpath()) ==
          std::set<std::string>{"epoch=0-step=5.ckpt", "epoch=1-step=10.ckpt", "epoch=2-step=15.ckpt"});
  }
}

TEST_CASE("ModelCheckpoint save_last writes last.ckpt whenever it saves", "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  SECTION("next to the top-k files") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .filename = "{epoch}", .monitor = "val_loss", .save_last = true}};
    start_fit(h, cb);
    run_epoch(h, cb, 5, {{"val_loss", 0.5}});
    run_epoch(h, cb, 5, {{"val_loss", 0.7}});  // not a top-1: only last.ckpt is written
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=0.ckpt", "last.ckpt"});
    CHECK(cb.last_model_path() == in(cb.dirpath(), "last.ckpt"));
    REQUIRE(h.saved.size() == 3);
    CHECK(h.saved[1].path == fs::path(cb.dirpath()) / "last.ckpt");
    CHECK(h.saved[2].path == fs::path(cb.dirpath()) / "last.ckpt");
    CHECK(h.saved[2].global_step == 10);
  }
  SECTION("alone with save_top_k = 0") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .save_last = true, .save_top_k = 0}};
    start_fit(h, cb);
    run_epoch(h, cb, 5);
    run_epoch(h, cb, 5);
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"last.ckpt"});
    CHECK(h.saved.size() == 2);
  }
  SECTION("an existing last.ckpt from another run is kept: this run writes last-v1.ckpt") {
    std::ofstream(tmp.path() / "last.ckpt") << "old";
    ModelCheckpoint cb{{.dirpath = tmp.path(), .save_last = true, .save_top_k = 0}};
    start_fit(h, cb);
    run_epoch(h, cb, 5);
    run_epoch(h, cb, 5);  // then keeps overwriting its own
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"last.ckpt", "last-v1.ckpt"});
    CHECK(cb.last_model_path() == in(cb.dirpath(), "last-v1.ckpt"));
  }
}

TEST_CASE("ModelCheckpoint filenames: templates, metric names, logged epoch/step, version counter",
          "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  SECTION("auto_insert_metric_name = false") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .filename = "e{epoch:02d}-s{step}", .auto_insert_metric_name = false}};
    start_fit(h, cb);
    run_epoch(h, cb, 3);
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"e00-s3.ckpt"});
  }
  SECTION("a logged `step` metric is used as an integer") {
    ModelCheckpoint cb{{.dirpath = tmp.path()}};
    start_fit(h, cb);
    h.log_validation("step", 7.0);
    run_epoch(h, cb, 3);
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=0-step=7.ckpt"});
  }
  SECTION("an existing file of the same name gets -v1, unless enable_version_counter = false") {
    std::ofstream(tmp.path() / "epoch=0-step=3.ckpt") << "old";
    const bool counter = GENERATE(true, false);
    ModelCheckpoint cb{{.dirpath = tmp.path(), .enable_version_counter = counter}};
    start_fit(h, cb);
    run_epoch(h, cb, 3);
    if (counter) {
      CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=0-step=3.ckpt", "epoch=0-step=3-v1.ckpt"});
      CHECK(cb.best_model_path() == in(cb.dirpath(), "epoch=0-step=3-v1.ckpt"));
    } else {
      CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=0-step=3.ckpt"});
    }
  }
  SECTION("format_checkpoint_name") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .filename = "{epoch}-{val_loss:.2f}"}};
    const volt::FilenameValues values{{"epoch", std::int64_t{2}}, {"val_loss", 0.123456}};
    CHECK(cb.format_checkpoint_name(values) == in(cb.dirpath(), "epoch=2-val_loss=0.12.ckpt"));
    CHECK(cb.format_checkpoint_name(values, "{epoch:d}") == in(cb.dirpath(), "epoch=2.ckpt"));
    CHECK(cb.format_checkpoint_name(values, std::nullopt, 3) == in(cb.dirpath(), "epoch=2-val_loss=0.12-v3.ckpt"));
    ModelCheckpoint no_dir{{.filename = "{step}"}};  // dirpath is resolved in setup
    CHECK(no_dir.format_checkpoint_name({{"step", std::int64_t{0}}}) == "step=0.ckpt");
  }
  SECTION("a relative dirpath is made absolute") {
    const fs::path cwd = fs::current_path();
    fs::current_path(tmp.path());
    ModelCheckpoint cb{{.dirpath = "ckpts"}};
    fs::current_path(cwd);
    CHECK(cb.dirpath().is_absolute());
    CHECK(cb.dirpath() == fs::weakly_canonical(tmp.path()) / "ckpts");
  }
}

TEST_CASE("ModelCheckpoint triggers: every_n_epochs, every_n_train_steps, train_time_interval",
          "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  SECTION("every_n_epochs = 2 saves after epochs 1 and 3") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .filename = "{epoch}", .save_top_k = -1, .every_n_epochs = 2}};
    start_fit(h, cb);
    for (int e = 0; e < 4; ++e) run_epoch(h, cb, 2);
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=1.ckpt", "epoch=3.ckpt"});
  }
  SECTION("every_n_epochs = 0 saves no top-k at epoch end, but save_last still writes") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .save_last = true, .every_n_epochs = 0}};
    start_fit(h, cb);
    run_epoch(h, cb, 2);
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"last.ckpt"});
  }
  SECTION("every_n_train_steps = 5 saves at global steps 5 and 10, not at epoch ends") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .save_top_k = -1, .every_n_train_steps = 5}};
    start_fit(h, cb);
    run_epoch(h, cb, 7);
    run_epoch(h, cb, 5);
    CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=0-step=5.ckpt", "epoch=1-step=10.ckpt"});
    CHECK(cb.every_n_epochs() == 0);
  }
  SECTION("train_time_interval saves on the first batch end after the interval has passed") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .save_top_k = -1, .train_time_interval = std::chrono::milliseconds(20)}};
    start_fit(h, cb);
    const torch::Tensor loss = torch::zeros({});
    ++h.state.global_step;
    h.emit(volt::hooks::on_train_batch_end, cb, loss, Batch{}, std::int64_t{0});
    CHECK(h.saved.empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ++h.state.global_step;
    h.emit(volt::hooks::on_train_batch_end, cb, loss, Batch{}, std::int64_t{1});
    CHECK(h.saved.size() == 1);
    ++h.state.global_step;
    h.emit(volt::hooks::on_train_batch_end, cb, loss, Batch{}, std::int64_t{2});  // the clock restarted
    CHECK(h.saved.size() == 1);
  }
  SECTION("the triggers are mutually exclusive; bad values are rejected") {
    CHECK_THROWS_WITH((ModelCheckpoint{{.every_n_train_steps = 5, .every_n_epochs = 1}}),
                      Catch::Contains("mutually exclusive"));
    CHECK_THROWS_WITH((ModelCheckpoint{{.every_n_train_steps = 5, .train_time_interval = std::chrono::seconds(1)}}),
                      Catch::Contains("mutually exclusive"));
    CHECK_THROWS_WITH((ModelCheckpoint{{.save_top_k = -2}}), Catch::Contains("save_top_k=-2"));
    CHECK_THROWS_WITH((ModelCheckpoint{{.every_n_train_steps = -1}}), Catch::Contains("every_n_train_steps=-1"));
    CHECK_THROWS_WITH((ModelCheckpoint{{.every_n_epochs = -1}}), Catch::Contains("every_n_epochs=-1"));
    CHECK_THROWS_WITH((ModelCheckpoint{{.save_top_k = 3}}), Catch::Contains("no monitor"));
    CHECK_NOTHROW(ModelCheckpoint{{.every_n_train_steps = 0, .every_n_epochs = 1}});
  }
}

TEST_CASE("ModelCheckpoint save_weights_only is passed to ctx.save_checkpoint", "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  const bool weights_only = GENERATE(true, false);
  ModelCheckpoint cb{{.dirpath = tmp.path(), .save_weights_only = weights_only}};
  start_fit(h, cb);
  run_epoch(h, cb, 1);
  REQUIRE(h.saved.size() == 1);
  CHECK(h.saved[0].weights_only == weights_only);
}

TEST_CASE("ModelCheckpoint does not save during the sanity check, outside fit, before the first step, or twice "
          "at one step",
          "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  ModelCheckpoint cb{{.dirpath = tmp.path(), .monitor = "val_loss", .save_on_train_epoch_end = false}};
  start_fit(h, cb);

  h.state.sanity_checking = true;
  h.log_validation("val_loss", 0.5);
  h.emit(volt::hooks::on_validation_end, cb);
  h.state.sanity_checking = false;
  CHECK(h.saved.empty());

  h.emit(volt::hooks::on_validation_end, cb);  // global step 0: nothing trained yet
  CHECK(h.saved.empty());

  h.state.global_step = 4;
  h.state.stage = volt::Stage::validate;  // trainer.validate()
  h.emit(volt::hooks::on_validation_end, cb);
  CHECK(h.saved.empty());

  h.state.stage = volt::Stage::fit;
  h.emit(volt::hooks::on_validation_end, cb);
  CHECK(h.saved.size() == 1);
  h.log_validation("val_loss", 0.1);
  h.emit(volt::hooks::on_validation_end, cb);  // same global step
  CHECK(h.saved.size() == 1);
}

TEST_CASE("ModelCheckpoint saves at the training epoch end or after validation, as Lightning decides",
          "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  SECTION("validation once per epoch (the default flags): at on_train_epoch_end") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .monitor = "val_loss"}};
    start_fit(h, cb);
    h.emit(volt::hooks::on_train_epoch_start, cb);
    h.state.global_step = 5;
    h.log_validation("val_loss", 0.5);
    h.emit(volt::hooks::on_validation_end, cb);
    CHECK(h.saved.empty());
    h.emit(volt::hooks::on_train_epoch_end, cb);
    CHECK(h.saved.size() == 1);
  }
  SECTION("save_on_train_epoch_end = false: after validation") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .monitor = "val_loss", .save_on_train_epoch_end = false}};
    start_fit(h, cb);
    h.emit(volt::hooks::on_train_epoch_start, cb);
    h.state.global_step = 5;
    h.log_validation("val_loss", 0.5);
    h.emit(volt::hooks::on_validation_end, cb);
    CHECK(h.saved.size() == 1);
    h.state.global_step = 6;
    h.emit(volt::hooks::on_train_epoch_end, cb);
    CHECK(h.saved.size() == 1);
  }
  SECTION("save_on_train_epoch_end = true with no validation at all") {
    ModelCheckpoint cb{{.dirpath = tmp.path(), .save_on_train_epoch_end = true}};
    start_fit(h, cb);
    run_epoch(h, cb, 2);
    CHECK(h.saved.size() == 1);
  }
  SECTION("Lightning's rule, given the Trainer's flags") {
    using volt::callback_detail::save_on_train_epoch_end;
    using volt::callback_detail::TrainerFlags;
    const TrainerFlags defaults{};
    CHECK(save_on_train_epoch_end(std::nullopt, defaults, true));   // validation at each epoch end
    CHECK(save_on_train_epoch_end(std::nullopt, defaults, false));  // no validation this epoch
    CHECK_FALSE(save_on_train_epoch_end(std::nullopt, TrainerFlags{.check_val_every_n_epoch = 2}, false));
    CHECK_FALSE(save_on_train_epoch_end(std::nullopt, TrainerFlags{.val_check_interval_is_one_epoch = false}, true));
    CHECK(save_on_train_epoch_end(std::nullopt,
                                  TrainerFlags{.val_check_interval_is_one_epoch = false, .num_val_batches = 0}, true));
    CHECK_FALSE(save_on_train_epoch_end(
        std::nullopt, TrainerFlags{.val_check_interval_is_one_epoch = false, .num_val_batches = 4}, false));
    CHECK_FALSE(save_on_train_epoch_end(false, defaults, false));
    CHECK(save_on_train_epoch_end(true, TrainerFlags{.check_val_every_n_epoch = 3}, true));
  }
}

TEST_CASE("ModelCheckpoint with a monitor that was never logged warns before validation ran, then throws",
          "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  ModelCheckpoint cb{{.dirpath = tmp.path(), .monitor = "val_acc", .save_on_train_epoch_end = true}};
  start_fit(h, cb);
  run_epoch(h, cb, 2);  // no validation yet: a warning, no checkpoint
  CHECK(h.saved.empty());
  h.state.global_step = 9;
  h.log_validation("val_loss", 0.5);
  h.emit(volt::hooks::on_validation_end, cb);
  CHECK_THROWS_WITH(h.emit(volt::hooks::on_train_epoch_end, cb),
                    Catch::Contains("monitor='val_acc'") && Catch::Contains("'val_loss'") &&
                        Catch::Contains("'epoch'") && Catch::Contains("ctx.log(\"val_acc\""));
}

TEST_CASE("ModelCheckpoint ranks a NaN score last", "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  ModelCheckpoint cb{{.dirpath = tmp.path(), .filename = "{epoch}", .monitor = "val_loss"}};
  start_fit(h, cb);
  run_epoch(h, cb, 2, {{"val_loss", std::numeric_limits<double>::quiet_NaN()}});
  CHECK(cb.best_model_score() == std::numeric_limits<double>::infinity());
  run_epoch(h, cb, 2, {{"val_loss", 0.9}});
  CHECK(files_in(cb.dirpath()) == std::set<std::string>{"epoch=1.ckpt"});
  CHECK(cb.best_model_score() == Approx(0.9));
}

TEST_CASE("ModelCheckpoint state_dict carries best paths and scores; load_state_dict restores them",
          "[callbacks][model_checkpoint]") {
  TempDir tmp;
  Harness h;
  ModelCheckpoint cb{{.dirpath = tmp.path(), .filename = "{epoch}", .monitor = "val_loss", .save_last = true,
                      .save_top_k = 2}};
  start_fit(h, cb);
  run_epoch(h, cb, 2, {{"val_loss", 0.5}});
  run_epoch(h, cb, 2, {{"val_loss", 0.25}});
  const nlohmann::json state = cb.state_dict();
  CHECK(state["monitor"] == "val_loss");
  CHECK(state["best_model_path"] == in(cb.dirpath(), "epoch=1.ckpt"));
  CHECK(state["best_model_score"] == 0.25);
  CHECK(state["current_score"] == 0.25);
  CHECK(state["dirpath"] == cb.dirpath().string());
  CHECK(state["best_k_models"].size() == 2);
  CHECK(state["kth_best_model_path"] == in(cb.dirpath(), "epoch=0.ckpt"));
  CHECK(state["kth_value"] == 0.5);
  CHECK(state["last_model_path"] == in(cb.dirpath(), "last.ckpt"));
  // survives a round trip through text, as in a checkpoint file
  const auto reloaded = nlohmann::json::parse(state.dump());

  SECTION("same dirpath: everything comes back, and ranking continues") {
    Harness h2;
    h2.state.global_step = 4;
    h2.state.current_epoch = 2;
    ModelCheckpoint resumed{{.dirpath = tmp.path(), .filename = "{epoch}", .monitor = "val_loss", .save_last = true,
                             .save_top_k = 2}};
    resumed.load_state_dict(reloaded);
    CHECK(resumed.best_model_path() == cb.best_model_path());
    CHECK(resumed.best_model_score() == Approx(0.25));
    CHECK(resumed.best_k_models() == cb.best_k_models());
    CHECK(resumed.kth_best_model_path() == cb.kth_best_model_path());
    CHECK(resumed.kth_value() == Approx(0.5));
    CHECK(resumed.last_model_path() == cb.last_model_path());
    start_fit(h2, resumed);
    run_epoch(h2, resumed, 2, {{"val_loss", 0.3}});  // beats 0.5: epoch=0 is deleted
    CHECK(files_in(resumed.dirpath()) == std::set<std::string>{"epoch=1.ckpt", "epoch=2.ckpt", "last.ckpt"});
  }
  SECTION("another dirpath: only best_model_path") {
    TempDir other;
    ModelCheckpoint moved{{.dirpath = other.path(), .monitor = "val_loss", .save_top_k = 2}};
    moved.load_state_dict(reloaded);
    CHECK(moved.best_model_path() == cb.best_model_path());
    CHECK_FALSE(moved.best_model_score().has_value());
    CHECK(moved.best_k_models().empty());
    CHECK(moved.last_model_path().empty());
  }
  SECTION("loaded before setup with the default dirpath: applied once setup resolves it") {
    Harness h2;
    h2.state.default_root_dir = tmp.path();
    ModelCheckpoint later{{.monitor = "val_loss", .save_top_k = 2}};
    nlohmann::json moved_state = reloaded;
    moved_state["dirpath"] = fs::weakly_canonical(tmp.path() / "checkpoints").string();
    later.load_state_dict(moved_state);
    CHECK(later.best_k_models().empty());
    h2.emit(volt::hooks::setup, later, volt::Stage::fit);
    CHECK(later.best_k_models().size() == 2);
    CHECK(later.best_model_score() == Approx(0.25));
  }
  SECTION("infinite scores are kept as strings") {
    ModelCheckpoint fresh{{.dirpath = tmp.path(), .monitor = "val_loss"}};
    CHECK(fresh.state_dict()["kth_value"] == "inf");
    CHECK(fresh.state_dict()["best_model_score"].is_null());
    ModelCheckpoint fresh_max{{.dirpath = tmp.path(), .monitor = "val_loss", .mode = volt::Mode::max}};
    CHECK(fresh_max.state_dict()["kth_value"] == "-inf");
  }
}

TEST_CASE("ModelCheckpoint state_key tells several checkpoint callbacks apart", "[callbacks][model_checkpoint]") {
  CHECK(ModelCheckpoint{{.monitor = "val_loss"}}.state_key() ==
        "ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min', 'every_n_train_steps': 0, 'every_n_epochs': 1, "
        "'train_time_interval': None}");
  CHECK(ModelCheckpoint{{.every_n_train_steps = 100}}.state_key() ==
        "ModelCheckpoint{'monitor': None, 'mode': 'min', 'every_n_train_steps': 100, 'every_n_epochs': 0, "
        "'train_time_interval': None}");
}

TEST_CASE("ModelCheckpoint has the hooks the Trainer calls, with the parameters it passes",
          "[callbacks][model_checkpoint]") {
  using volt::hooks::has;
  STATIC_REQUIRE(has<volt::hooks::setup_t, ModelCheckpoint, volt::Stage>);
  STATIC_REQUIRE(has<volt::hooks::on_train_start_t, ModelCheckpoint>);
  STATIC_REQUIRE(has<volt::hooks::on_train_epoch_start_t, ModelCheckpoint>);
  STATIC_REQUIRE(has<volt::hooks::on_train_batch_end_t, ModelCheckpoint, const torch::Tensor&, const Batch&, std::int64_t>);
  STATIC_REQUIRE(has<volt::hooks::on_train_epoch_end_t, ModelCheckpoint>);
  STATIC_REQUIRE(has<volt::hooks::on_validation_end_t, ModelCheckpoint>);
  STATIC_REQUIRE(has<volt::hooks::state_dict_t, const ModelCheckpoint>);
  STATIC_REQUIRE(has<volt::hooks::load_state_dict_t, ModelCheckpoint, const nlohmann::json&>);
  STATIC_REQUIRE_FALSE(has<volt::hooks::on_test_end_t, ModelCheckpoint>);
}
