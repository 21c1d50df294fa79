// cli/lightning_cli.hpp: subcommands, --help, --print_config round trip, precedence through the
// command line, errors before anything runs, config.yaml in the log folder, the optimizer choice.
#include <catch2/catch.hpp>

#include "error_of.hpp"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <torch/torch.h>

#include <volt/cli/lightning_cli.hpp>
#include <volt/data/tensor_loader.hpp>

// The separately compiled mode's promise to a TU that includes the CLI: yaml-cpp is not parsed
// there (the headers forward-declare YAML::Node; what reads nodes is compiled once, in
// volt::compiled). Checked before anything else includes yaml-cpp.
#if defined(VOLT_SEPARATE_COMPILATION) && defined(NODE_NODE_H_62B23520_7C8E_11DE_8A39_0800200C9A66)
constexpr bool cli_header_includes_yaml_cpp = true;
#else
constexpr bool cli_header_includes_yaml_cpp = false;
#endif

namespace {

struct HParams {
  BOOST_HANA_DEFINE_STRUCT(HParams, (double, lr), (std::int64_t, hidden));
};

struct SGDChoice {
  static constexpr std::string_view cli_name = "SGD";
  BOOST_HANA_DEFINE_STRUCT(SGDChoice, (double, lr), (double, momentum));
};
struct AdamChoice {
  static constexpr std::string_view cli_name = "Adam";
  BOOST_HANA_DEFINE_STRUCT(AdamChoice, (double, lr));
};
using OptimizerChoice = std::variant<SGDChoice, AdamChoice>;

struct Regressor : torch::nn::Module {
  HParams hp;
  OptimizerChoice optimizer;
  torch::nn::Linear fc{nullptr};
  explicit Regressor(HParams h, OptimizerChoice o = SGDChoice{.lr = 0.1, .momentum = 0.0}) : hp(h), optimizer(o) {
    fc = register_module("fc", torch::nn::Linear(2, 1));
  }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  void validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    ctx.log("val_loss", torch::mse_loss(fc(batch.data), batch.target));
  }
  void test_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    ctx.log("test_loss", torch::mse_loss(fc(batch.data), batch.target));
  }
  auto configure_optimizers() {
    return std::visit(
        [&](const auto& o) { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(o.lr)); }, optimizer);
  }
};

struct Data {
  struct Options {
    BOOST_HANA_DEFINE_STRUCT(Options, (std::int64_t, batch_size), (std::int64_t, size));
  };
  Options options;
  torch::Tensor x, y;
  explicit Data(Options o) : options(o) {
    x = torch::randn({o.size, 2});
    y = torch::randn({o.size, 1});
  }
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = options.batch_size}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = options.batch_size}}; }
  volt::data::TensorLoader test_dataloader() const { return {x, y, {.batch_size = options.batch_size}}; }
};

using Trainer = volt::Trainer<Regressor, Data, volt::SingleDevice, volt::precision::FP32, volt::EarlyStopping>;
using CLI = volt::cli::LightningCLI<Trainer>;

std::filesystem::path fresh_dir(const std::string& name) {
  // Under the process's own working directory (tests/main.cpp), removed when the process ends:
  // ctest runs test cases at once, and two may use the same name.
  const auto dir = std::filesystem::current_path() / "volt_lightning_cli_test" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

CLI::Values defaults(const std::filesystem::path& root) {
  return {.seed_everything = 42,
          .trainer = {.max_epochs = 2, .enable_progress_bar = false, .enable_model_summary = false,
                      .default_root_dir = root},
          .model = {.lr = 0.05, .hidden = 8},
          .data = {.batch_size = 4, .size = 16},
          .callbacks = {volt::EarlyStopping::Options{.monitor = "val_loss", .patience = 5}}};
}

using volt_test::error_of;

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("cli: in the separately compiled mode <volt/cli/lightning_cli.hpp> does not include yaml-cpp",
          "[cli][lightning_cli]") {
  STATIC_REQUIRE_FALSE(cli_header_includes_yaml_cpp);
}

TEST_CASE("cli: --help lists every generated option with its default", "[cli][lightning_cli]") {
  const CLI cli(defaults("help"), {.description = "Regression.", .default_subcommand = volt::cli::Subcommand::fit});
  const auto parsed = cli.parse({"fit", "--help"});
  REQUIRE(parsed.output);
  const std::string& help = *parsed.output;
  CHECK(help.find("Regression.") != std::string::npos);
  CHECK(help.find("subcommands: fit, validate, test, predict (default: fit)") != std::string::npos);
  CHECK(help.find("--config FILE") != std::string::npos);
  CHECK(help.find("--print_config") != std::string::npos);
  auto values = cli.defaults();
  const auto config = CLI::config_of(values);
  REQUIRE(config.options().size() > 40);
  for (const auto& o : config.options()) {
    INFO(o.key);
    CHECK(help.find(fmt::format("  --{} {}  (default: {})", o.key, o.type, o.value)) != std::string::npos);
  }
  CHECK(help.find("  --seed_everything bool | int  (default: 42)") != std::string::npos);
  CHECK(help.find("  --trainer.max_epochs int | null  (default: 2)") != std::string::npos);
  CHECK(help.find("  --model.lr float  (default: 0.05)") != std::string::npos);
  CHECK(help.find("  --data.batch_size int  (default: 4)") != std::string::npos);
  CHECK(help.find("  --early_stopping.monitor str  (default: val_loss)") != std::string::npos);
  CHECK(help.find("  --ckpt_path str | null  (default: null)") != std::string::npos);
  CHECK(cli.parse({"--help"}).output == help);  // the default subcommand's options
}

TEST_CASE("cli: fit --print_config, then --config of its output, prints the same bytes", "[cli][lightning_cli]") {
  const CLI cli(defaults(fresh_dir("print").string()));
  const auto first = cli.parse({"fit", "--trainer.max_epochs", "3", "--model.lr=0.5", "--trainer.limit_val_batches",
                                "0.5", "--early_stopping.mode", "max", "--print_config"});
  REQUIRE(first.output);
  CHECK(first.output->find("seed_everything: 42\ntrainer:\n") == 0);
  CHECK(first.output->find("  max_epochs: 3\n") != std::string::npos);
  CHECK(first.output->find("model:\n  lr: 0.5\n  hidden: 8\ndata:\n  batch_size: 4\n  size: 16\nearly_stopping:\n  "
                           "monitor: val_loss\n") != std::string::npos);
  CHECK(first.output->ends_with("ckpt_path: null\n"));
  const auto file = fresh_dir("print") / "c.yaml";
  std::ofstream(file) << *first.output;
  const auto second = cli.parse({"fit", "--config", file.string(), "--print_config"});
  REQUIRE(second.output);
  CHECK(*second.output == *first.output);
}

TEST_CASE("cli: precedence through the command line: defaults < files < environment < flags", "[cli][lightning_cli]") {
  const auto dir = fresh_dir("precedence");
  std::ofstream(dir / "a.yaml") << "trainer:\n  max_epochs: 5\n  max_steps: 50\nmodel:\n  hidden: 5\n";
  std::ofstream(dir / "b.json") << R"({"trainer": {"max_steps": 60, "min_steps": 6}, "data": {"size": 24}})";
  const CLI cli(defaults(dir));
  const auto parsed = cli.parse({"fit", "--trainer.min_steps", "8", "--config", (dir / "a.yaml").string(), "--config",
                                 (dir / "b.json").string()},
                                {{"VOLT_TRAINER__MIN_STEPS", "7"}, {"VOLT_DATA__SIZE", "32"}, {"VOLT_MODEL__LR", "0.25"}});
  const auto& v = parsed.values;
  CHECK(*v.trainer.max_epochs == 5);     // file over default
  CHECK(v.trainer.max_steps == 60);      // later file over earlier file
  CHECK(v.data.size == 32);              // environment over file
  CHECK(v.model.lr == 0.25);             // environment over default
  CHECK(v.trainer.min_steps == 8);       // flag over environment and file, wherever it stands
  CHECK(v.model.hidden == 5);
  CHECK(v.data.batch_size == 4);         // default
  // default_env off: the environment is not read.
  const CLI no_env(defaults(dir), {.default_env = false});
  CHECK(no_env.parse({"fit"}, {{"VOLT_DATA__SIZE", "32"}}).values.data.size == 16);
}

TEST_CASE("cli: command-line errors stop before anything runs", "[cli][lightning_cli]") {
  const auto dir = fresh_dir("errors");
  const CLI cli(defaults(dir / "root"));
  CHECK(error_of([&] { (void)cli.parse({"fitt"}); }) ==
        "volt: cli: unknown subcommand \"fitt\"; the closest is \"fit\" (choose one of fit, validate, test, predict).");
  CHECK(error_of([&] { (void)cli.parse({}); }) ==
        "volt: cli: give a subcommand: fit, validate, test or predict (--help lists the options).");
  CHECK(error_of([&] { (void)cli.parse({"fit", "--trainer.max_epoch", "3"}); }) ==
        "volt: cli: command line --trainer.max_epoch: unknown key \"trainer.max_epoch\"; the closest valid key is "
        "\"trainer.max_epochs\" (--help lists all).");
  CHECK(error_of([&] { (void)cli.parse({"fit", "--model.lr"}); }) == "volt: cli: command line: --model.lr needs a value.");
  CHECK(error_of([&] { (void)cli.parse({"fit", "--config", (dir / "missing.yaml").string()}); })
            .find("missing.yaml: the file cannot be read.") != std::string::npos);
  std::ofstream(dir / "broken.yaml") << "trainer:\n  max_epochs: [3\n";
  CHECK(error_of([&] { (void)cli.parse({"fit", "--config", (dir / "broken.yaml").string()}); })
            .find("broken.yaml:3: not valid YAML or JSON") != std::string::npos);
  // A value the options reject is reported with where it was set, before anything is written.
  auto parsed = cli.parse({"fit", "--trainer.max_epochs", "-5"});
  CHECK(error_of([&] { (void)cli.execute(parsed); }) ==
        "volt: TrainerOptions::max_epochs=-5 is invalid: use a number >= 0, or -1 for no limit. (--trainer.max_epochs "
        "was set by command line --trainer.max_epochs)");
  std::ofstream(dir / "range.yaml") << "trainer:\n  limit_train_batches: 1.5\n";
  auto from_file = cli.parse({"fit", "--config", (dir / "range.yaml").string()});
  CHECK(error_of([&] { (void)cli.execute(from_file); }) ==
        fmt::format("volt: TrainerOptions::limit_train_batches=1.5 is invalid: a fraction must be in [0.0, 1.0]; an "
                    "integer is a number of batches. (--trainer.limit_train_batches was set by {}:2)",
                    (dir / "range.yaml").string()));
  CHECK_FALSE(std::filesystem::exists(dir / "root"));
  // run(): status 2 and a message, nothing run.
  std::vector<std::string> words{"prog", "fit", "--data.sise", "3"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  CHECK(cli.run(static_cast<int>(argv.size()), argv.data()) == 2);
  CHECK_FALSE(std::filesystem::exists(dir / "root"));
}

TEST_CASE("cli: fit runs, saves config.yaml in the log folder, and refuses to overwrite another run's",
          "[cli][lightning_cli]") {
  const auto dir = fresh_dir("fit");
  const CLI cli(defaults(dir));
  auto parsed = cli.parse({"fit", "--trainer.max_epochs", "1", "--model.lr", "0.01"});
  bool after_ran = false;
  const auto outcome = cli.execute(parsed, [&](const volt::cli::Outcome& o, Trainer& trainer, Regressor& model, Data&) {
    after_ran = true;
    CHECK(o.subcommand == volt::cli::Subcommand::fit);
    CHECK(trainer.current_epoch() == 1);
    CHECK(model.hp.lr == 0.01);
  });
  CHECK(after_ran);
  CHECK(outcome.fit.status == volt::FitStatus::finished);
  const auto saved = dir / "lightning_logs" / "version_0" / "config.yaml";
  CHECK(outcome.config_path == saved);
  REQUIRE(std::filesystem::exists(saved));
  CHECK(std::filesystem::exists(dir / "lightning_logs" / "version_0" / "metrics.csv"));  // the logger's own folder
  auto again = cli.parse({"fit", "--trainer.max_epochs", "1", "--model.lr", "0.01", "--print_config"});
  CHECK(read(saved) == *again.output);

  // Without a logger the log folder is default_root_dir: a second run there would replace the file.
  auto first = cli.parse({"fit", "--trainer.logger", "false", "--trainer.max_epochs", "1"});
  (void)cli.execute(first);
  REQUIRE(std::filesystem::exists(dir / "config.yaml"));
  auto second = cli.parse({"fit", "--trainer.logger", "false", "--trainer.max_epochs", "1"});
  CHECK(error_of([&] { (void)cli.execute(second); }) ==
        fmt::format("volt: cli: {} already exists: another run wrote it. Aborting to avoid overwriting its results; "
                    "use another log folder (--trainer.default_root_dir), delete the file, or set "
                    "Settings.overwrite_config.",
                    (dir / "config.yaml").string()));
  const CLI overwriting(defaults(dir), {.overwrite_config = true});
  auto third = overwriting.parse({"fit", "--trainer.logger", "false", "--trainer.max_epochs", "1"});
  CHECK(overwriting.execute(third).config_path == dir / "config.yaml");
}

TEST_CASE("cli: seed_everything true picks a seed that the saved config records", "[cli][lightning_cli]") {
  const auto dir = fresh_dir("seed");
  const CLI cli(defaults(dir));
  auto parsed = cli.parse({"fit", "--seed_everything", "true", "--trainer.max_epochs", "1", "--trainer.logger", "false"});
  (void)cli.execute(parsed);
  REQUIRE(std::holds_alternative<std::int64_t>(parsed.values.seed_everything.value));
  CHECK(read(dir / "config.yaml")
            .starts_with(fmt::format("seed_everything: {}\n", std::get<std::int64_t>(parsed.values.seed_everything.value))));
}

TEST_CASE("cli: test --ckpt_path loads the checkpoint's weights", "[cli][lightning_cli]") {
  const auto dir = fresh_dir("ckpt");
  const CLI cli(defaults(dir));
  auto fit = cli.parse({"fit", "--trainer.max_epochs", "2"});
  torch::Tensor fitted;
  (void)cli.execute(fit, [&](const auto&, Trainer&, Regressor& model, Data&) { fitted = model.fc->weight.detach().clone(); });
  const auto last = dir / "lightning_logs" / "version_0" / "checkpoints" / "epoch=1-step=8.ckpt";  // the logger's version
  REQUIRE(std::filesystem::exists(last));
  auto test = cli.parse({"test", "--ckpt_path", last.string()});
  const auto outcome = cli.execute(test, [&](const auto&, Trainer&, Regressor& model, Data&) {
    CHECK(torch::equal(model.fc->weight, fitted));
  });
  CHECK(outcome.subcommand == volt::cli::Subcommand::test);
  CHECK(outcome.metrics.contains("test_loss"));
  CHECK(CLI::can_validate);
  CHECK_FALSE(CLI::can_predict);
  auto predict = cli.parse({"predict"});
  CHECK(error_of([&] { (void)cli.execute(predict); }) ==
        "volt: cli: this program cannot predict: its Module or DataModule lacks the predict step or loader.");
}

TEST_CASE("cli: --optimizer picks one of a compile-time list of option structs", "[cli][lightning_cli]") {
  using ChoiceCLI = volt::cli::LightningCLI<Trainer, OptimizerChoice>;
  const auto dir = fresh_dir("optimizer");
  auto d = ChoiceCLI::Values{.trainer = {.logger = false, .max_epochs = 1, .enable_progress_bar = false,
                                        .enable_model_summary = false, .default_root_dir = dir},
                             .model = {.lr = 0.05, .hidden = 8},
                             .data = {.batch_size = 4, .size = 8},
                             .callbacks = {volt::EarlyStopping::Options{.monitor = "val_loss"}},
                             .optimizer = SGDChoice{.lr = 0.1, .momentum = 0.0}};
  const ChoiceCLI cli(d);
  auto parsed = cli.parse({"fit", "--optimizer", "Adam", "--optimizer.lr", "1e-3"});
  REQUIRE(std::holds_alternative<AdamChoice>(parsed.values.optimizer));
  CHECK(std::get<AdamChoice>(parsed.values.optimizer).lr == 1e-3);
  (void)cli.execute(parsed, [&](const auto&, Trainer&, Regressor& model, Data&) {
    CHECK(std::get<AdamChoice>(model.optimizer).lr == 1e-3);  // handed to Module(hp, optimizer)
  });
  CHECK(read(dir / "config.yaml").find("optimizer:\n  class_path: Adam\n  init_args:\n    lr: 0.001\n") != std::string::npos);
  CHECK(error_of([&] { (void)cli.parse({"fit", "--optimizer", "AdamW"}); }) ==
        "volt: cli: command line --optimizer: key \"optimizer\": \"AdamW\" is not one of the choices: SGD, Adam.");
  const auto help = *cli.parse({"fit", "--help"}).output;
  CHECK(help.find("  --optimizer SGD, Adam  (default: SGD)  [the choice]") != std::string::npos);
  CHECK(help.find("  --optimizer.momentum float  (default: 0.0)  [of SGD]") != std::string::npos);
}

TEST_CASE("cli: older flags map to the generated ones", "[cli][lightning_cli]") {
  const CLI cli(defaults("aliases"), {.default_subcommand = volt::cli::Subcommand::fit,
                                      .aliases = {{"--epochs", "--trainer.max_epochs"},
                                                  {"--seed", "--seed_everything --data.size"},
                                                  {"--resume", "--ckpt_path=last"}}});
  const auto parsed = cli.parse({"--epochs", "9", "--seed=12", "--resume"});
  CHECK(parsed.subcommand == volt::cli::Subcommand::fit);
  CHECK(*parsed.values.trainer.max_epochs == 9);
  CHECK(std::get<std::int64_t>(parsed.values.seed_everything.value) == 12);
  CHECK(parsed.values.data.size == 12);
  CHECK(parsed.values.ckpt_path == "last");
  CHECK(cli.parse({"fit", "--help"}).output->find("older flags:\n  --epochs is --trainer.max_epochs\n") !=
        std::string::npos);
}

TEST_CASE("cli: config.yaml is written on global rank 0 only", "[cli][lightning_cli]") {
  const auto dir = fresh_dir("rank");
  const CLI cli(defaults(dir));
  ::setenv("RANK", "1", 1);
  auto parsed = cli.parse({"fit", "--trainer.logger", "false", "--trainer.max_epochs", "1"});
  const auto outcome = cli.execute(parsed);
  ::unsetenv("RANK");
  CHECK(outcome.config_path.empty());
  CHECK_FALSE(std::filesystem::exists(dir / "config.yaml"));
}
