// The logging pipeline through a real fit: ctx.log values reach the loggers among the
// callbacks (a user-written one, CSVLogger, TensorBoardLogger, several at once) every
// log_every_n_steps and at epoch ends; the default CSV logger and its HTML report; logging
// from a hook Lightning forbids; barebones.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <volt/data/tensor_loader.hpp>
#include <volt/loggers/tensorboard_logger.hpp>
#include <volt/volt.hpp>

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("volt_logging_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct LoggingModel : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  bool log_in_fit_start = false;
  std::map<std::string, double> hp{{"lr", 0.1}, {"hidden", 1.0}};
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    auto loss = torch::mse_loss(fc(b.data), b.target);
    ctx.log("train_loss", loss, {.on_step = true, .on_epoch = true, .prog_bar = true});
    return loss;
  }
  void validation_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    ctx.log("val_loss", torch::mse_loss(fc(b.data), b.target));
  }
  void on_fit_start(volt::Context& ctx) {
    if (log_in_fit_start) ctx.log("too_early", 1.0);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct LoggingData {
  torch::Tensor x = torch::linspace(-1, 1, 64).reshape({32, 2});
  torch::Tensor y = x.sum(1, true);
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }  // 8 batches
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 16}}; }
};

// A user-written logger: any type with the Logger concept's members.
struct RecordingLogger {
  std::vector<std::pair<std::int64_t, std::map<std::string, double>>>* rows;
  std::vector<std::string>* events;
  void log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) { rows->emplace_back(step, metrics); }
  template <class HParams>
  void log_hyperparams(const HParams&) {
    events->push_back("hparams");
  }
  void save() { events->push_back("save"); }
  void finalize(std::string_view status) { events->push_back("finalize " + std::string(status)); }
  std::filesystem::path log_dir() const { return "."; }
  std::string name() const { return "recording"; }
  std::int64_t version() const { return 0; }
};
static_assert(volt::Logger<RecordingLogger>);

}  // namespace

TEST_CASE("a user-written logger gets step rows every log_every_n_steps and epoch rows", "[logging]") {
  std::vector<std::pair<std::int64_t, std::map<std::string, double>>> rows;
  std::vector<std::string> events;
  LoggingModel m;
  LoggingData d;
  volt::Trainer<LoggingModel, LoggingData, volt::SingleDevice, volt::precision::FP32, RecordingLogger> t(
      {.max_epochs = 2, .num_sanity_val_steps = 1, .log_every_n_steps = 3, .enable_progress_bar = false,
       .enable_model_summary = false},
      volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}, RecordingLogger{&rows, &events});
  t.fit(m, d);
  CHECK_FALSE(t.default_logger().has_value());  // a logger was given: no default one

  std::vector<std::int64_t> step_rows, val_rows, train_epoch_rows;
  for (const auto& [step, metrics] : rows) {
    CHECK(metrics.count("epoch") == 1);
    if (metrics.count("train_loss_step")) step_rows.push_back(step);
    if (metrics.count("val_loss")) val_rows.push_back(step);
    if (metrics.count("train_loss_epoch")) train_epoch_rows.push_back(step);
    CHECK(metrics.count("too_early") == 0);
  }
  // 16 optimizer steps: step rows after steps 3, 6, 9, 12, 15 (logged at step - 1, as Lightning)
  CHECK((step_rows == std::vector<std::int64_t>{2, 5, 8, 11, 14}));
  // epoch values at each epoch's end (steps 8 and 16, logged as 7 and 15); none from the sanity check
  CHECK((val_rows == std::vector<std::int64_t>{7, 15}));
  CHECK((train_epoch_rows == std::vector<std::int64_t>{7, 15}));
  CHECK(events.front() == "hparams");
  CHECK(events.back() == "finalize success");
  CHECK(t.callback_metrics().count("train_loss_epoch") == 1);
}

namespace {
// Two optimizers stepped by hand on every batch: two optimizer steps per batch.
struct TwoOptimizerGan : torch::nn::Module {
  static constexpr bool automatic_optimization = false;
  torch::nn::Linear generator{register_module("generator", torch::nn::Linear(2, 1))};
  torch::nn::Linear discriminator{register_module("discriminator", torch::nn::Linear(2, 1))};
  void training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    auto [opt_g, opt_d] = ctx.optimizers<2>();
    auto g = torch::mse_loss(generator(b.data), b.target);
    ctx.manual_backward(g);
    opt_g.step();
    opt_g.zero_grad();
    auto d = torch::mse_loss(discriminator(b.data), b.target);
    ctx.manual_backward(d);
    opt_d.step();
    opt_d.zero_grad();
    ctx.log("g_loss", g.detach(), {.on_step = true, .on_epoch = true});
  }
  void validation_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    ctx.log("val_loss", torch::mse_loss(discriminator(b.data), b.target));
  }
  auto configure_optimizers() {
    return std::tuple{torch::optim::SGD(generator->parameters(), torch::optim::SGDOptions(0.1)),
                      torch::optim::SGD(discriminator->parameters(), torch::optim::SGDOptions(0.1))};
  }
};
}  // namespace

TEST_CASE("with two optimizers log_every_n_steps counts batches and the logged step is Lightning's", "[logging]") {
  std::vector<std::pair<std::int64_t, std::map<std::string, double>>> rows;
  std::vector<std::string> events;
  TwoOptimizerGan m;
  LoggingData d;
  auto t = volt::make_trainer<TwoOptimizerGan, LoggingData>(
      {.max_epochs = 2, .num_sanity_val_steps = 0, .log_every_n_steps = 3, .enable_progress_bar = false,
       .enable_model_summary = false},
      RecordingLogger{&rows, &events});
  t.fit(m, d);
  CHECK(t.global_step() == 2 * 8 * 2);  // 32 optimizer steps in 16 batches
  std::vector<std::int64_t> step_rows, val_rows, train_epoch_rows;
  for (const auto& [step, metrics] : rows) {
    if (metrics.count("g_loss_step")) step_rows.push_back(step);
    if (metrics.count("val_loss")) val_rows.push_back(step);
    if (metrics.count("g_loss_epoch")) train_epoch_rows.push_back(step);
  }
  // Lightning (_LoggerConnector.should_update_logs / log_metrics): rows when
  // (_batches_that_stepped + 1) % 3 == 0, at step _batches_that_stepped, which counts each batch
  // once whatever the number of optimizers: the same rows as a one-optimizer module's above.
  CHECK((step_rows == std::vector<std::int64_t>{2, 5, 8, 11, 14}));
  CHECK((val_rows == std::vector<std::int64_t>{7, 15}));
  CHECK((train_epoch_rows == std::vector<std::int64_t>{7, 15}));
}

TEST_CASE("the default CSV logger writes Lightning's layout and an HTML report; TensorBoard alongside", "[logging]") {
  TempDir dir;
  LoggingModel m;
  LoggingData d;
  volt::Trainer<LoggingModel, LoggingData, volt::SingleDevice, volt::precision::FP32, volt::loggers::TensorBoardLogger>
      t({.max_epochs = 2, .log_every_n_steps = 4, .enable_progress_bar = false, .enable_model_summary = false,
         .default_root_dir = dir.path},
        volt::SingleDevice{torch::kCPU}, volt::precision::FP32{},
        volt::loggers::TensorBoardLogger({.save_dir = dir.path, .name = "tb"}));
  t.fit(m, d);
  // A TensorBoardLogger was given, so no default CSV logger: Lightning's rule (loggers replace the default).
  CHECK_FALSE(t.default_logger().has_value());
  CHECK(fs::exists(dir.path / "tb" / "version_0"));

  LoggingModel m2;
  volt::Trainer<LoggingModel, LoggingData> t2({.max_epochs = 2, .log_every_n_steps = 4, .enable_progress_bar = false,
                                               .enable_model_summary = false, .default_root_dir = dir.path},
                                              volt::SingleDevice{torch::kCPU}, volt::precision::FP32{});
  t2.fit(m2, d);
  REQUIRE(t2.default_logger().has_value());
  const fs::path version = dir.path / "lightning_logs" / "version_0";
  const std::string csv = read(version / "metrics.csv");
  const std::string header = csv.substr(0, csv.find('\n'));
  CHECK(header == "epoch,step,train_loss_epoch,train_loss_step,val_loss\r");
  CHECK(fs::exists(version / "hparams.yaml"));
  CHECK(read(version / "hparams.yaml").find("lr: 0.1") != std::string::npos);
  const std::string html = read(version / "report.html");
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("val_loss") != std::string::npos);
  // The report shows the run's hyper-parameters and the default ModelCheckpoint's file.
  CHECK(html.find("<td class=\"key\">lr</td><td class=\"value\">0.1</td>") != std::string::npos);
  CHECK(html.find("<h2>Best checkpoint</h2>") != std::string::npos);
  CHECK(html.find("epoch=1-step=") != std::string::npos);
}

TEST_CASE("logging where Lightning forbids it names the hook; barebones forbids it everywhere", "[logging]") {
  LoggingData d;
  {
    LoggingModel m;
    m.log_in_fit_start = true;
    volt::Trainer<LoggingModel, LoggingData> t({.logger = false, .max_epochs = 1, .enable_progress_bar = false,
                                                .enable_model_summary = false},
                                               volt::SingleDevice{torch::kCPU}, volt::precision::FP32{});
    REQUIRE_THROWS_WITH(t.fit(m, d), Catch::Contains("ctx.log(\"too_early\")") && Catch::Contains("`on_fit_start`"));
  }
  {
    LoggingModel m;
    volt::Trainer<LoggingModel, LoggingData> t({.max_epochs = 1, .barebones = true}, volt::SingleDevice{torch::kCPU},
                                               volt::precision::FP32{});
    CHECK_FALSE(t.effective_options().logger_on());
    CHECK_FALSE(t.effective_options().progress_bar_on());
    REQUIRE_THROWS_WITH(t.fit(m, d), Catch::Contains("barebones"));
  }
  REQUIRE_THROWS_WITH((volt::Trainer<LoggingModel, LoggingData>({.enable_progress_bar = true, .barebones = true})),
                      Catch::Contains("enable_progress_bar") && Catch::Contains("barebones"));
}
