// The main job: train a small CNN on FashionMNIST with volt, print per-epoch train loss,
// validation loss and accuracy, then the test accuracy as `test_acc=<fraction>`.
#include <chrono>
#include <filesystem>
#include <optional>
#include <cstdint>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/hana/define_struct.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/data/fashion_mnist.hpp>
#include <volt/volt.hpp>

namespace {

// Reflected with Boost.Hana so the loggers record every field (hparams.yaml, TensorBoard) without
// naming them twice.
struct HParams {
  BOOST_HANA_DEFINE_STRUCT(HParams,
                           (double, lr),
                           (std::int64_t, channels),
                           (std::int64_t, hidden),
                           (std::int64_t, epochs));
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

int main(int argc, char** argv) {
  HParams hp{.lr = 2e-3, .channels = 32, .hidden = 128, .epochs = 5};
  volt::data::FashionMNISTOptions data_options;
  std::uint64_t seed = 42;
  int threads = 0;
  std::string root_dir = "fashion_mnist_runs";
  bool resume = false;
  CLI::App app{"Train a small CNN on FashionMNIST with volt."};
  app.add_option("--epochs", hp.epochs, "training epochs")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--lr", hp.lr, "Adam learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--channels", hp.channels, "channels of the first conv layer")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--hidden", hp.hidden, "width of the hidden linear layer")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--batch-size", data_options.batch_size, "training batch size")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--data-dir", data_options.root, "folder with the FashionMNIST IDX .gz files")
      ->capture_default_str();
  app.add_option("--seed", seed, "seed for weights, dropout and shuffling")->capture_default_str();
  app.add_option("--threads", threads, "intra-op threads (0: libtorch's default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--root-dir", root_dir, "where logs, checkpoints and the HTML report go")->capture_default_str();
  app.add_flag("--resume", resume, "continue from <root-dir>/checkpoints/last.ckpt (exactly where it stopped)");
  CLI11_PARSE(app, argc, argv);

  try {
    if (threads > 0) torch::set_num_threads(threads);
    volt::seed_everything(seed);
    data_options.seed = seed;
    const auto start = std::chrono::steady_clock::now();

    volt::data::FashionMNIST data{data_options};
    FashionCNN model{hp};
    // The best checkpoint by validation accuracy, plus last.ckpt to resume from; CSV logs (the
    // default logger, with report.html beside metrics.csv) and TensorBoard event files.
    using Trainer = volt::Trainer<FashionCNN, volt::data::FashionMNIST, volt::SingleDevice, volt::precision::FP32,
                                  volt::ModelCheckpoint, volt::loggers::CSVLogger, volt::loggers::TensorBoardLogger>;
    Trainer trainer{{.max_epochs = hp.epochs, .default_root_dir = root_dir},
                    volt::SingleDevice{},
                    volt::precision::FP32{},
                    volt::ModelCheckpoint{{.dirpath = std::filesystem::path(root_dir) / "checkpoints",
                                           .filename = "{epoch}-{val_acc:.4f}",
                                           .monitor = "val_acc",
                                           .save_last = true,
                                           .mode = volt::Mode::max}},
                    volt::loggers::CSVLogger({.save_dir = root_dir}),
                    volt::loggers::TensorBoardLogger({.save_dir = root_dir})};
    const auto fitted = trainer.fit(model, data, {.ckpt_path = resume ? std::optional<std::string>("last") : std::nullopt});
    if (fitted.status == volt::FitStatus::preempted) {
      std::cout << "preempted; resume with --resume (checkpoint " << fitted.checkpoint << ")" << std::endl;
      return 0;
    }
    const auto& checkpoint = std::get<volt::ModelCheckpoint>(trainer.callbacks());
    std::cout << "best checkpoint: " << checkpoint.best_model_path() << std::endl;
    const auto test = trainer.test(model, data);

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << fmt::format("wall_time_s={:.1f}", seconds) << std::endl;
    std::cout << fmt::format("test_acc={:.4f}", test.at("test_acc")) << std::endl;

    // Inference from the best checkpoint: the module is rebuilt from the hyper-parameters the
    // checkpoint holds (FashionCNN(hp)), as Lightning's load_from_checkpoint does.
    if (!checkpoint.best_model_path().empty()) {
      auto best = volt::load_from_checkpoint<FashionCNN>(checkpoint.best_model_path());
      const auto best_test = trainer.test(*best, data);
      std::cout << fmt::format("best_checkpoint_test_acc={:.4f}", best_test.at("test_acc")) << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "fashion_mnist: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
