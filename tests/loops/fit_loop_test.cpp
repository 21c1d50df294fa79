// The hook order, pinned by a golden sequence recorded from a module, a callback and a
// DataModule that have every hook (Lightning's tests_pytorch/models/test_hooks.py, less the
// hooks volt does not have yet: configure_callbacks, configure_model, batch transfer hooks,
// optimizer_step / optimizer_zero_grad overrides, gradient clipping, checkpoint hooks).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

using Calls = std::vector<std::string>;

// Records every hook a callback can have, prefixed "Callback.".
struct RecordingCallback {
  Calls* calls;
#define VOLT_RECORD(NAME, MIN_ARGS, SIGNATURE) \
  template <class... A>                        \
  void NAME(A&&...) {                          \
    calls->push_back("Callback." #NAME);       \
  }
  VOLT_RECORD(setup, 0, "")
  VOLT_RECORD(teardown, 0, "")
  VOLT_RECORD(on_fit_start, 0, "")
  VOLT_RECORD(on_fit_end, 0, "")
  VOLT_RECORD(on_sanity_check_start, 0, "")
  VOLT_RECORD(on_sanity_check_end, 0, "")
  VOLT_RECORD(on_train_start, 0, "")
  VOLT_RECORD(on_train_end, 0, "")
  VOLT_RECORD(on_train_epoch_start, 0, "")
  VOLT_RECORD(on_train_epoch_end, 0, "")
  VOLT_RECORD(on_train_batch_start, 0, "")
  VOLT_RECORD(on_train_batch_end, 0, "")
  VOLT_RECORD(on_before_zero_grad, 0, "")
  VOLT_RECORD(on_before_backward, 0, "")
  VOLT_RECORD(on_after_backward, 0, "")
  VOLT_RECORD(on_before_optimizer_step, 0, "")
  VOLT_RECORD(on_validation_start, 0, "")
  VOLT_RECORD(on_validation_end, 0, "")
  VOLT_RECORD(on_validation_epoch_start, 0, "")
  VOLT_RECORD(on_validation_epoch_end, 0, "")
  VOLT_RECORD(on_validation_batch_start, 0, "")
  VOLT_RECORD(on_validation_batch_end, 0, "")
  VOLT_RECORD(on_test_start, 0, "")
  VOLT_RECORD(on_test_end, 0, "")
  VOLT_RECORD(on_test_epoch_start, 0, "")
  VOLT_RECORD(on_test_epoch_end, 0, "")
  VOLT_RECORD(on_test_batch_start, 0, "")
  VOLT_RECORD(on_test_batch_end, 0, "")
  VOLT_RECORD(on_predict_start, 0, "")
  VOLT_RECORD(on_predict_end, 0, "")
  VOLT_RECORD(on_predict_epoch_start, 0, "")
  VOLT_RECORD(on_predict_epoch_end, 0, "")
  VOLT_RECORD(on_predict_batch_start, 0, "")
  VOLT_RECORD(on_predict_batch_end, 0, "")
#undef VOLT_RECORD
};

// A module with every Lightning 2.x hook volt calls, written with real signatures.
struct HookedModel : torch::nn::Module {
  Calls* calls;
  torch::nn::Linear fc{nullptr};
  explicit HookedModel(Calls* c) : calls(c) { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  void rec(const std::string& name) { calls->push_back(name); }

  torch::Tensor training_step(const volt::data::Example& b, std::int64_t, volt::Context&) {
    rec("training_step");
    return torch::mse_loss(fc(b.data), b.target);
  }
  torch::Tensor validation_step(const volt::data::Example& b, std::int64_t) {
    rec("validation_step");
    return torch::mse_loss(fc(b.data), b.target);
  }
  torch::Tensor test_step(const volt::data::Example& b, std::int64_t) {
    rec("test_step");
    return torch::mse_loss(fc(b.data), b.target);
  }
  torch::Tensor predict_step(const volt::data::Example& b, std::int64_t) {
    rec("predict_step");
    return fc(b.data);
  }
  auto configure_optimizers() {
    rec("configure_optimizers");
    return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.01));
  }
  void setup(volt::Stage stage) { rec("setup:" + std::string(volt::to_string(stage))); }
  void teardown(volt::Stage stage) { rec("teardown:" + std::string(volt::to_string(stage))); }
  void on_fit_start() { rec("on_fit_start"); }
  void on_fit_end() { rec("on_fit_end"); }
  void on_train_start() { rec("on_train_start"); }
  void on_train_end() { rec("on_train_end"); }
  void on_train_epoch_start(volt::Context&) { rec("on_train_epoch_start"); }
  void on_train_epoch_end(volt::Context&) { rec("on_train_epoch_end"); }
  void on_train_batch_start(const volt::data::Example&, std::int64_t) { rec("on_train_batch_start"); }
  void on_train_batch_end(const torch::Tensor&, const volt::data::Example&, std::int64_t) { rec("on_train_batch_end"); }
  void on_before_zero_grad(torch::optim::Optimizer&) { rec("on_before_zero_grad"); }
  void on_before_backward(const torch::Tensor&) { rec("on_before_backward"); }
  void on_after_backward() { rec("on_after_backward"); }
  void on_before_optimizer_step(torch::optim::Optimizer&) { rec("on_before_optimizer_step"); }
  void on_validation_start() { rec("on_validation_start"); }
  void on_validation_end() { rec("on_validation_end"); }
  void on_validation_epoch_start() { rec("on_validation_epoch_start"); }
  void on_validation_epoch_end() { rec("on_validation_epoch_end"); }
  void on_validation_batch_start(const volt::data::Example&, std::int64_t) { rec("on_validation_batch_start"); }
  void on_validation_batch_end(const torch::Tensor&, const volt::data::Example&, std::int64_t) {
    rec("on_validation_batch_end");
  }
  void on_test_start() { rec("on_test_start"); }
  void on_test_end() { rec("on_test_end"); }
  void on_test_epoch_start() { rec("on_test_epoch_start"); }
  void on_test_epoch_end() { rec("on_test_epoch_end"); }
  void on_test_batch_start(const volt::data::Example&, std::int64_t) { rec("on_test_batch_start"); }
  void on_test_batch_end(const torch::Tensor&, const volt::data::Example&, std::int64_t) { rec("on_test_batch_end"); }
  void on_predict_start() { rec("on_predict_start"); }
  void on_predict_end() { rec("on_predict_end"); }
  void on_predict_epoch_start() { rec("on_predict_epoch_start"); }
  void on_predict_epoch_end() { rec("on_predict_epoch_end"); }
  void on_predict_batch_start(const volt::data::Example&, std::int64_t) { rec("on_predict_batch_start"); }
  void on_predict_batch_end(const torch::Tensor&, const volt::data::Example&, std::int64_t) {
    rec("on_predict_batch_end");
  }
};

struct HookedData {
  Calls* calls;
  torch::Tensor x = torch::randn({8, 2});
  torch::Tensor y = torch::randn({8, 1});
  void prepare_data() { calls->push_back("DataModule.prepare_data"); }
  void setup(volt::Stage stage) { calls->push_back("DataModule.setup:" + std::string(volt::to_string(stage))); }
  void teardown(volt::Stage stage) {
    calls->push_back("DataModule.teardown:" + std::string(volt::to_string(stage)));
  }
  volt::data::TensorLoader loader(const char* name) {
    calls->push_back(std::string("DataModule.") + name);
    return {x, y, {.batch_size = 2}};
  }
  volt::data::TensorLoader train_dataloader() { return loader("train_dataloader"); }
  volt::data::TensorLoader val_dataloader() { return loader("val_dataloader"); }
  volt::data::TensorLoader test_dataloader() { return loader("test_dataloader"); }
  volt::data::TensorLoader predict_dataloader() { return loader("predict_dataloader"); }
};

using HookedTrainer = volt::Trainer<HookedModel, HookedData, volt::SingleDevice, volt::precision::FP32, RecordingCallback>;

// "Callback.X" then "X", as Lightning calls callbacks before the module.
void both(Calls& out, const std::string& hook) {
  out.push_back("Callback." + hook);
  out.push_back(hook);
}

void eval_epoch(Calls& out, const std::string& stage, int batches) {
  both(out, "on_" + stage + "_start");
  both(out, "on_" + stage + "_epoch_start");
  for (int i = 0; i < batches; ++i) {
    both(out, "on_" + stage + "_batch_start");
    out.push_back(stage + "_step");
    both(out, "on_" + stage + "_batch_end");
  }
  both(out, "on_" + stage + "_epoch_end");
  both(out, "on_" + stage + "_end");
}

void train_batches(Calls& out, int batches) {
  for (int i = 0; i < batches; ++i) {
    both(out, "on_train_batch_start");
    out.push_back("training_step");
    both(out, "on_before_zero_grad");
    both(out, "on_before_backward");
    both(out, "on_after_backward");
    both(out, "on_before_optimizer_step");
    both(out, "on_train_batch_end");
  }
}

void stage_setup(Calls& out, const std::string& stage) {
  out.push_back("DataModule.prepare_data");
  out.push_back("DataModule.setup:" + stage);
  out.push_back("Callback.setup");
  out.push_back("setup:" + stage);
}
void stage_teardown(Calls& out, const std::string& stage) {
  out.push_back("DataModule.teardown:" + stage);
  out.push_back("Callback.teardown");
  out.push_back("teardown:" + stage);
}

}  // namespace

TEST_CASE("fit calls every hook in Lightning's order", "[loops][hooks]") {
  Calls calls;
  HookedModel model(&calls);
  HookedData data{&calls};
  HookedTrainer trainer({.max_epochs = 1, .limit_train_batches = 2, .limit_val_batches = 2},
                        volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}, RecordingCallback{&calls});
  trainer.fit(model, data);

  Calls expected;
  stage_setup(expected, "fit");
  expected.push_back("configure_optimizers");
  both(expected, "on_fit_start");
  expected.push_back("Callback.on_sanity_check_start");
  expected.push_back("DataModule.val_dataloader");
  eval_epoch(expected, "validation", 2);
  expected.push_back("Callback.on_sanity_check_end");
  expected.push_back("DataModule.train_dataloader");
  both(expected, "on_train_start");
  both(expected, "on_train_epoch_start");
  train_batches(expected, 2);
  eval_epoch(expected, "validation", 2);
  both(expected, "on_train_epoch_end");
  both(expected, "on_train_end");
  both(expected, "on_fit_end");
  stage_teardown(expected, "fit");
  CHECK(calls == expected);
}

TEST_CASE("val_check_interval runs validation mid-epoch, after on_train_batch_end", "[loops][hooks]") {
  Calls calls;
  HookedModel model(&calls);
  HookedData data{&calls};
  HookedTrainer trainer({.max_epochs = 1, .limit_val_batches = 1, .val_check_interval = 2, .num_sanity_val_steps = 0},
                        volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}, RecordingCallback{&calls});
  trainer.fit(model, data);  // 4 training batches, validation after batches 2 and 4

  Calls expected;
  stage_setup(expected, "fit");
  expected.push_back("configure_optimizers");
  both(expected, "on_fit_start");
  expected.push_back("DataModule.val_dataloader");
  expected.push_back("DataModule.train_dataloader");
  both(expected, "on_train_start");
  both(expected, "on_train_epoch_start");
  train_batches(expected, 2);
  eval_epoch(expected, "validation", 1);
  train_batches(expected, 2);
  eval_epoch(expected, "validation", 1);
  both(expected, "on_train_epoch_end");
  both(expected, "on_train_end");
  both(expected, "on_fit_end");
  stage_teardown(expected, "fit");
  CHECK(calls == expected);
  CHECK(trainer.global_step() == 4);
}

TEST_CASE("validate, test and predict call their hooks in Lightning's order", "[loops][hooks]") {
  Calls calls;
  HookedModel model(&calls);
  HookedData data{&calls};
  HookedTrainer trainer({.limit_val_batches = 1, .limit_test_batches = 2, .limit_predict_batches = 1},
                        volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}, RecordingCallback{&calls});
  trainer.validate(model, data);
  trainer.test(model, data);
  const auto predictions = trainer.predict(model, data);

  Calls expected;
  stage_setup(expected, "validate");
  expected.push_back("DataModule.val_dataloader");
  eval_epoch(expected, "validation", 1);
  stage_teardown(expected, "validate");
  stage_setup(expected, "test");
  expected.push_back("DataModule.test_dataloader");
  eval_epoch(expected, "test", 2);
  stage_teardown(expected, "test");
  stage_setup(expected, "predict");
  expected.push_back("DataModule.predict_dataloader");
  both(expected, "on_predict_start");
  both(expected, "on_predict_epoch_start");
  both(expected, "on_predict_batch_start");
  expected.push_back("predict_step");
  both(expected, "on_predict_batch_end");
  both(expected, "on_predict_epoch_end");
  both(expected, "on_predict_end");
  stage_teardown(expected, "predict");
  CHECK(calls == expected);
  CHECK(predictions.size() == 1);
}

namespace {
// Lightning 1.x epoch-end hooks: outputs are collected only because these hooks exist.
struct EpochEndModel : torch::nn::Module {
  Calls* calls;
  std::vector<std::size_t> train_outputs, val_outputs;
  torch::nn::Linear fc{nullptr};
  explicit EpochEndModel(Calls* c) : calls(c) { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  torch::Tensor validation_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  void training_epoch_end(std::vector<torch::Tensor> outputs) {
    calls->push_back("training_epoch_end");
    train_outputs.push_back(outputs.size());
    for (const auto& o : outputs) CHECK_FALSE(o.requires_grad());
  }
  void validation_epoch_end(std::vector<torch::Tensor> outputs) {
    calls->push_back("validation_epoch_end");
    val_outputs.push_back(outputs.size());
  }
  void on_validation_epoch_end() { calls->push_back("on_validation_epoch_end"); }
  void on_train_epoch_end() { calls->push_back("on_train_epoch_end"); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.01)); }
};
}  // namespace

TEST_CASE("1.x epoch_end(outputs) hooks get every step output before the 2.x epoch-end hooks", "[loops][hooks]") {
  Calls calls;
  EpochEndModel model(&calls);
  HookedData data{&calls};
  volt::Trainer<EpochEndModel, HookedData> trainer({.max_epochs = 2, .limit_val_batches = 3, .num_sanity_val_steps = 0},
                                                   volt::SingleDevice{torch::kCPU}, volt::precision::FP32{});
  trainer.fit(model, data);
  CHECK((model.train_outputs == std::vector<std::size_t>{4, 4}));
  CHECK((model.val_outputs == std::vector<std::size_t>{3, 3}));
  const Calls epoch = {"validation_epoch_end", "on_validation_epoch_end", "training_epoch_end", "on_train_epoch_end"};
  Calls expected = {"DataModule.prepare_data", "DataModule.setup:fit", "DataModule.val_dataloader",
                    "DataModule.train_dataloader"};
  expected.insert(expected.end(), epoch.begin(), epoch.end());
  expected.insert(expected.end(), epoch.begin(), epoch.end());
  expected.insert(expected.end(), {"DataModule.teardown:fit"});
  CHECK(calls == expected);
}

namespace {
struct SkippingModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  SkippingModel() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  int on_train_batch_start(const volt::data::Example&, std::int64_t batch_idx) { return batch_idx == 1 ? -1 : 0; }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.01)); }
};
struct ShortData {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 2}}; }
};
}  // namespace

TEST_CASE("on_train_batch_start returning -1 skips the rest of the epoch", "[loops][hooks]") {
  SkippingModel model;
  ShortData data;
  volt::Trainer<SkippingModel, ShortData> trainer({.max_epochs = 3}, volt::SingleDevice{torch::kCPU},
                                                  volt::precision::FP32{});
  trainer.fit(model, data);
  CHECK(trainer.global_step() == 3);  // one step per epoch, then batch 1 ends the epoch
  CHECK(trainer.current_epoch() == 3);
}
