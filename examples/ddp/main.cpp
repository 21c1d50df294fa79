// Data-parallel training of a small CNN on FashionMNIST with volt::DDP (docs/distributed.md).
//   ./ddp --devices 2              the local launcher re-executes this program twice (ranks 0, 1)
//   torchrun --nproc_per_node=2 ./ddp     or srun -n 2 ./ddp: ranks from the environment
// Every rank trains on its share of each epoch (a DistributedSampler, injected); rank 0 prints,
// logs and writes checkpoints; the validation metrics are means over all ranks (sync_dist).
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/data/fashion_mnist.hpp>
#include <volt/strategy/ddp.hpp>
#include <volt/volt.hpp>

namespace {
struct FashionCNN : torch::nn::Module {
  torch::nn::Sequential net;
  double lr;
  explicit FashionCNN(std::int64_t channels, double learning_rate) : lr(learning_rate) {
    using namespace torch::nn;
    const auto c = channels;
    net = register_module("net", Sequential(Conv2d(Conv2dOptions(1, c, 3).padding(1)), ReLU(), MaxPool2d(2),
                                            Conv2d(Conv2dOptions(c, 2 * c, 3).padding(1)), ReLU(), MaxPool2d(2),
                                            Flatten(), Linear(2 * c * 7 * 7, 128), ReLU(), Linear(128, 10)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return net->forward(x); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto loss = torch::nn::functional::cross_entropy(forward(batch.data), batch.target);
    ctx.log("train_loss", loss, {.on_step = false, .on_epoch = true, .sync_dist = true});
    return loss;
  }
  void validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto logits = forward(batch.data);
    ctx.log("val_loss", torch::nn::functional::cross_entropy(logits, batch.target), {.sync_dist = true});
    ctx.log("val_acc", logits.argmax(1).eq(batch.target).to(torch::kFloat32).mean(), {.sync_dist = true});
  }
  void test_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    ctx.log("test_acc", forward(batch.data).argmax(1).eq(batch.target).to(torch::kFloat32).mean(), {.sync_dist = true});
  }
  auto configure_optimizers() { return torch::optim::Adam(parameters(), torch::optim::AdamOptions(lr)); }
};
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Data-parallel training of a small CNN on FashionMNIST with volt::DDP."};
  std::int64_t devices = 2, epochs = 2, batch_size = 64, threads = 1;
  double limit = 1.0, lr = 2e-3;
  std::string data_dir = "/usr/share/datasets/fashion-mnist", root_dir = "ddp_runs";
  app.add_option("--devices", devices, "processes on this machine (ignored under torchrun / SLURM)")->capture_default_str();
  app.add_option("--epochs", epochs, "max_epochs")->capture_default_str();
  app.add_option("--batch-size", batch_size, "per-process batch size")->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--threads", threads, "torch threads per process")->capture_default_str();
  app.add_option("--limit-train-batches", limit, "fraction of each rank's batches per epoch")->capture_default_str();
  app.add_option("--data-dir", data_dir, "FashionMNIST IDX files")->capture_default_str();
  app.add_option("--root-dir", root_dir, "default_root_dir")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(static_cast<int>(threads));

  // Built first: with --devices N and no cluster environment this process becomes the launcher
  // and re-executes the program N times; it returns here only in a rank.
  volt::DDP ddp({.devices = devices});
  volt::seed_everything(42);
  volt::data::FashionMNIST data({.root = data_dir, .batch_size = batch_size});
  FashionCNN model(16, lr);
  volt::Trainer<FashionCNN, volt::data::FashionMNIST, volt::DDP> trainer(
      {.max_epochs = epochs, .limit_train_batches = limit, .default_root_dir = root_dir}, ddp,
      volt::precision::FP32{});
  const auto start = std::chrono::steady_clock::now();
  trainer.fit(model, data);
  const auto test = trainer.test(model, data);
  if (ddp.is_global_zero())
    std::cout << fmt::format("world_size={} wall_time_s={:.1f} test_acc={:.4f}\n", ddp.world_size(),
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                             test.at("test_acc"))
              << std::flush;
}
