// Tabular regression, house-prices style: the example writes a CSV of houses (numeric and
// categorical columns, a price), trains an MLP with one embedding per categorical column
// through volt::data::TableDataModule, reports RMSE, MAE and R2 with volt's stateful metrics,
// then rebuilds model and preprocessing from the best checkpoint to price two new houses.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/hana/define_struct.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>  // data.state_dict() below: volt's headers only declare json
#include <torch/torch.h>

#include <volt/checkpoint/load_from_checkpoint.hpp>
#include <volt/data/table_datamodule.hpp>
#include <volt/metrics/mean_absolute_error.hpp>
#include <volt/metrics/mean_squared_error.hpp>
#include <volt/metrics/r2_score.hpp>
#include <volt/volt.hpp>

namespace {

using volt::data::TableBatch;
using volt::data::TableDataModule;
using volt::data::TableFeatures;

const char* const kNeighborhoods[] = {"Riverside", "Old Town", "Hillcrest", "Docklands", "Meadows"};
const char* const kConditions[] = {"poor", "fair", "good"};

// price = 100000 + 2400 area + 9000 rooms - 900 age - 6000 distance + neighborhood + condition + noise.
void write_houses_csv(const std::filesystem::path& path, std::int64_t rows, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> area(35, 220), age(0, 90), distance(0.5, 25);
  std::uniform_int_distribution<int> rooms(1, 7), neighborhood(0, 4), condition(0, 2);
  std::normal_distribution<double> noise(0, 15000);
  const double neighborhood_premium[] = {40000, 90000, 60000, -10000, 15000};
  const double condition_premium[] = {-30000, 0, 25000};
  std::ofstream out(path);
  out << "area,rooms,age,distance_km,neighborhood,condition,price\n";
  for (std::int64_t i = 0; i < rows; ++i) {
    const double a = area(rng), g = age(rng), d = distance(rng);
    const int r = rooms(rng), n = neighborhood(rng), c = condition(rng);
    const double price = 100000 + 2400 * a + 9000 * r - 900 * g - 6000 * d + neighborhood_premium[n] + condition_premium[c] +
                         noise(rng);
    out << fmt::format("{:.1f},{},{:.0f},{:.2f},{},{},{:.0f}\n", a, r, g, d, kNeighborhoods[n], kConditions[c], price);
  }
}

struct HParams {
  BOOST_HANA_DEFINE_STRUCT(HParams, (double, lr), (std::int64_t, hidden), (std::int64_t, neighborhoods),
                           (std::int64_t, conditions));
};

struct HouseRegressor : torch::nn::Module {
  HParams hp;
  torch::nn::Embedding neighborhood{nullptr}, condition{nullptr};
  torch::nn::Sequential mlp{nullptr};
  // Prices are learned standardized; the metrics see them in currency units again.
  double price_mean = 0, price_std = 1;
  volt::metrics::MeanSquaredError rmse{{.squared = false}};
  volt::metrics::MeanAbsoluteError mae;
  volt::metrics::R2Score r2;

  explicit HouseRegressor(HParams h) : hp(h) {
    neighborhood = register_module("neighborhood", torch::nn::Embedding(hp.neighborhoods, 4));
    condition = register_module("condition", torch::nn::Embedding(hp.conditions, 2));
    mlp = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(4 + 4 + 2, hp.hidden), torch::nn::ReLU(),
                                                       torch::nn::Linear(hp.hidden, hp.hidden), torch::nn::ReLU(),
                                                       torch::nn::Linear(hp.hidden, 1)));
  }
  torch::Tensor forward(const torch::Tensor& numeric, const torch::Tensor& categorical) {
    return mlp->forward(
        torch::cat({numeric, neighborhood(categorical.select(1, 0)), condition(categorical.select(1, 1))}, 1));
  }
  torch::Tensor training_step(const TableBatch& batch, std::int64_t, volt::Context& ctx) {
    auto loss = torch::mse_loss(forward(batch.numeric, batch.categorical), batch.target);
    ctx.log("train_loss", loss, {.prog_bar = true});
    return loss;
  }
  void evaluate(const TableBatch& batch, const std::string& stage, volt::Context& ctx) {
    const auto preds = forward(batch.numeric, batch.categorical);
    ctx.log(stage + "_loss", torch::mse_loss(preds, batch.target));
    const auto price = batch.target * price_std + price_mean;
    const auto predicted = preds * price_std + price_mean;
    rmse.update(predicted, price);
    mae.update(predicted, price);
    r2.update(predicted, price);
    ctx.log(stage + "_rmse", rmse, {.prog_bar = true});
    ctx.log(stage + "_mae", mae);
    ctx.log(stage + "_r2", r2, {.prog_bar = true});
  }
  void validation_step(const TableBatch& batch, std::int64_t, volt::Context& ctx) { evaluate(batch, "val", ctx); }
  void test_step(const TableBatch& batch, std::int64_t, volt::Context& ctx) { evaluate(batch, "test", ctx); }
  auto configure_optimizers() { return torch::optim::Adam(parameters(), torch::optim::AdamOptions(hp.lr)); }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"volt tabular example: house prices from a generated CSV"};
  std::int64_t rows = 20000, epochs = 5;
  std::string root_dir = "tabular_runs";
  HParams hp{.lr = 3e-3, .hidden = 64, .neighborhoods = 0, .conditions = 0};
  app.add_option("--rows", rows, "rows of the generated CSV")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--epochs", epochs, "training epochs")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--root-dir", root_dir, "where the CSV, logs and checkpoints go")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    volt::seed_everything(7);
    std::filesystem::create_directories(root_dir);
    const auto csv = std::filesystem::path(root_dir) / "houses.csv";
    write_houses_csv(csv, rows, 7);

    const volt::data::TableOptions table{.path = csv,
                                         .numeric = {"area", "rooms", "age", "distance_km"},
                                         .categorical = {"neighborhood", "condition"},
                                         .target = "price",
                                         .standardize_target = true,
                                         .batch_size = 128};
    TableDataModule data(table);
    data.setup();  // the Trainer calls it too (idempotent); here for the embedding sizes
    hp.neighborhoods = data.cardinalities()[0];
    hp.conditions = data.cardinalities()[1];
    HouseRegressor model(hp);
    const auto state = data.state_dict();
    model.price_mean = state["target"]["mean"];
    model.price_std = state["target"]["std"];

    using Trainer = volt::Trainer<HouseRegressor, TableDataModule, volt::SingleDevice, volt::precision::FP32,
                                  volt::ModelCheckpoint>;
    Trainer trainer{{.max_epochs = epochs, .enable_progress_bar = false, .default_root_dir = root_dir},
                    volt::SingleDevice{},
                    volt::precision::FP32{},
                    volt::ModelCheckpoint{{.dirpath = std::filesystem::path(root_dir) / "checkpoints",
                                           .filename = "{epoch}-{val_rmse:.0f}",
                                           .monitor = "val_rmse",
                                           .mode = volt::Mode::min}}};
    trainer.fit(model, data);
    const auto test = trainer.test(model, data, {.ckpt_path = "best"});  // the best epoch's weights
    std::cout << fmt::format("test_rmse={:.0f} test_mae={:.0f} test_r2={:.4f}", test.at("test_rmse"),
                             test.at("test_mae"), test.at("test_r2"))
              << std::endl;

    // Inference elsewhere: the model from its hyper-parameters and weights, the preprocessing
    // (standardization statistics, category ids) from the DataModule state in the same file.
    const auto& best = std::get<volt::ModelCheckpoint>(trainer.callbacks()).best_model_path();
    auto loaded = volt::load_from_checkpoint<HouseRegressor>(best);
    loaded->eval();
    TableDataModule preprocessing(table);
    volt::load_datamodule_state(best, preprocessing);
    const auto houses = volt::data::parse_csv(
        "area,rooms,age,distance_km,neighborhood,condition\n"
        "120,4,10,3.5,Old Town,good\n"
        "60,2,70,18,Docklands,poor\n",
        "new_houses.csv");
    const TableFeatures x = preprocessing.encode(houses);
    torch::NoGradGuard no_grad;
    const auto prices = preprocessing.inverse_target(loaded->forward(x.numeric, x.categorical));
    // The generating formula without noise: 100000 + 2400 a + 9000 r - 900 g - 6000 d + premiums.
    const double truth[] = {100000 + 2400 * 120 + 9000 * 4 - 900 * 10 - 6000 * 3.5 + 90000 + 25000,
                            100000 + 2400 * 60 + 9000 * 2 - 900 * 70 - 6000 * 18 - 10000 - 30000};
    for (int i = 0; i < 2; ++i)
      std::cout << fmt::format("house {}: predicted {:.0f}, formula {:.0f}", i, prices[i][0].item<double>(), truth[i])
                << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "tabular: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
