// on_save_checkpoint / on_load_checkpoint on the module and on callbacks: what they add to a
// volt::Checkpoint survives save -> resume; Lightning's order (save: callbacks, then module;
// load: module, then callbacks); a weights-only checkpoint calls the module's hook alone.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <volt/checkpoint/checkpoint_file.hpp>
#include <volt/checkpoint/checkpoint_hooks.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

namespace fs = std::filesystem;
using Calls = std::vector<std::string>;

struct ScratchDir {
  fs::path path;
  // Under the process's own working directory (tests/main.cpp): ctest runs test cases at once,
  // and two may use the same name.
  explicit ScratchDir(const std::string& name) : path(fs::current_path() / ("volt_ckpt_hooks_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 2}}; }  // 4 batches
};

// Extra state that is not a parameter: a step counter and a running tensor.
struct CountingModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Calls* calls;
  std::int64_t counter = 0;
  torch::Tensor running = torch::zeros({3});
  std::int64_t loaded_counter = -1;
  fs::path save_to{};             // a checkpoint is written here at the end of the first epoch
  bool save_weights_only = false;
  explicit CountingModel(Calls* c) : calls(c) { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b) {
    ++counter;
    running = running + 1.5;
    return torch::mse_loss(fc(b.data), b.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
  void on_train_epoch_end(volt::Context& ctx) {
    if (!save_to.empty() && ctx.current_epoch() == 0) ctx.save_checkpoint(save_to, save_weights_only);
  }
  void on_save_checkpoint(volt::Checkpoint& checkpoint) {
    calls->push_back("on_save_checkpoint");
    checkpoint.json["counter"] = counter;
    checkpoint.set_tensor("running", running);
  }
  void on_load_checkpoint(const volt::Checkpoint& checkpoint, volt::Context&) {
    calls->push_back("on_load_checkpoint");
    counter = loaded_counter = checkpoint.json.at("counter").get<std::int64_t>();
    running = checkpoint.tensor("running").clone();
  }
};

struct CheckpointingCallback {
  Calls* calls;
  std::int64_t saves = 0;     // how many checkpoints this callback has been part of
  std::int64_t restored = -1;
  void on_save_checkpoint(volt::Checkpoint& checkpoint, volt::Context& ctx) {
    calls->push_back("Callback.on_save_checkpoint");
    CHECK(checkpoint.global_step == ctx.global_step());
    checkpoint.json["callback_saves"] = ++saves;
  }
  void on_load_checkpoint(const volt::Checkpoint& checkpoint) {
    calls->push_back("Callback.on_load_checkpoint");
    restored = checkpoint.json.at("callback_saves").get<std::int64_t>();
  }
};

using HookTrainer = volt::Trainer<CountingModel, Data, volt::SingleDevice, volt::precision::FP32, CheckpointingCallback>;

volt::TrainerOptions options(std::int64_t epochs, const fs::path& root) {
  return {.logger = false, .max_epochs = epochs, .enable_checkpointing = false, .enable_progress_bar = false,
          .enable_model_summary = false, .default_root_dir = root};
}

}  // namespace

TEST_CASE("volt::Checkpoint holds named tensors and says which one is missing", "[checkpoint][hooks]") {
  volt::Checkpoint c;
  CHECK_FALSE(c.has_tensor("a"));
  c.set_tensor("a", torch::ones({2}));
  c.set_tensor("a", torch::full({2}, 3.0));  // replaces, keeps one entry
  c.set_tensor("b", torch::zeros({1}));
  CHECK(c.tensors.size() == 2);
  CHECK(c.tensor("a").sum().item<double>() == Approx(6.0));
  CHECK_THROWS_WITH(c.tensor("z"), Catch::Contains("no hook tensor \"z\"") && Catch::Contains("a, b"));
}

TEST_CASE("module and callback state added in on_save_checkpoint comes back in on_load_checkpoint",
          "[checkpoint][hooks]") {
  ScratchDir dir("resume");
  const fs::path ckpt = dir.path / "epoch0.ckpt";
  Calls calls;
  torch::Tensor running_at_save;
  {
    CountingModel model(&calls);
    model.save_to = ckpt;
    Data data;
    HookTrainer trainer(options(1, dir.path), volt::SingleDevice{torch::kCPU}, volt::precision::FP32{},
                        CheckpointingCallback{&calls});
    trainer.fit(model, data);
    running_at_save = model.running.clone();
    CHECK(model.counter == 4);
  }
  CHECK((calls == Calls{"Callback.on_save_checkpoint", "on_save_checkpoint"}));
  {
    const auto reader = volt::checkpoint::CheckpointReader::open(ckpt);
    CHECK(reader.json("hooks").at("counter") == 4);
    CHECK(reader.json("hooks").at("callback_saves") == 1);
    CHECK(reader.has("hook_tensors"));
  }

  calls.clear();
  CountingModel resumed(&calls);
  Data data;
  HookTrainer trainer(options(2, dir.path), volt::SingleDevice{torch::kCPU}, volt::precision::FP32{},
                      CheckpointingCallback{&calls});
  trainer.fit(resumed, data, {.ckpt_path = ckpt.string()});
  CHECK((calls == Calls{"on_load_checkpoint", "Callback.on_load_checkpoint"}));
  CHECK(resumed.loaded_counter == 4);
  CHECK(resumed.counter == 8);  // four more steps in the second epoch
  CHECK(torch::allclose(resumed.running, running_at_save + 4 * 1.5));
  CHECK(std::get<CheckpointingCallback>(trainer.callbacks()).restored == 1);
}

TEST_CASE("a weights-only checkpoint calls only the module's on_save_checkpoint", "[checkpoint][hooks]") {
  ScratchDir dir("weights_only");
  const fs::path ckpt = dir.path / "weights.ckpt";
  Calls calls;
  CountingModel model(&calls);
  model.save_to = ckpt;
  model.save_weights_only = true;
  Data data;
  HookTrainer trainer(options(1, dir.path), volt::SingleDevice{torch::kCPU}, volt::precision::FP32{},
                      CheckpointingCallback{&calls});
  trainer.fit(model, data);
  CHECK((calls == Calls{"on_save_checkpoint"}));
  const auto reader = volt::checkpoint::CheckpointReader::open(ckpt);
  CHECK(reader.json("hooks").at("counter") == 4);
  CHECK_FALSE(reader.json("hooks").contains("callback_saves"));
}

namespace {
struct PlainModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  PlainModel() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
  void on_train_end(volt::Context& ctx) { ctx.save_checkpoint(ctx.default_root_dir() / "plain.ckpt"); }
};
}  // namespace

TEST_CASE("without checkpoint hooks no hook sections are written", "[checkpoint][hooks]") {
  ScratchDir dir("plain");
  PlainModel model;
  Data data;
  volt::Trainer<PlainModel, Data> trainer(options(1, dir.path), volt::SingleDevice{torch::kCPU}, volt::precision::FP32{});
  trainer.fit(model, data);
  const auto reader = volt::checkpoint::CheckpointReader::open(dir.path / "plain.ckpt");
  CHECK_FALSE(reader.has("hooks"));
  CHECK_FALSE(reader.has("hook_tensors"));
}
