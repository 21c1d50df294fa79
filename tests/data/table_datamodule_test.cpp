// CSV reading and TableDataModule: quoting and line numbers; the split by fractions and seed;
// standardization fitted on the training split only; category ids (0 for unseen); the errors
// naming file, line and column; and a real fit on a table with struct batches, a metric object
// logged with ctx.log, predict without a target, and the DataModule's state travelling in the
// checkpoint back to a fresh DataModule for inference.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <volt/checkpoint/load_from_checkpoint.hpp>
#include <volt/data/csv_table.hpp>
#include <volt/data/table_datamodule.hpp>
#include <volt/metrics/mean_squared_error.hpp>
#include <volt/volt.hpp>
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode

namespace {

using Catch::Matchers::Contains;
using volt::data::CsvError;
using volt::data::TableBatch;
using volt::data::TableDataModule;
using volt::data::TableFeatures;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / fmt::format("volt_table_test_{}_{}", rd(), rd());
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return path / name;
  }
};

// Row i (line i + 2): x = i, z = (i % 7) * 1.5, city = a/b/c, y = 0.1 x + city effect.
std::string houses_csv(int n) {
  std::string text = "x,z,city,y\n";
  const char* cities[] = {"a", "b", "c"};
  const double effect[] = {1.0, -2.0, 3.0};
  for (int i = 0; i < n; ++i)
    text += fmt::format("{},{},{},{}\n", i, (i % 7) * 1.5, cities[i % 3], 0.1 * i + effect[i % 3]);
  return text;
}

volt::data::TableOptions houses_options(const std::filesystem::path& path) {
  return {.path = path, .numeric = {"x", "z"}, .categorical = {"city"}, .target = "y", .batch_size = 16, .seed = 5};
}

}  // namespace

TEST_CASE("parse_csv reads quotes, CRLF and blank lines, and counts lines", "[data][csv]") {
  const auto table = volt::data::parse_csv("a,b\r\n1,\"x, \"\"quoted\"\"\"\r\n\r\n2,\"two\nlines\"\n3,c", "t.csv");
  REQUIRE(table.header == std::vector<std::string>{"a", "b"});
  REQUIRE(table.num_rows() == 3);
  CHECK(table.rows[0][1] == "x, \"quoted\"");
  CHECK(table.rows[1][1] == "two\nlines");
  CHECK(table.lines == std::vector<int64_t>{2, 4, 6});
  CHECK(table.where(2, 1) == "t.csv:6:2 (column \"b\")");

  CHECK_THROWS_WITH(volt::data::parse_csv("", "e.csv"), Contains("e.csv") && Contains("empty"));
  CHECK_THROWS_WITH(volt::data::parse_csv("a,b\n", "h.csv"), Contains("h.csv") && Contains("no rows"));
  CHECK_THROWS_WITH(volt::data::parse_csv("a,b,c\n1,2,3\n4,5\n", "r.csv"),
                    Contains("r.csv:3") && Contains("2 fields but the header has 3") && Contains("column 3 \"c\""));
  CHECK_THROWS_WITH(volt::data::parse_csv("a\n\"open\n", "q.csv"), Contains("q.csv:2") && Contains("not closed"));
  CHECK_THROWS_WITH(table.column("zz"), Contains("no column \"zz\"") && Contains("a, b"));
  CHECK_THROWS_AS(volt::data::read_csv("/nonexistent/volt.csv"), CsvError);
}

TEST_CASE("TableDataModule splits by seed and fits its statistics on the training split", "[data][table]") {
  TempDir dir;
  const auto path = dir.write("houses.csv", houses_csv(100));
  TableDataModule data(houses_options(path));
  data.setup();
  CHECK(data.num_train_rows() == 80);
  CHECK(data.num_val_rows() == 10);
  CHECK(data.num_test_rows() == 10);

  // Standardized training columns: mean 0, population std 1.
  const auto train = data.train_dataloader().tensors();
  CHECK(train.numeric.sizes() == torch::IntArrayRef{80, 2});
  CHECK(train.numeric.mean(0).abs().max().item<float>() < 1e-5);
  CHECK(train.numeric.std(0, /*unbiased=*/false).sub(1).abs().max().item<float>() < 1e-5);
  CHECK(train.target.sizes() == torch::IntArrayRef{80, 1});

  // Validation rows use the training statistics: undo them and the raw x (= row index) is back,
  // and its y matches that row's.
  const auto state = data.state_dict();
  const double mean_x = state["numeric"]["x"]["mean"], std_x = state["numeric"]["x"]["std"];
  const auto val = data.val_dataloader().tensors();
  std::vector<int64_t> val_rows;
  for (int64_t k = 0; k < val.numeric.size(0); ++k) {
    const double x = val.numeric[k][0].item<double>() * std_x + mean_x;
    CHECK(x == Approx(std::round(x)).margin(1e-3));
    const auto row = static_cast<int64_t>(std::round(x));
    val_rows.push_back(row);
    const double effect[] = {1.0, -2.0, 3.0};
    CHECK(val.target[k][0].item<double>() == Approx(0.1 * row + effect[row % 3]).epsilon(1e-5));
    CHECK(val.categorical[k][0].item<int64_t>() == row % 3 + 1);  // a -> 1, b -> 2, c -> 3
  }
  CHECK(state["categorical"]["city"] == std::vector<std::string>{"a", "b", "c"});
  CHECK(data.cardinalities() == std::vector<int64_t>{4});

  // The same seed splits the same way; another seed differently.
  TableDataModule same(houses_options(path)), other([&] {
    auto o = houses_options(path);
    o.seed = 6;
    return o;
  }());
  same.setup();
  other.setup();
  CHECK(torch::equal(same.val_dataloader().tensors().numeric, val.numeric));
  CHECK_FALSE(torch::equal(other.val_dataloader().tensors().target, val.target));

  // encode(): new rows with the fitted statistics; an unseen category gets id 0; no target needed.
  const auto fresh = volt::data::parse_csv("x,z,city\n10,0,b\n20,3,zz\n", "new.csv");
  const TableFeatures features = data.encode(fresh);
  CHECK(features.numeric[0][0].item<double>() == Approx((10 - mean_x) / std_x));
  CHECK(features.categorical[0][0].item<int64_t>() == 2);
  CHECK(features.categorical[1][0].item<int64_t>() == 0);
}

TEST_CASE("TableDataModule names file, line and column of bad cells", "[data][table]") {
  TempDir dir;
  auto bad = [&](const std::string& text) {
    TableDataModule data(houses_options(dir.write("bad.csv", text)));
    data.setup();
  };
  CHECK_THROWS_WITH(bad("x,z,city,y\n1,2,a,3\n2,abc,b,4\n3,1,a,5\n4,1,a,5\n"),
                    Contains("bad.csv:3:2 (column \"z\")") && Contains("\"abc\" is not a number"));
  CHECK_THROWS_WITH(bad("x,z,city,y\n1,2,a,3\n2,1,,4\n3,1,a,5\n4,1,a,5\n"),
                    Contains("bad.csv:3:3 (column \"city\")") && Contains("missing value"));
  CHECK_THROWS_WITH(bad("x,z,city,y\n1,2,a,3\n2,NA,b,4\n3,1,a,5\n4,1,a,5\n"),
                    Contains("bad.csv:3:2") && Contains("missing value (\"NA\")"));
  CHECK_THROWS_WITH(bad("x,z,city,y\n1,2,a,3\n2,1,b\n"), Contains("bad.csv:3") && Contains("3 fields"));
  CHECK_THROWS_WITH(bad(""), Contains("bad.csv") && Contains("empty"));
  CHECK_THROWS_WITH(bad("x,z,town,y\n1,2,a,3\n"), Contains("no column \"city\""));

  auto options = houses_options("unused.csv");
  options.val_fraction = 0.6;
  options.test_fraction = 0.4;
  CHECK_THROWS_WITH(TableDataModule(options), Contains("val_fraction + test_fraction = 1"));
  options = houses_options("unused.csv");
  options.target.clear();
  CHECK_THROWS_WITH(TableDataModule(options), Contains("target is empty"));
  TableDataModule unfitted(houses_options("unused.csv"));
  CHECK_THROWS_WITH(unfitted.train_dataloader(), Contains("setup()"));
  CHECK_THROWS_WITH(unfitted.load_state_dict(nlohmann::json{{"numeric", nlohmann::json::object()}}),
                    Contains("numeric column \"x\""));
}

namespace {

struct TableRegressor : torch::nn::Module {
  torch::nn::Embedding city{nullptr};
  torch::nn::Linear fc{nullptr};
  volt::metrics::MeanSquaredError val_mse;
  std::vector<double> logged_val_mse;  // compute() as on_validation_epoch_end sees it, by hand
  explicit TableRegressor(int64_t cities) {
    city = register_module("city", torch::nn::Embedding(cities, 2));
    fc = register_module("fc", torch::nn::Linear(4, 1));
  }
  torch::Tensor forward(const torch::Tensor& numeric, const torch::Tensor& categorical) {
    return fc(torch::cat({numeric, city(categorical.select(1, 0))}, 1));
  }
  torch::Tensor training_step(const TableBatch& batch, int64_t, volt::Context&) {
    return torch::mse_loss(forward(batch.numeric, batch.categorical), batch.target);
  }
  torch::Tensor validation_step(const TableBatch& batch, int64_t, volt::Context& ctx) {
    const auto preds = forward(batch.numeric, batch.categorical);
    val_mse.update(preds, batch.target);
    ctx.log("val_mse", val_mse);
    return torch::mse_loss(preds, batch.target);
  }
  torch::Tensor predict_step(const TableFeatures& batch, int64_t, volt::Context&) {
    return forward(batch.numeric, batch.categorical);
  }
  auto configure_optimizers() { return torch::optim::Adam(parameters(), torch::optim::AdamOptions(0.05)); }
};

}  // namespace

TEST_CASE("a fit on a table: struct batches, a logged metric object, predict, state in the checkpoint",
          "[data][table][trainer]") {
  TempDir dir;
  auto options = houses_options(dir.write("houses.csv", houses_csv(200)));
  options.standardize_target = true;
  TableDataModule data(options);
  data.setup();
  TableRegressor model(data.cardinalities()[0]);
  volt::TrainerOptions trainer_options;
  trainer_options.max_epochs = 3;
  trainer_options.default_root_dir = dir.path;
  trainer_options.enable_progress_bar = false;
  trainer_options.enable_model_summary = false;
  trainer_options.logger = false;
  volt::Trainer<TableRegressor, TableDataModule> trainer(trainer_options);
  trainer.fit(model, data);

  // validate(): the metric object's value is the MSE over the whole split, computed by hand.
  const auto results = trainer.validate(model, data);
  double squared = 0;
  int64_t count = 0;
  {
    torch::NoGradGuard no_grad;
    for (const TableBatch& batch : data.val_dataloader()) {
      squared += (model.forward(batch.numeric, batch.categorical) - batch.target).square().sum().item<double>();
      count += batch.target.size(0);
    }
  }
  REQUIRE(results.count("val_mse") == 1);
  CHECK(results.at("val_mse") == Approx(squared / static_cast<double>(count)));
  CHECK(std::isnan(model.val_mse.compute().item<double>()));  // reset after the epoch

  // predict(): batches of features only, one prediction per test row.
  const auto predictions = trainer.predict(model, data);
  int64_t predicted = 0;
  for (const auto& p : predictions) predicted += p.size(0);
  CHECK(predicted == data.num_test_rows());

  // The checkpoint holds the DataModule's statistics: a fresh DataModule gets them back and
  // encodes new rows exactly as the trained one does.
  std::filesystem::path checkpoint;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path))
    if (entry.path().extension() == ".ckpt") checkpoint = entry.path();
  REQUIRE_FALSE(checkpoint.empty());
  TableDataModule restored(options);
  volt::load_datamodule_state(checkpoint, restored);
  CHECK(restored.state_dict() == data.state_dict());
  const auto rows = volt::data::parse_csv("x,z,city\n7,3,c\n150,1.5,a\n", "new.csv");
  CHECK(torch::equal(restored.encode(rows).numeric, data.encode(rows).numeric));
  CHECK(torch::equal(restored.encode(rows).categorical, data.encode(rows).categorical));
  CHECK(torch::allclose(restored.inverse_target(torch::zeros({1})), torch::tensor({data.state_dict()["target"]["mean"].get<double>()}).to(torch::kFloat32)));

  // validate / test / predict with ckpt_path evaluate the checkpoint's weights, whatever the
  // module holds now.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model.parameters()) p.add_(1.0);
  }
  CHECK(trainer.validate(model, data).at("val_mse") != Approx(results.at("val_mse")));
  CHECK(trainer.validate(model, data, {.ckpt_path = checkpoint.string()}).at("val_mse") ==
        Approx(results.at("val_mse")));
  CHECK_THROWS_WITH(trainer.predict(model, data, {.ckpt_path = (dir.path / "none.ckpt").string()}),
                    Contains("predict(ckpt_path=") && Contains("no such file"));

  // A model loaded from the checkpoint with the restored DataModule predicts as the trained one.
  auto loaded = volt::load_from_checkpoint<TableRegressor>(checkpoint, data.cardinalities()[0]);
  torch::NoGradGuard no_grad;
  const auto x = restored.encode(rows);
  CHECK(torch::allclose(loaded->forward(x.numeric, x.categorical), model.forward(x.numeric, x.categorical)));
}

namespace {

struct TaggedData {  // a DataModule with state: a tag that must survive the checkpoint
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  int64_t tag = 0;
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
  nlohmann::json state_dict() const { return {{"tag", tag}}; }
  void load_state_dict(const nlohmann::json& state) { tag = state.at("tag").get<int64_t>(); }
};

struct Linear : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Linear() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

TEST_CASE("a resumed fit gives the DataModule its state back", "[data][table][trainer]") {
  TempDir dir;
  volt::TrainerOptions options;
  options.default_root_dir = dir.path;
  options.enable_progress_bar = false;
  options.enable_model_summary = false;
  options.logger = false;
  options.max_epochs = 1;
  Linear model;
  TaggedData data;
  data.tag = 42;
  volt::Trainer<Linear, TaggedData>(options).fit(model, data);
  std::filesystem::path checkpoint;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path))
    if (entry.path().extension() == ".ckpt") checkpoint = entry.path();
  REQUIRE_FALSE(checkpoint.empty());

  TaggedData fresh;
  fresh.x = data.x;
  fresh.y = data.y;
  options.max_epochs = 2;
  volt::Trainer<Linear, TaggedData>(options).fit(model, fresh, {.ckpt_path = checkpoint.string()});
  CHECK(fresh.tag == 42);
}
