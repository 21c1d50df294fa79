// Trainer end to end on small synthetic problems: fit reaches a loss threshold, validate /
// test / predict return what Lightning returns, and torch::data loaders work as loaders.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <boost/hana/define_struct.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include <unistd.h>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

// y = 3x0 - 2x1 + 0.5, learned by a linear layer.
struct Regressor : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Regressor() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor forward(const torch::Tensor& x) { return fc(x); }

  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto loss = torch::mse_loss(forward(batch.data), batch.target);
    ctx.log("train_loss", loss, {.on_epoch = true});
    return loss;
  }
  torch::Tensor validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto loss = torch::mse_loss(forward(batch.data), batch.target);
    ctx.log("val_loss", loss);
    return loss;
  }
  void test_step(const volt::data::Example& batch, volt::Context& ctx) {
    ctx.log("test_loss", torch::mse_loss(forward(batch.data), batch.target));
  }
  torch::Tensor predict_step(const volt::data::Example& batch) { return forward(batch.data); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct RegressionData {
  torch::Tensor x, y;
  RegressionData() {
    auto gen = at::detail::createCPUGenerator(7);
    x = torch::randn({256, 2}, gen);
    y = (3 * x.select(1, 0) - 2 * x.select(1, 1) + 0.5).unsqueeze(1);
  }
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 32, .shuffle = true, .seed = 1}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 64}}; }
  volt::data::TensorLoader test_dataloader() const { return {x, y, {.batch_size = 64}}; }
  volt::data::TensorLoader predict_dataloader() const { return {x, y, {.batch_size = 100}}; }
};

using RegressionTrainer = volt::Trainer<Regressor, RegressionData, volt::SingleDevice, volt::precision::FP32>;

}  // namespace

TEST_CASE("fit learns a linear function to a small loss", "[trainer]") {
  torch::manual_seed(0);
  Regressor model;
  RegressionData data;
  RegressionTrainer trainer{{.max_epochs = 20}, volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}};
  trainer.fit(model, data);
  CHECK(trainer.current_epoch() == 20);
  CHECK(trainer.global_step() == 20 * 8);
  const auto metrics = trainer.callback_metrics();
  REQUIRE(metrics.count("val_loss") == 1);
  CHECK(metrics.at("val_loss") < 1e-3);
  CHECK(metrics.at("train_loss_epoch") < 1e-2);
  CHECK(model.fc->weight[0][0].item<double>() == Approx(3.0).margin(0.05));
  CHECK(model.fc->weight[0][1].item<double>() == Approx(-2.0).margin(0.05));
  CHECK(model.is_training());

  const auto tested = trainer.test(model, data);
  REQUIRE(tested.count("test_loss") == 1);
  CHECK(tested.at("test_loss") < 1e-3);

  const auto validated = trainer.validate(model, data);
  CHECK(validated.at("val_loss") == Approx(tested.at("test_loss")).epsilon(1e-6));

  const std::vector<torch::Tensor> predictions = trainer.predict(model, data);
  REQUIRE(predictions.size() == 3);  // 256 examples in batches of 100
  CHECK(predictions[2].size(0) == 56);
  CHECK(torch::allclose(torch::cat(predictions), data.y, 0.0, 0.05));
  CHECK_FALSE(predictions[0].requires_grad());
}

namespace {
// A DataModule whose loader is torch::data's own (a unique_ptr to a StatelessDataLoader).
struct TorchDataLoaderData {
  torch::Tensor x, y;
  TorchDataLoaderData() {
    auto gen = at::detail::createCPUGenerator(3);
    x = torch::randn({128, 2}, gen);
    y = (3 * x.select(1, 0) - 2 * x.select(1, 1) + 0.5).unsqueeze(1);
  }
  auto train_dataloader() const {
    auto dataset = torch::data::datasets::TensorDataset({torch::cat({x, y}, 1)}).map(torch::data::transforms::Stack<torch::data::TensorExample>());
    return torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(std::move(dataset), 16);
  }
};

struct TensorBatchRegressor : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  TensorBatchRegressor() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  // torch::data's TensorDataset yields TensorExample: the batch type comes from the loader.
  torch::Tensor training_step(const torch::data::TensorExample& batch) {
    auto x = batch.data.narrow(1, 0, 2);
    auto y = batch.data.narrow(1, 2, 1);
    return torch::mse_loss(fc(x), y);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};
}  // namespace

TEST_CASE("torch::data loaders work as a DataModule's loaders", "[trainer][data]") {
  torch::manual_seed(0);
  TensorBatchRegressor model;
  TorchDataLoaderData data;
  volt::Trainer<TensorBatchRegressor, TorchDataLoaderData> trainer{{.max_epochs = 30}, volt::SingleDevice{torch::kCPU},
                                                                   volt::precision::FP32{}};
  trainer.fit(model, data);
  CHECK(trainer.global_step() == 30 * 8);
  CHECK(model.fc->weight[0][0].item<double>() == Approx(3.0).margin(0.05));
}

namespace {

namespace fs = std::filesystem;

struct FitHParams {
  BOOST_HANA_DEFINE_STRUCT(FitHParams, (double, lr), (std::int64_t, step_size), (std::int64_t, batch_size));
};

// Hyper-parameters (so the logger writes hparams.yaml at fit start) that can make a scheduler or
// a loader invalid.
struct ConfiguredRegressor : Regressor {
  FitHParams hp;
  explicit ConfiguredRegressor(FitHParams h) : hp(h) {}
  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(hp.lr)),
                                volt::optim::StepLR{{.step_size = hp.step_size}});
  }
};

struct ConfiguredData : RegressionData {
  std::int64_t batch_size = 32;
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = batch_size}}; }
};

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("volt_trainer_test_" + std::to_string(rd()) + std::to_string(rd()));
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("an invalid option is rejected before fit writes any file", "[trainer]") {
  ScratchDir dir;
  const fs::path root = dir.path / "root";
  volt::TrainerOptions options{.max_epochs = 1, .enable_progress_bar = false, .enable_model_summary = false,
                               .default_root_dir = root};
  FitHParams hp{.lr = 0.1, .step_size = 1, .batch_size = 32};
  std::string expected;
  SECTION("val_check_interval larger than an epoch") {
    options.val_check_interval = volt::BatchCount(100);
    expected = "val_check_interval=100 is more than the 8 training batches";
  }
  SECTION("limit_train_batches below one batch") {
    options.limit_train_batches = 0.01;
    expected = "less than one batch";
  }
  SECTION("a scheduler with step_size 0") {
    hp.step_size = 0;
    expected = "StepLR step_size=0 is invalid";
  }
  SECTION("a loader with batch_size 0") {
    hp.batch_size = 0;
    expected = "batch_size = 0 is invalid";
  }
  SECTION("a default_root_dir that cannot be created") {
    fs::create_directories(dir.path);
    std::ofstream(dir.path / "a_file") << "x";
    options.default_root_dir = dir.path / "a_file" / "root";
    options.logger = false;  // the first write would be the first checkpoint, after training
    expected = "is a file, not a folder";
  }
  ConfiguredRegressor model(hp);
  ConfiguredData data;
  data.batch_size = hp.batch_size;
  volt::Trainer<ConfiguredRegressor, ConfiguredData> trainer(options);
  REQUIRE_THROWS_WITH(trainer.fit(model, data), Catch::Contains(expected));
  CHECK_FALSE(fs::exists(root));
  CHECK_FALSE(fs::exists(dir.path / "a_file" / "root"));
}

TEST_CASE("an error raised in fit before anything was logged leaves no version_N folder", "[trainer]") {
  ScratchDir dir;
  struct FailingStep : Regressor {
    torch::Tensor training_step(const volt::data::Example&, std::int64_t) {
      throw std::runtime_error("broken training_step");
    }
  };
  FailingStep model;
  RegressionData data;
  volt::Trainer<FailingStep, RegressionData> trainer(
      {.max_epochs = 1, .enable_progress_bar = false, .enable_model_summary = false, .default_root_dir = dir.path});
  REQUIRE_THROWS_WITH(trainer.fit(model, data), Catch::Contains("broken training_step"));
  CHECK_FALSE(fs::exists(dir.path / "lightning_logs"));
}

TEST_CASE("checkpoints go under the first logger's version_N/checkpoints, and all loggers of a run share that version",
          "[trainer][versioning]") {
  namespace fs = std::filesystem;
  const auto root = fs::temp_directory_path() / ("volt_shared_version_" + std::to_string(::getpid()));
  fs::remove_all(root);
  // An earlier run logged to TensorBoard only: on its own the CSVLogger would take version_0 and
  // the TensorBoardLogger version_1.
  fs::create_directories(root / "tb" / "lightning_logs" / "version_0");
  using TwoLoggers = volt::Trainer<Regressor, RegressionData, volt::SingleDevice, volt::precision::FP32,
                                   volt::loggers::CSVLogger, volt::loggers::TensorBoardLogger>;
  const auto fit_once = [&] {
    torch::manual_seed(0);
    Regressor model;
    RegressionData data;
    TwoLoggers trainer{{.max_epochs = 1, .enable_progress_bar = false, .enable_model_summary = false, .default_root_dir = root},
                       volt::SingleDevice{torch::kCPU},
                       volt::precision::FP32{},
                       volt::loggers::CSVLogger{volt::loggers::CSVLoggerOptions{.save_dir = root / "csv"}},
                       volt::loggers::TensorBoardLogger{volt::loggers::TensorBoardLoggerOptions{.save_dir = root / "tb"}}};
    trainer.fit(model, data);
    return std::pair{std::get<0>(trainer.callbacks()).version(), std::get<1>(trainer.callbacks()).version()};
  };
  const auto count_checkpoints = [](const fs::path& dir) {
    std::size_t n = 0;
    if (fs::exists(dir))
      for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".ckpt" ? 1 : 0;
    return n;
  };
  const auto [csv_first, tb_first] = fit_once();
  CHECK(csv_first == 1);
  CHECK(tb_first == 1);
  CHECK(fs::exists(root / "csv" / "lightning_logs" / "version_1" / "metrics.csv"));
  CHECK_FALSE(fs::exists(root / "csv" / "lightning_logs" / "version_0"));
  CHECK(fs::is_directory(root / "tb" / "lightning_logs" / "version_1"));
  // Lightning's default dirpath: the first logger's version folder, not <default_root_dir>/checkpoints.
  CHECK(count_checkpoints(root / "csv" / "lightning_logs" / "version_1" / "checkpoints") == 1);
  CHECK_FALSE(fs::exists(root / "checkpoints"));

  const auto [csv_second, tb_second] = fit_once();  // a second run: its own version and checkpoints
  CHECK(csv_second == 2);
  CHECK(tb_second == 2);
  CHECK(count_checkpoints(root / "csv" / "lightning_logs" / "version_2" / "checkpoints") == 1);
  CHECK(count_checkpoints(root / "csv" / "lightning_logs" / "version_1" / "checkpoints") == 1);
  fs::remove_all(root);
}

TEST_CASE("ckpt_path=\"last\" in a new run with a logger resumes from the newest earlier version's last.ckpt",
          "[trainer][versioning]") {
  namespace fs = std::filesystem;
  const auto root = fs::temp_directory_path() / ("volt_last_across_versions_" + std::to_string(::getpid()));
  fs::remove_all(root);
  using Checkpointing = volt::Trainer<Regressor, RegressionData, volt::SingleDevice, volt::precision::FP32, volt::ModelCheckpoint>;
  const auto trainer_for = [&](std::int64_t epochs) {
    return Checkpointing{{.max_epochs = epochs, .enable_progress_bar = false, .enable_model_summary = false, .default_root_dir = root},
                         volt::SingleDevice{torch::kCPU},
                         volt::precision::FP32{},
                         volt::ModelCheckpoint{{.save_last = true, .save_top_k = -1, .every_n_train_steps = 1}}};
  };
  const auto checkpoints_in = [](const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".ckpt" ? 1 : 0;
    return n;
  };
  torch::manual_seed(0);
  Regressor first_model;
  RegressionData data;
  auto first = trainer_for(1);
  first.fit(first_model, data);
  const auto versions = root / "lightning_logs";
  REQUIRE(fs::exists(versions / "version_0" / "checkpoints" / "last.ckpt"));
  CHECK(checkpoints_in(versions / "version_0" / "checkpoints") == 8 + 1);  // a file per step, and last.ckpt

  Regressor resumed_model;
  auto second = trainer_for(2);
  second.fit(resumed_model, data, {.ckpt_path = "last"});  // version_1 is new and empty: version_0's last.ckpt
  CHECK(second.global_step() == 16);
  CHECK(checkpoints_in(versions / "version_1" / "checkpoints") == 8 + 1);  // only epoch 1's steps ran here
  fs::remove_all(root);
}

#if defined(VOLT_SEPARATE_COMPILATION)
// Issue 13: in the separately compiled mode <volt/volt.hpp> (and a Trainer fit with
// ModelCheckpoint, as above) needs nlohmann::json declared only (<nlohmann/json_fwd.hpp>), never
// <nlohmann/json.hpp>, which costs a user TU about 1.8 s and 90 MB. This TU includes no other
// header that defines it.
static_assert(!volt::detail::complete_type<nlohmann::json>,
              "volt: <nlohmann/json.hpp> came back into <volt/volt.hpp>'s closure in the separately compiled mode");
#endif
