// TrainerOptions: every invalid value is rejected when the Trainer is built, with a message that
// names the option, the value and what is allowed; BatchCount's int-or-fraction resolution; the
// max_epochs default.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <volt/core/trainer_options.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch) { return torch::mse_loss(fc(batch.data), batch.target); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct Data {
  torch::Tensor x = torch::zeros({8, 2}), y = torch::zeros({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

using TestTrainer = volt::Trainer<Model, Data>;

TestTrainer make_trainer(volt::TrainerOptions options) {
  return TestTrainer{std::move(options), volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}};
}

struct InvalidCase {
  std::string what;  // for the report
  volt::TrainerOptions options;
  std::string named;    // "option=value" as the message must show it
  std::string allowed;  // a piece of the "what is allowed" part
};

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::vector<InvalidCase> invalid_cases() {
  using namespace std::chrono_literals;
  return {
      {"fast_dev_run < 0", {.fast_dev_run = -1}, "fast_dev_run=-1", "use true, false, or a number of batches >= 0"},
      {"max_epochs < -1", {.max_epochs = -2}, "max_epochs=-2", "use a number >= 0, or -1 for no limit"},
      {"min_epochs < 0", {.min_epochs = -1}, "min_epochs=-1", "use a number >= 0"},
      {"max_steps < -1", {.max_steps = -5}, "max_steps=-5", "use a number >= 0, or -1 for no limit"},
      {"min_steps < 0", {.min_steps = -1}, "min_steps=-1", "use a number >= 0"},
      {"min_epochs > max_epochs", {.max_epochs = 3, .min_epochs = 5}, "min_epochs=5",
       "it must not exceed max_epochs=3"},
      {"min_steps > max_steps", {.max_steps = 10, .min_steps = 20}, "min_steps=20", "it must not exceed max_steps=10"},
      {"max_time == 0", {.max_time = 0s}, "max_time=0s", "use a positive duration, or leave it unset"},
      {"max_time < 0", {.max_time = -1.5s}, "max_time=-1.5s", "use a positive duration"},
      {"limit_train_batches fraction > 1", {.limit_train_batches = 1.5}, "limit_train_batches=1.5",
       "a fraction must be in [0.0, 1.0]; an integer is a number of batches"},
      {"limit_train_batches NaN", {.limit_train_batches = nan}, "limit_train_batches=nan",
       "a fraction must be in [0.0, 1.0]"},
      {"limit_val_batches fraction < 0", {.limit_val_batches = -0.25}, "limit_val_batches=-0.25",
       "a fraction must be in [0.0, 1.0]"},
      {"limit_val_batches count < 0", {.limit_val_batches = -1}, "limit_val_batches=-1",
       "a number of batches must be >= 0"},
      {"limit_test_batches count < 0", {.limit_test_batches = -3}, "limit_test_batches=-3",
       "a number of batches must be >= 0"},
      {"limit_test_batches fraction > 1", {.limit_test_batches = 1.01}, "limit_test_batches=1.01",
       "a fraction must be in [0.0, 1.0]"},
      {"limit_predict_batches fraction > 1", {.limit_predict_batches = 3.5}, "limit_predict_batches=3.5",
       "a fraction must be in [0.0, 1.0]"},
      {"limit_predict_batches count < 0", {.limit_predict_batches = -2L}, "limit_predict_batches=-2",
       "a number of batches must be >= 0"},
      {"overfit_batches fraction > 1", {.overfit_batches = 1.5}, "overfit_batches=1.5",
       "a fraction must be in [0.0, 1.0]"},
      {"overfit_batches count < 0", {.overfit_batches = -1}, "overfit_batches=-1", "a number of batches must be >= 0"},
      {"val_check_interval fraction 0", {.val_check_interval = 0.0}, "val_check_interval=0.0",
       "a fraction of the epoch must be in (0.0, 1.0]; an integer is a number of training batches"},
      {"val_check_interval fraction > 1", {.val_check_interval = 1.25}, "val_check_interval=1.25",
       "a fraction of the epoch must be in (0.0, 1.0]"},
      {"val_check_interval count 0", {.val_check_interval = 0}, "val_check_interval=0",
       "a number of training batches must be >= 1"},
      {"check_val_every_n_epoch 0", {.check_val_every_n_epoch = 0}, "check_val_every_n_epoch=0", "use a number >= 1"},
      {"num_sanity_val_steps < -1", {.num_sanity_val_steps = -2}, "num_sanity_val_steps=-2",
       "use a number >= 0, or -1 for the whole loader"},
      {"accumulate_grad_batches 0", {.accumulate_grad_batches = 0}, "accumulate_grad_batches=0",
       "use a number >= 1 (1: no accumulation)"},
      {"gradient_clip_val < 0", {.gradient_clip_val = -0.5}, "gradient_clip_val=-0.5",
       "use a value >= 0, or leave it unset for no clipping"},
      {"gradient_clip_val NaN", {.gradient_clip_val = nan}, "gradient_clip_val=nan", "use a value >= 0"},
      {"overfit_batches with limit_train_batches", {.limit_train_batches = 4, .overfit_batches = 2},
       "overfit_batches=2", "leave limit_train_batches (=4) unset"},
      {"log_every_n_steps < 0", {.log_every_n_steps = -1}, "log_every_n_steps=-1",
       "use a number >= 0 (0: no step-level logs)"},
      {"fast_dev_run < 0 as int64", {.fast_dev_run = std::int64_t{-3}}, "fast_dev_run=-3", "a number of batches >= 0"},
      {"barebones with logger", {.logger = true, .barebones = true}, "logger=on",
       "barebones=true turns it off; remove one of the two settings"},
      {"barebones with enable_checkpointing", {.enable_checkpointing = true, .barebones = true},
       "enable_checkpointing=on", "barebones=true turns it off"},
      {"barebones with enable_progress_bar", {.enable_progress_bar = true, .barebones = true},
       "enable_progress_bar=on", "barebones=true turns it off"},
      {"barebones with enable_model_summary", {.enable_model_summary = true, .barebones = true},
       "enable_model_summary=on", "barebones=true turns it off"},
      {"barebones with log_every_n_steps", {.log_every_n_steps = 50, .barebones = true}, "log_every_n_steps=on",
       "barebones=true turns it off"},
      {"barebones with detect_anomaly", {.detect_anomaly = true, .barebones = true}, "detect_anomaly=on",
       "barebones=true turns it off"},
      {"fast_dev_run with overfit_batches", {.fast_dev_run = true, .overfit_batches = 0.5}, "fast_dev_run=1",
       "it cannot be combined with overfit_batches"},
  };
}

}  // namespace

TEST_CASE("every invalid TrainerOptions value throws at Trainer construction, naming option, value and rule",
          "[core][options]") {
  for (const auto& c : invalid_cases()) {
    INFO("case: " << c.what);
    REQUIRE_THROWS_AS(make_trainer(c.options), std::invalid_argument);
    REQUIRE_THROWS_WITH(make_trainer(c.options), Catch::StartsWith("volt: TrainerOptions::" + c.named + " is invalid: ") &&
                                                     Catch::Contains(c.allowed));
    // validate() is what the constructor runs: the same message without a Trainer.
    REQUIRE_THROWS_WITH(c.options.validate(), Catch::Contains("TrainerOptions::" + c.named));
  }
}

TEST_CASE("the first invalid option is the one reported", "[core][options]") {
  REQUIRE_THROWS_WITH(make_trainer({.max_epochs = -7, .min_epochs = -1, .check_val_every_n_epoch = 0}),
                      Catch::Contains("max_epochs=-7") && !Catch::Contains("min_epochs") &&
                          !Catch::Contains("check_val_every_n_epoch"));
}

TEST_CASE("boundary values of TrainerOptions are accepted", "[core][options]") {
  using namespace std::chrono_literals;
  const std::vector<volt::TrainerOptions> valid = {
      {},
      {.fast_dev_run = true},
      {.fast_dev_run = 0},
      {.fast_dev_run = 5},
      {.max_epochs = -1, .min_epochs = 100},  // no max: min_epochs is not bounded by it
      {.max_epochs = 0},
      {.max_epochs = 3, .min_epochs = 3},
      {.max_steps = -1, .min_steps = 1000},
      {.max_steps = 0, .min_steps = 0},
      {.max_time = 1ms},
      {.limit_train_batches = 0.0, .limit_val_batches = 0, .limit_test_batches = 1.0, .limit_predict_batches = 10},
      {.overfit_batches = 1.0},
      {.limit_val_batches = 2, .overfit_batches = 3},  // overfit_batches only conflicts with limit_train_batches
      {.val_check_interval = 1e-9},
      {.val_check_interval = 1},
      {.num_sanity_val_steps = -1},
      {.num_sanity_val_steps = 0},
      {.accumulate_grad_batches = 1},
      {.gradient_clip_val = 0.0},
  };
  for (std::size_t i = 0; i < valid.size(); ++i) {
    INFO("valid options #" << i);
    CHECK_NOTHROW(make_trainer(valid[i]));
  }
}

TEST_CASE("BatchCount: an integer is a number of batches, a floating-point value a fraction", "[core][options]") {
  SECTION("integers") {
    const volt::BatchCount ten = 10;
    CHECK_FALSE(ten.is_fraction());
    CHECK(ten.count() == 10);
    CHECK(ten.str() == "10");
    CHECK(ten.resolve(25, "limit_train_batches") == 10);
    CHECK(ten.resolve(4, "limit_train_batches") == 4);  // never more than the loader has
    CHECK(ten.resolve(std::nullopt, "limit_train_batches") == 10);  // unsized loader: the count as is
    CHECK(volt::BatchCount(0).resolve(25, "x") == 0);
    CHECK(volt::BatchCount(7L).count() == 7);
    CHECK(volt::BatchCount(7LL).count() == 7);
    CHECK_FALSE(volt::BatchCount(std::int64_t{7}).is_fraction());
  }
  SECTION("fractions") {
    const volt::BatchCount quarter = 0.25;
    CHECK(quarter.is_fraction());
    CHECK(quarter.fraction() == 0.25);
    CHECK(quarter.str() == "0.25");
    CHECK(quarter.resolve(10, "limit_train_batches") == 2);  // floor(2.5)
    CHECK(quarter.resolve(0, "limit_train_batches") == 0);
    CHECK(volt::BatchCount(0.0).resolve(10, "x") == 0);
    CHECK(volt::BatchCount(0.5).resolve(9, "x") == 4);
  }
  SECTION("1.0, the default, is the whole loader, sized or not") {
    const volt::BatchCount all = 1.0;
    CHECK(all.is_fraction());
    CHECK(all.resolve(13, "x") == 13);
    CHECK(all.resolve(std::nullopt, "x") == -1);  // -1: until the loader ends
    const volt::TrainerOptions defaults;
    CHECK(defaults.limit_train_batches.is_fraction());
    CHECK(defaults.limit_train_batches.fraction() == 1.0);
    CHECK(defaults.val_check_interval.fraction() == 1.0);
  }
  SECTION("a fraction of a loader that cannot tell its size is an error naming the flag and the fix") {
    const volt::BatchCount half = 0.5;
    REQUIRE_THROWS_AS(half.resolve(std::nullopt, "limit_val_batches"), std::invalid_argument);
    REQUIRE_THROWS_WITH(half.resolve(std::nullopt, "limit_val_batches"),
                        Catch::Contains("volt: limit_val_batches=0.5 is a fraction") &&
                            Catch::Contains("cannot tell how many batches it has (no size())") &&
                            Catch::Contains("limit_val_batches=100") &&
                            Catch::Contains("volt::data::TensorLoader"));
    CHECK_THROWS_WITH(volt::BatchCount(0.0).resolve(std::nullopt, "limit_test_batches"),
                      Catch::Contains("limit_test_batches=0.0 is a fraction"));
  }
}

namespace {
// A DataModule whose loader is torch::data's: it has no size(), so fractions cannot be resolved.
struct UnsizedData {
  auto train_dataloader() const {
    auto dataset = torch::data::datasets::TensorDataset({torch::zeros({16, 3})})
                       .map(torch::data::transforms::Stack<torch::data::TensorExample>());
    return torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(std::move(dataset), 4);
  }
};
struct UnsizedModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  UnsizedModel() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const torch::data::TensorExample& batch) {
    return torch::mse_loss(fc(batch.data.narrow(1, 0, 2)), batch.data.narrow(1, 2, 1));
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};
}  // namespace

TEST_CASE("fit with a fractional limit over an unsized loader fails naming the flag", "[core][options]") {
  UnsizedModel model;
  UnsizedData data;
  SECTION("a fraction throws") {
    volt::Trainer<UnsizedModel, UnsizedData> trainer{
        {.max_epochs = 1, .limit_train_batches = 0.5}, volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}};
    REQUIRE_THROWS_AS(trainer.fit(model, data), std::invalid_argument);
    REQUIRE_THROWS_WITH(trainer.fit(model, data),
                        Catch::Contains("limit_train_batches=0.5 is a fraction") && Catch::Contains("no size()"));
  }
  SECTION("a count works") {
    volt::Trainer<UnsizedModel, UnsizedData> trainer{
        {.max_epochs = 2, .limit_train_batches = 3}, volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}};
    trainer.fit(model, data);
    CHECK(trainer.global_step() == 6);
  }
}

TEST_CASE("resolved_max_epochs: Lightning's default of 1000 unless max_steps is set", "[core][options]") {
  CHECK(volt::TrainerOptions{}.resolved_max_epochs() == 1000);
  CHECK(volt::TrainerOptions{.max_steps = 100}.resolved_max_epochs() == -1);  // steps bound the run
  CHECK(volt::TrainerOptions{.max_epochs = 3}.resolved_max_epochs() == 3);
  CHECK(volt::TrainerOptions{.max_epochs = 3, .max_steps = 100}.resolved_max_epochs() == 3);
  CHECK(volt::TrainerOptions{.max_epochs = -1}.resolved_max_epochs() == -1);
  CHECK(volt::TrainerOptions{.max_epochs = 0}.resolved_max_epochs() == 0);
  CHECK(volt::TrainerOptions{.fast_dev_run = true, .max_epochs = 7}.resolved_max_epochs() == 1);
  CHECK(volt::TrainerOptions{.fast_dev_run = 4}.resolved_max_epochs() == 1);
}

TEST_CASE("the Trainer keeps the options it was given", "[core][options]") {
  auto trainer = make_trainer({.max_epochs = 4, .limit_val_batches = 0.5, .num_sanity_val_steps = 0});
  CHECK(trainer.options().max_epochs == std::optional<std::int64_t>{4});
  CHECK(trainer.options().limit_val_batches.fraction() == 0.5);
  CHECK(trainer.options().num_sanity_val_steps == 0);
  CHECK(trainer.options().min_epochs == 0);
  CHECK(trainer.options().check_val_every_n_epoch == 1);
  CHECK(trainer.options().inference_mode);
}
