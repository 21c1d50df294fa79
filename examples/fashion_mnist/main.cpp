// The main job: train a small CNN on FashionMNIST with volt, print per-epoch train loss,
// validation loss and accuracy, then the test accuracy as `test_acc=<fraction>`.
#include <chrono>
#include <filesystem>
#include <optional>
#include <cstdint>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/cli/lightning_cli.hpp>
#include <volt/data/fashion_mnist.hpp>
#include <volt/volt.hpp>

namespace {

// Reflected with Boost.Hana so the loggers record every field (hparams.yaml, TensorBoard) without
// naming them twice.
struct HParams {
  BOOST_HANA_DEFINE_STRUCT(HParams,
                           (double, lr),
                           (std::int64_t, channels),
                           (std::int64_t, hidden));
};

// conv(1->c) -> pool -> conv(c->2c) -> pool -> fc(hidden) -> fc(10); Adam with a per-epoch
// step decay of the learning rate.
struct FashionCNN : torch::nn::Module {
  HParams hp;
  torch::nn::Sequential net;

  explicit FashionCNN(HParams h) : hp(h) {
    using namespace torch::nn;
    const auto c = hp.channels;
    net = register_module(
        "net", Sequential(Conv2d(Conv2dOptions(1, c, 3).padding(1)), BatchNorm2d(c), ReLU(), MaxPool2d(2),
                          Conv2d(Conv2dOptions(c, 2 * c, 3).padding(1)), BatchNorm2d(2 * c), ReLU(), MaxPool2d(2),
                          Flatten(), Dropout(0.25), Linear(2 * c * 7 * 7, hp.hidden), ReLU(), Dropout(0.25),
                          Linear(hp.hidden, 10)));
  }

  torch::Tensor forward(const torch::Tensor& x) { return net->forward(x); }

  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto loss = torch::nn::functional::cross_entropy(forward(batch.data), batch.target);
    ctx.log("train_loss", loss, {.on_step = false, .on_epoch = true});
    return loss;
  }

  void validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto logits = forward(batch.data);
    ctx.log("val_loss", torch::nn::functional::cross_entropy(logits, batch.target));
    ctx.log("val_acc", logits.argmax(1).eq(batch.target).to(torch::kFloat32).mean());
  }

  void test_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto logits = forward(batch.data);
    ctx.log("test_acc", logits.argmax(1).eq(batch.target).to(torch::kFloat32).mean());
  }

  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::Adam(parameters(), torch::optim::AdamOptions(hp.lr)),
                                volt::optim::StepLR{{.step_size = 1, .gamma = 0.6}}, {.interval = volt::Interval::epoch});
  }

  // After validation, as in Lightning 2.x: the epoch's train and val metrics are all there.
  void on_train_epoch_end(volt::Context& ctx) {
    const auto m = ctx.callback_metrics();
    std::cout << fmt::format("epoch {}: train_loss={:.4f} val_loss={:.4f} val_acc={:.4f}", ctx.current_epoch(),
                             m.at("train_loss"), m.at("val_loss"), m.at("val_acc"))
              << std::endl;
  }
};

}  // namespace

// Options (`--help` lists them all, with defaults): `fit` (the default subcommand), `validate`,
// `test`, `predict`; --trainer.*, --model.*, --data.*, --model_checkpoint.*, --csv_logger.*,
// --tensorboard_logger.*, --config c.yaml, --print_config. The flags of earlier versions still
// work: --epochs, --lr, --channels, --hidden, --batch-size, --data-dir, --seed, --root-dir,
// --resume, --threads. --precision picks the Trainer's precision policy at run time
// (precision::Runtime, Lightning's precision="..."): 32-true (default), 64-true, bf16-mixed,
// bf16-true, and on CUDA 16-mixed, 16-true. One Trainer type serves all six, so the Trainer, its
// loops and the CLI are compiled once, not once per policy.
int run(std::vector<char*>& args, std::chrono::steady_clock::time_point start, volt::precision::Runtime precision) {
  // The best checkpoint by validation accuracy, plus last.ckpt to resume from (in
  // <default_root_dir>/checkpoints); CSV logs (with report.html beside metrics.csv) and
  // TensorBoard event files; config.yaml beside them.
  using Trainer = volt::Trainer<FashionCNN, volt::data::FashionMNIST, volt::SingleDevice, volt::precision::Runtime,
                                volt::ModelCheckpoint, volt::loggers::CSVLogger, volt::loggers::TensorBoardLogger>;
  const std::string root_dir = "fashion_mnist_runs";
  const volt::cli::LightningCLI<Trainer> cli(
      {.seed_everything = 42,
       .trainer = {.max_epochs = 5, .default_root_dir = root_dir},
       .model = {.lr = 2e-3, .channels = 32, .hidden = 128},
       .data = {},
       .callbacks = {volt::ModelCheckpoint::Options{.filename = "{epoch}-{val_acc:.4f}",
                                                    .monitor = "val_acc",
                                                    .save_last = true,
                                                    .mode = volt::Mode::max},
                     volt::loggers::CSVLoggerOptions{.save_dir = root_dir},
                     volt::loggers::TensorBoardLoggerOptions{.save_dir = root_dir}}},
      {.description = "Train a small CNN on FashionMNIST with volt.",
       .default_subcommand = volt::cli::Subcommand::fit,
       .aliases = {{"--epochs", "--trainer.max_epochs"},
                   {"--lr", "--model.lr"},
                   {"--channels", "--model.channels"},
                   {"--hidden", "--model.hidden"},
                   {"--batch-size", "--data.batch_size"},
                   {"--data-dir", "--data.root"},
                   {"--seed", "--seed_everything --data.seed"},
                   {"--root-dir", "--trainer.default_root_dir --csv_logger.save_dir --tensorboard_logger.save_dir"},
                   {"--resume", "--ckpt_path=last"}}},
      std::move(precision));

  return cli.run(static_cast<int>(args.size()), args.data(),
                 [&](const volt::cli::Outcome& outcome, Trainer& trainer, FashionCNN& model,
                     volt::data::FashionMNIST& data) {
                   if (outcome.subcommand != volt::cli::Subcommand::fit) {
                     for (const auto& [name, value] : outcome.metrics)
                       std::cout << fmt::format("{}={:.4f}", name, value) << std::endl;
                     return;
                   }
                   if (outcome.fit.status == volt::FitStatus::preempted) {
                     std::cout << "preempted; resume with --resume (checkpoint " << outcome.fit.checkpoint << ")"
                               << std::endl;
                     return;
                   }
                   const auto& checkpoint = std::get<volt::ModelCheckpoint>(trainer.callbacks());
                   std::cout << "best checkpoint: " << checkpoint.best_model_path() << std::endl;
                   const auto test = trainer.test(model, data);

                   const double seconds =
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                   std::cout << fmt::format("wall_time_s={:.1f}", seconds) << std::endl;
                   std::cout << "precision=" << volt::precision::name(trainer.precision()) << std::endl;
                   std::cout << fmt::format("test_acc={:.4f}", test.at("test_acc")) << std::endl;

                   // Inference from the best checkpoint: the module is rebuilt from the
                   // hyper-parameters the checkpoint holds (FashionCNN(hp)), as Lightning's
                   // load_from_checkpoint does. Under 64-true / bf16-true / 16-true the
                   // checkpoint's weights are in that dtype, which a new (float32) module does
                   // not take: test the trained module with those weights (ckpt_path) instead.
                   if (!checkpoint.best_model_path().empty()) {
                     std::map<std::string, double> best_test;
                     if (trainer.precision().parameter_dtype() == torch::kFloat32) {
                       auto best = volt::load_from_checkpoint<FashionCNN>(checkpoint.best_model_path());
                       best_test = trainer.test(*best, data);
                     } else {
                       best_test = trainer.test(model, data, {.ckpt_path = checkpoint.best_model_path()});
                     }
                     std::cout << fmt::format("best_checkpoint_test_acc={:.4f}", best_test.at("test_acc"))
                               << std::endl;
                   }
                 });
}

int main(int argc, char** argv) {
  const auto start = std::chrono::steady_clock::now();
  // --threads N and --precision P: process settings read before the run's configuration.
  std::vector<char*> args(argv, argv + argc);
  std::string precision = "32-true";
  for (auto it = args.begin() + 1; it != args.end(); ++it) {
    const std::string_view arg(*it);
    for (const std::string_view flag : {"--threads", "--precision"}) {
      std::optional<std::string> value;
      if (arg == flag && it + 1 != args.end()) {
        value = *(it + 1);
        it = args.erase(it, it + 2) - 1;
      } else if (arg.starts_with(std::string(flag) + "=")) {
        value = std::string(arg.substr(flag.size() + 1));
        it = args.erase(it) - 1;
      }
      if (!value) continue;
      if (flag == "--threads")
        torch::set_num_threads(std::stoi(*value));
      else
        precision = *value;
      break;
    }
  }
  std::optional<volt::precision::Runtime> policy;
  try {
    policy.emplace(precision);
  } catch (const std::invalid_argument&) {
    std::cerr << "volt: --precision " << precision
              << " is not a precision; use one of 32-true, 64-true, bf16-mixed, bf16-true, 16-mixed, 16-true "
                 "(Lightning's names)." << std::endl;
    return 2;
  }
  return run(args, start, std::move(*policy));
}
