// The convenience flags: enable_checkpointing (the default ModelCheckpoint), logger (the default
// CSV logger), enable_progress_bar and enable_model_summary (what reaches stdout), and that the
// user's own callback of a kind replaces the default one.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include <unistd.h>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("volt_flags_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Captures std::cout for a scope.
class CaptureStdout {
 public:
  CaptureStdout() : previous_(std::cout.rdbuf(buffer_.rdbuf())) {}
  ~CaptureStdout() { std::cout.rdbuf(previous_); }
  std::string text() const { return buffer_.str(); }

 private:
  std::ostringstream buffer_;
  std::streambuf* previous_;
};

struct Tiny : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  void validation_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    ctx.log("val_loss", torch::mse_loss(fc(b.data), b.target));
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct TinyData {
  torch::Tensor x = torch::randn({16, 2}), y = torch::randn({16, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 8}}; }
};

std::size_t count_files(const fs::path& dir, const std::string& extension) {
  if (!fs::exists(dir)) return 0;
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.path().extension() == extension ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("enable_checkpointing adds Lightning's default ModelCheckpoint; false writes none", "[flags]") {
  TempDir dir;
  Tiny m;
  TinyData d;
  {
    CaptureStdout quiet;
    volt::Trainer<Tiny, TinyData> on({.max_epochs = 2, .default_root_dir = dir.path / "on"});
    on.fit(m, d);
  }
  // In the default logger's version folder, as Lightning's default dirpath.
  CHECK(count_files(dir.path / "on" / "lightning_logs" / "version_0" / "checkpoints", ".ckpt") == 1);  // top_k = 1
  CHECK(fs::exists(dir.path / "on" / "lightning_logs" / "version_0" / "checkpoints" / "epoch=1-step=8.ckpt"));
  {
    CaptureStdout quiet;
    volt::Trainer<Tiny, TinyData> off({.max_epochs = 2, .enable_checkpointing = false, .default_root_dir = dir.path / "off"});
    off.fit(m, d);
  }
  CHECK(count_files(dir.path / "off", ".ckpt") == 0);
  {  // the user's ModelCheckpoint replaces the default one
    CaptureStdout quiet;
    volt::Trainer<Tiny, TinyData, volt::SingleDevice, volt::precision::FP32, volt::ModelCheckpoint> mine(
        {.max_epochs = 2, .default_root_dir = dir.path / "mine"}, volt::SingleDevice{torch::kCPU}, volt::precision::FP32{},
        volt::ModelCheckpoint{{.dirpath = dir.path / "mine" / "best", .monitor = "val_loss", .save_top_k = 2}});
    mine.fit(m, d);
  }
  CHECK(count_files(dir.path / "mine" / "lightning_logs", ".ckpt") == 0);
  CHECK(count_files(dir.path / "mine" / "best", ".ckpt") == 2);
}

TEST_CASE("logger, enable_progress_bar and enable_model_summary switch their defaults", "[flags]") {
  TempDir dir;
  Tiny m;
  TinyData d;
  std::string all_on, all_off;
  {
    CaptureStdout out;
    volt::Trainer<Tiny, TinyData> t({.max_epochs = 1, .enable_checkpointing = false, .default_root_dir = dir.path / "on"});
    t.fit(m, d);
    all_on = out.text();
  }
  CHECK(all_on.find("Trainable params") != std::string::npos);  // model summary
  CHECK(all_on.find("hooks found at compile time") != std::string::npos);
  CHECK(all_on.find("Epoch 0") != std::string::npos);  // progress bar (plain lines: not a terminal)
  CHECK(fs::exists(dir.path / "on" / "lightning_logs" / "version_0" / "metrics.csv"));
  {
    CaptureStdout out;
    volt::Trainer<Tiny, TinyData> t({.logger = false, .max_epochs = 1, .enable_checkpointing = false,
                                     .enable_progress_bar = false, .enable_model_summary = false,
                                     .default_root_dir = dir.path / "off"});
    t.fit(m, d);
    all_off = out.text();
  }
  CHECK(all_off.empty());
  CHECK_FALSE(fs::exists(dir.path / "off" / "lightning_logs"));
}
