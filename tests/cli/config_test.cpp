// cli/config.hpp and cli/value.hpp: keys from reflected structs, YAML / JSON files, environment,
// flags, their precedence, the YAML written back, and every error with its message.
#include <catch2/catch.hpp>

#include "error_of.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <variant>

#include <boost/hana/define_struct.hpp>
#include <yaml-cpp/yaml.h>

#include <volt/cli/config.hpp>
#include <volt/cli/options_reflection.hpp>

namespace {

struct Inner {
  BOOST_HANA_DEFINE_STRUCT(Inner, (double, dropout), (std::int64_t, layers));
};
struct ModelHP {
  BOOST_HANA_DEFINE_STRUCT(ModelHP, (double, lr), (std::int64_t, hidden), (std::string, name),
                           (std::optional<double>, decay), (volt::Mode, mode), (Inner, inner),
                           (std::uint8_t, small));
};
struct Adam {
  static constexpr std::string_view cli_name = "Adam";
  BOOST_HANA_DEFINE_STRUCT(Adam, (double, lr), (double, beta1));
};
struct SGD {
  static constexpr std::string_view cli_name = "SGD";
  BOOST_HANA_DEFINE_STRUCT(SGD, (double, lr), (double, momentum));
};
using Optimizer = std::variant<Adam, SGD>;

struct All {
  volt::cli::SeedEverything seed{};
  volt::TrainerOptions trainer{.max_epochs = 5};
  ModelHP model{.lr = 1e-3, .hidden = 128, .name = "cnn", .decay = std::nullopt, .mode = volt::Mode::min,
                .inner = {.dropout = 0.25, .layers = 2}, .small = 3};
  volt::ModelCheckpoint::Options checkpoint{.monitor = "val_acc", .mode = volt::Mode::max};
  Optimizer optimizer = Adam{.lr = 1e-3, .beta1 = 0.9};
  std::optional<std::string> ckpt_path{};

  auto config() {
    using volt::cli::Named;
    return volt::cli::Config(Named<volt::cli::SeedEverything>{"seed_everything", seed},
                             Named<volt::TrainerOptions>{"trainer", trainer}, Named<ModelHP>{"model", model},
                             Named<volt::ModelCheckpoint::Options>{"model_checkpoint", checkpoint},
                             Named<Optimizer>{"optimizer", optimizer},
                             Named<std::optional<std::string>>{"ckpt_path", ckpt_path});
  }
};

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  // Under the process's own working directory (tests/main.cpp), removed when the process ends:
  // ctest runs test cases at once, and two may write the same file name.
  const auto dir = std::filesystem::current_path() / "volt_cli_config_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}

void apply_file(auto& config, const std::string& name, const std::string& text) {
  const auto path = write_file(name, text);
  config.apply_file(YAML::LoadFile(path.string()), path.string());
}

// The message of the cli::Error `f` throws (fails the test when it throws none).
using volt_test::error_of;

}  // namespace

TEST_CASE("cli: every reflected field is an option with its default", "[cli][config]") {
  All all;
  auto config = all.config();
  const auto& options = config.options();
  auto find = [&](const std::string& key) -> const volt::cli::OptionInfo& {
    for (const auto& o : options)
      if (o.key == key) return o;
    FAIL("no option " << key);
    return options.front();
  };
  CHECK(find("seed_everything").value == "true");
  CHECK(find("trainer.max_epochs").value == "5");
  CHECK(find("trainer.max_epochs").type == "int | null");
  CHECK(find("trainer.limit_train_batches").value == "1.0");
  CHECK(find("trainer.gradient_clip_algorithm").value == "norm");
  CHECK(find("trainer.default_root_dir").value == ".");
  CHECK(find("model.lr").value == "0.001");
  CHECK(find("model.inner.dropout").value == "0.25");
  CHECK(find("model.mode").type == "min|max");
  CHECK(find("model_checkpoint.monitor").value == "val_acc");
  CHECK(find("optimizer").value == "Adam");
  CHECK(find("optimizer.lr").note == "of Adam, SGD");
  CHECK(find("optimizer.momentum").note == "of SGD");
  CHECK(find("ckpt_path").value == "null");
  // TrainerOptions: all 28 flags.
  CHECK(std::count_if(options.begin(), options.end(), [](const auto& o) { return o.key.starts_with("trainer."); }) == 28);
}

TEST_CASE("cli: the YAML written reads back to the same YAML", "[cli][config]") {
  All a;
  a.trainer.limit_val_batches = 10;
  a.trainer.max_time = std::chrono::hours(25) + std::chrono::seconds(7);
  a.model.name = "yes";  // would read as a bool unquoted
  a.model.decay = 1e-5;
  a.optimizer = SGD{.lr = 0.1, .momentum = 0.9};
  a.ckpt_path = "it's: here";
  auto first = a.config().yaml();
  CHECK(first.find("seed_everything: true\ntrainer:\n  logger: null\n  fast_dev_run: false\n  max_epochs: 5\n") == 0);
  CHECK(first.find("  limit_val_batches: 10\n") != std::string::npos);
  CHECK(first.find("  max_time: '01:01:00:07'\n") != std::string::npos);
  CHECK(first.find("  name: 'yes'\n") != std::string::npos);
  CHECK(first.find("  decay: 1.0e-05\n") != std::string::npos);
  CHECK(first.find("  inner:\n    dropout: 0.25\n    layers: 2\n") != std::string::npos);
  CHECK(first.find("optimizer:\n  class_path: SGD\n  init_args:\n    lr: 0.1\n    momentum: 0.9\n") != std::string::npos);
  CHECK(first.find("ckpt_path: 'it''s: here'\n") != std::string::npos);

  All b;
  auto config = b.config();
  apply_file(config, "round_trip.yaml", first);
  CHECK(config.yaml() == first);
  CHECK(b.trainer.limit_val_batches.count() == 10);
  CHECK_FALSE(b.trainer.limit_val_batches.is_fraction());
  CHECK(b.model.name == "yes");
  CHECK(std::get<SGD>(b.optimizer).momentum == 0.9);
}

TEST_CASE("cli: precedence is defaults < files < environment < flags", "[cli][config]") {
  All all;
  auto config = all.config();
  apply_file(config, "first.yaml", "trainer:\n  max_epochs: 7\n  max_steps: 70\n  min_steps: 7\nmodel:\n  hidden: 7\n");
  apply_file(config, "second.yaml", "trainer:\n  max_steps: 80\n  min_steps: 8\n");
  CHECK(*all.trainer.max_epochs == 7);
  CHECK(all.trainer.max_steps == 80);  // the later file wins
  config.apply_env({{"VOLT_TRAINER__MIN_STEPS", "9"}, {"VOLT_MODEL__INNER__LAYERS", "4"}, {"VOLT_OTHER", "x"}}, "VOLT");
  CHECK(all.trainer.min_steps == 9);  // environment over files
  CHECK(all.model.inner.layers == 4);
  config.apply_text("trainer.min_steps", "10", {"command line --trainer.min_steps"});
  CHECK(all.trainer.min_steps == 10);  // flags over the environment
  CHECK(all.model.hidden == 7);       // untouched by later layers
  CHECK(all.model.lr == 1e-3);        // a default nobody set
  CHECK(config.provenance().at("trainer.max_steps").find("second.yaml:2") != std::string::npos);
  CHECK(config.provenance().at("trainer.min_steps") == "command line --trainer.min_steps");
}

TEST_CASE("cli: a config in LightningCLI's layout is read", "[cli][config]") {
  // As `python main.py fit --print_config` writes it (Lightning 2.x / jsonargparse) for these fields.
  const std::string lightning = R"(# lightning.pytorch==2.0.9
seed_everything: 1234
trainer:
  logger: true
  fast_dev_run: false
  max_epochs: 3
  min_epochs: null
  max_steps: -1
  max_time: 00:12:00:00
  limit_train_batches: 0.5
  limit_val_batches: 20
  val_check_interval: 0.25
  num_sanity_val_steps: 2
  log_every_n_steps: null
  enable_checkpointing: null
  accumulate_grad_batches: 2
  gradient_clip_val: 1.0
  gradient_clip_algorithm: value
  deterministic: false
  default_root_dir: runs/exp1
model:
  lr: 0.01
  hidden: 64
  name: mlp
  decay: null
  mode: max
model_checkpoint:
  monitor: val_loss
  save_top_k: 3
  mode: min
  every_n_epochs: 1
optimizer:
  class_path: torch.optim.SGD
  init_args:
    lr: 0.05
    momentum: 0.9
ckpt_path: null
)";
  All all;
  auto config = all.config();
  // min_epochs: null is Lightning's default; volt's is the number 0, so that key is left out here.
  std::string text = lightning;
  text.erase(text.find("  min_epochs: null\n"), std::string("  min_epochs: null\n").size());
  apply_file(config, "lightning.yaml", text);
  CHECK(std::get<std::int64_t>(all.seed.value) == 1234);
  CHECK(all.trainer.logger == true);
  CHECK(*all.trainer.max_epochs == 3);
  CHECK(all.trainer.max_time->count() == 12 * 3600.0);
  CHECK(all.trainer.limit_train_batches.is_fraction());
  CHECK(all.trainer.limit_train_batches.fraction() == 0.5);
  CHECK(all.trainer.limit_val_batches.count() == 20);
  CHECK(all.trainer.accumulate_grad_batches == 2);
  CHECK(*all.trainer.gradient_clip_val == 1.0);
  CHECK(all.trainer.gradient_clip_algorithm == volt::GradClipAlgorithm::value);
  CHECK(all.trainer.default_root_dir == "runs/exp1");
  CHECK(all.model.lr == 0.01);
  CHECK(all.model.mode == volt::Mode::max);
  CHECK(all.checkpoint.save_top_k == 3);
  CHECK(*all.checkpoint.monitor == "val_loss");
  CHECK(std::get<SGD>(all.optimizer).lr == 0.05);
  CHECK_FALSE(all.ckpt_path);
}

TEST_CASE("cli: JSON config files are read", "[cli][config]") {
  All all;
  auto config = all.config();
  apply_file(config, "c.json", R"({"trainer": {"max_epochs": 2, "limit_train_batches": 0.25},
  "model": {"name": "json", "inner": {"layers": 3}}, "optimizer": {"class_path": "SGD", "init_args": {"momentum": 0.5}}})");
  CHECK(*all.trainer.max_epochs == 2);
  CHECK(all.trainer.limit_train_batches.fraction() == 0.25);
  CHECK(all.model.name == "json");
  CHECK(all.model.inner.layers == 3);
  CHECK(std::get<SGD>(all.optimizer).momentum == 0.5);
}

TEST_CASE("cli: a variant picks its alternative by name", "[cli][config]") {
  All all;
  auto config = all.config();
  config.apply_text("optimizer.lr", "0.5", {"command line --optimizer.lr"});
  CHECK(std::get<Adam>(all.optimizer).lr == 0.5);
  config.apply_text("optimizer", "SGD", {"command line --optimizer"});
  config.apply_text("optimizer.momentum", "0.8", {"command line --optimizer.momentum"});
  CHECK(std::get<SGD>(all.optimizer).momentum == 0.8);
  CHECK(error_of([&] { config.apply_text("optimizer", "Adamw", {"command line --optimizer"}); }) ==
        "volt: cli: command line --optimizer: key \"optimizer\": \"Adamw\" is not one of the choices: Adam, SGD.");
  config.apply_text("optimizer", "Adam", {"command line --optimizer"});
  CHECK(error_of([&] { config.apply_text("optimizer.momentum", "0.1", {"command line --optimizer.momentum"}); })
            .find("key \"optimizer.momentum\" is not an option of Adam, the chosen optimizer") != std::string::npos);
}

TEST_CASE("cli: errors name the key, the file and line, and the closest valid key", "[cli][config]") {
  All all;
  auto config = all.config();
  const auto unknown = write_file("unknown.yaml", "trainer:\n  max_epochs: 3\n  max_epoch: 4\n");
  CHECK(error_of([&] { config.apply_file(YAML::LoadFile(unknown.string()), unknown.string()); }) ==
        "volt: cli: " + unknown.string() +
            ":3: unknown key \"trainer.max_epoch\"; the closest valid key is \"trainer.max_epochs\" (--help lists all).");
  const auto group = write_file("group.yaml", "trainr:\n  max_epochs: 3\n");
  CHECK(error_of([&] { config.apply_file(YAML::LoadFile(group.string()), group.string()); })
            .find(":1: unknown key \"trainr\"; the closest valid key is \"trainer") != std::string::npos);
  const auto type = write_file("type.yaml", "model:\n  lr: fast\n");
  CHECK(error_of([&] { config.apply_file(YAML::LoadFile(type.string()), type.string()); }) ==
        "volt: cli: " + type.string() + ":2: key \"model.lr\": expected a floating-point number, got \"fast\".");
  const auto quoted = write_file("quoted.yaml", "trainer:\n\n  max_epochs: '3'\n");
  CHECK(error_of([&] { config.apply_file(YAML::LoadFile(quoted.string()), quoted.string()); }) ==
        "volt: cli: " + quoted.string() + ":3: key \"trainer.max_epochs\": expected an integer, got \"3\".");
  const auto range = write_file("range.yaml", "model:\n  small: 300\n");
  CHECK(error_of([&] { config.apply_file(YAML::LoadFile(range.string()), range.string()); }) ==
        "volt: cli: " + range.string() + ":2: key \"model.small\": \"300\" is out of range; use an integer in [0, 255].");
  const auto huge = write_file("huge.yaml", "trainer:\n  max_steps: 99999999999999999999\n");
  CHECK(error_of([&] { config.apply_file(YAML::LoadFile(huge.string()), huge.string()); })
            .find(":2: key \"trainer.max_steps\": \"99999999999999999999\" is out of range") != std::string::npos);
  CHECK(error_of([&] { config.apply_text("model.mode", "maximum", {"command line --model.mode"}); }) ==
        "volt: cli: command line --model.mode: key \"model.mode\": expected one of min, max, got \"maximum\".");
  CHECK(error_of([&] { config.apply_text("trainer.limit_val_batche", "3", {"command line --trainer.limit_val_batche"}); })
            .find("unknown key \"trainer.limit_val_batche\"; the closest valid key is \"trainer.limit_val_batches\"") !=
        std::string::npos);
  CHECK(error_of([&] { config.apply_env({{"VOLT_TRAINER__MAX_EPOCH", "3"}}, "VOLT"); }) ==
        "volt: cli: environment variable VOLT_TRAINER__MAX_EPOCH names no option; the closest valid one is "
        "VOLT_TRAINER__MAX_EPOCHS.");
  CHECK(error_of([&] { config.apply_env({{"VOLT_TRAINER__MAX_EPOCHS", "three"}}, "VOLT"); }) ==
        "volt: cli: environment variable VOLT_TRAINER__MAX_EPOCHS: key \"trainer.max_epochs\": expected an integer, "
        "got \"three\".");
}

TEST_CASE("cli: command-line values are YAML; strings and paths are taken as they are", "[cli][config]") {
  All all;
  auto config = all.config();
  config.apply_text("trainer.max_epochs", "null", {});
  CHECK_FALSE(all.trainer.max_epochs);
  config.apply_text("trainer.fast_dev_run", "3", {});
  CHECK(all.trainer.fast_dev_run.batches() == 3);
  config.apply_text("trainer.fast_dev_run", "true", {});
  CHECK(all.trainer.fast_dev_run.batches() == 1);
  config.apply_text("trainer.val_check_interval", "0.5", {});
  CHECK(all.trainer.val_check_interval.is_fraction());
  config.apply_text("trainer.max_time", "90.5", {});
  CHECK(all.trainer.max_time->count() == 90.5);
  config.apply_text("model.name", "true", {});
  CHECK(all.model.name == "true");
  config.apply_text("model.inner", "{dropout: 0.5}", {});
  CHECK(all.model.inner.dropout == 0.5);
  config.apply_text("ckpt_path", "last", {});
  CHECK(all.ckpt_path == "last");
  config.apply_text("seed_everything", "7", {});
  CHECK(std::get<std::int64_t>(all.seed.value) == 7);
}

TEST_CASE("cli: volt's callback and logger options are reflected from outside and stay aggregates", "[cli][config]") {
  volt::Timer::Options timer{.interval = volt::Timer::Interval::epoch};  // designated initializers still work
  volt::OnExceptionCheckpoint::Options on_exception{.dirpath = "ckpt"};
  volt::loggers::CSVLoggerOptions csv{.save_dir = "logs"};
  volt::data::FashionMNISTOptions data{.batch_size = 32};
  using volt::cli::Named;
  volt::cli::Config config(Named<volt::Timer::Options>{"timer", timer},
                           Named<volt::OnExceptionCheckpoint::Options>{"on_exception_checkpoint", on_exception},
                           Named<volt::loggers::CSVLoggerOptions>{"csv_logger", csv},
                           Named<volt::data::FashionMNISTOptions>{"data", data});
  config.apply_text("timer.duration", "00:01:30:00", {});
  config.apply_text("timer.interval", "step", {});
  config.apply_text("csv_logger.version", "3", {});
  config.apply_text("data.seed", "7", {});
  CHECK(timer.duration->count() == 5400.0);
  CHECK(timer.interval == volt::Timer::Interval::step);
  CHECK(*csv.version == 3);
  CHECK(data.seed == 7u);
  CHECK(config.yaml() ==
        "timer:\n  duration: '00:01:30:00'\n  interval: step\n  verbose: true\n"
        "on_exception_checkpoint:\n  dirpath: ckpt\n  filename: on_exception\n"
        "csv_logger:\n  save_dir: logs\n  name: lightning_logs\n  version: 3\n  flush_logs_every_n_steps: 100\n"
        "data:\n  root: /usr/share/datasets/fashion-mnist\n  batch_size: 32\n  eval_batch_size: 0\n  val_size: 5000\n  "
        "seed: 7\n");
}
