// The hook order, pinned by golden sequences (Lightning's tests_pytorch/models/test_hooks.py).
// The first tests use the 2.x event hooks only; the "golden:" tests at the end use a module and
// a callback with every hook of volt's table (overrides, batch transfer, 1.x step/epoch-end,
// checkpoint hooks, configure_callbacks) and are what docs/fit.md transcribes.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode
#include <volt/checkpoint/checkpoint_hooks.hpp>  // volt::Checkpoint: the umbrella leaves it out in the fast mode

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

// ---------------------------------------------------------------------------------------------
// The golden sequence with EVERY hook in volt's table: a module that has them all (Lightning 2.x
// hooks, the 1.x step_end / epoch_end hooks, the overrides and the checkpoint hooks), a callback
// that records every callback hook including state_dict and the checkpoint hooks, and the
// default ModelCheckpoint writing real files. Lightning 2.x's order is transcribed from its
// tests_pytorch/models/test_hooks.py (HookedModel._auto_train_batch, _eval_epoch, and the
// expected lists of test_trainer_model_hook_system_fit / _eval / _predict); the lines marked
// "volt" are where volt deliberately differs (docs/fit.md lists why).

namespace {

// Every callback hook, recorded as "Callback.<name>".
struct FullRecordingCallback : RecordingCallback {
  template <class... A>
  void on_save_checkpoint(A&&...) {
    calls->push_back("Callback.on_save_checkpoint");
  }
  template <class... A>
  void on_load_checkpoint(A&&...) {
    calls->push_back("Callback.on_load_checkpoint");
  }
  nlohmann::json state_dict() const {
    calls->push_back("Callback.state_dict");
    return nlohmann::json::object();
  }
  void load_state_dict(const nlohmann::json&) { calls->push_back("Callback.load_state_dict"); }
};

// A module with every hook of the table, with real signatures; each records its name when it
// is entered (as Lightning's HookedModel does), so a step records before the forward it calls
// and optimizer_step before the training_step its closure runs.
struct EveryHookModel : torch::nn::Module {
  using Batch = volt::data::Example;
  Calls* calls;
  torch::nn::Linear fc{nullptr};
  explicit EveryHookModel(Calls* c) : calls(c) { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  void rec(const std::string& name) { calls->push_back(name); }

  torch::Tensor forward(const torch::Tensor& x) {
    rec("forward");
    return fc(x);
  }
  torch::Tensor training_step(const Batch& b, std::int64_t, volt::Context&) {
    rec("training_step");
    return torch::mse_loss(forward(b.data), b.target);
  }
  torch::Tensor training_step_end(torch::Tensor out) {
    rec("training_step_end");
    return out;
  }
  void training_epoch_end(std::vector<torch::Tensor>) { rec("training_epoch_end"); }
  torch::Tensor validation_step(const Batch& b, std::int64_t) {
    rec("validation_step");
    return torch::mse_loss(forward(b.data), b.target);
  }
  torch::Tensor validation_step_end(torch::Tensor out) {
    rec("validation_step_end");
    return out;
  }
  void validation_epoch_end(std::vector<torch::Tensor>) { rec("validation_epoch_end"); }
  torch::Tensor test_step(const Batch& b, std::int64_t) {
    rec("test_step");
    return torch::mse_loss(forward(b.data), b.target);
  }
  torch::Tensor test_step_end(torch::Tensor out) {
    rec("test_step_end");
    return out;
  }
  void test_epoch_end(std::vector<torch::Tensor>) { rec("test_epoch_end"); }
  torch::Tensor predict_step(const Batch& b, std::int64_t) {
    rec("predict_step");
    return forward(b.data);
  }
  auto configure_optimizers() {
    rec("configure_optimizers");
    return volt::with_scheduler(torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.01)),
                                volt::optim::StepLR{{.step_size = 1}});
  }
  auto configure_callbacks() {
    rec("configure_callbacks");
    return std::tuple<>{};
  }
  void prepare_data() { rec("prepare_data"); }
  void setup(volt::Stage stage) { rec("setup:" + std::string(volt::to_string(stage))); }
  void teardown(volt::Stage stage) { rec("teardown:" + std::string(volt::to_string(stage))); }
  void configure_model() { rec("configure_model"); }
  void on_validation_model_eval() {
    rec("on_validation_model_eval");
    eval();
  }
  void on_validation_model_train() {
    rec("on_validation_model_train");
    train();
  }
  void on_test_model_eval() {
    rec("on_test_model_eval");
    eval();
  }
  void on_test_model_train() {
    rec("on_test_model_train");
    train();
  }
  void on_predict_model_eval() {
    rec("on_predict_model_eval");
    eval();
  }
  volt::data::TensorLoader train_dataloader() {  // the DataModule's are used; never called
    rec("module.train_dataloader");
    return {torch::zeros({2, 2}), torch::zeros({2, 1})};
  }
  void on_fit_start() { rec("on_fit_start"); }
  void on_fit_end() { rec("on_fit_end"); }
  void on_train_start() { rec("on_train_start"); }
  void on_train_end() { rec("on_train_end"); }
  void on_train_epoch_start() { rec("on_train_epoch_start"); }
  void on_train_epoch_end() { rec("on_train_epoch_end"); }
  void on_train_batch_start(const Batch&, std::int64_t) { rec("on_train_batch_start"); }
  void on_train_batch_end(const torch::Tensor&, const Batch&, std::int64_t) { rec("on_train_batch_end"); }
  void on_validation_start() { rec("on_validation_start"); }
  void on_validation_end() { rec("on_validation_end"); }
  void on_validation_epoch_start() { rec("on_validation_epoch_start"); }
  void on_validation_epoch_end() { rec("on_validation_epoch_end"); }
  void on_validation_batch_start(const Batch&, std::int64_t) { rec("on_validation_batch_start"); }
  void on_validation_batch_end(const torch::Tensor&, const Batch&, std::int64_t) { rec("on_validation_batch_end"); }
  void on_test_start() { rec("on_test_start"); }
  void on_test_end() { rec("on_test_end"); }
  void on_test_epoch_start() { rec("on_test_epoch_start"); }
  void on_test_epoch_end() { rec("on_test_epoch_end"); }
  void on_test_batch_start(const Batch&, std::int64_t) { rec("on_test_batch_start"); }
  void on_test_batch_end(const torch::Tensor&, const Batch&, std::int64_t) { rec("on_test_batch_end"); }
  void on_predict_start() { rec("on_predict_start"); }
  void on_predict_end() { rec("on_predict_end"); }
  void on_predict_epoch_start() { rec("on_predict_epoch_start"); }
  void on_predict_epoch_end() { rec("on_predict_epoch_end"); }
  void on_predict_batch_start(const Batch&, std::int64_t) { rec("on_predict_batch_start"); }
  void on_predict_batch_end(const torch::Tensor&, const Batch&, std::int64_t) { rec("on_predict_batch_end"); }
  void on_before_zero_grad(torch::optim::Optimizer&) { rec("on_before_zero_grad"); }
  void optimizer_zero_grad(std::int64_t, std::int64_t, torch::optim::Optimizer& optimizer) {
    rec("optimizer_zero_grad");
    optimizer.zero_grad();
  }
  void on_before_backward(const torch::Tensor&) { rec("on_before_backward"); }
  void backward(const torch::Tensor& loss) {
    rec("backward");
    loss.backward();
  }
  void on_after_backward() { rec("on_after_backward"); }
  void on_before_optimizer_step(torch::optim::Optimizer&) { rec("on_before_optimizer_step"); }
  void configure_gradient_clipping(torch::optim::Optimizer&, std::optional<double>, volt::GradClipAlgorithm) {
    rec("configure_gradient_clipping");
  }
  // Lightning 2.x's signature, as a Lightning module writes it.
  void optimizer_step(std::int64_t, std::int64_t, auto& optimizer, auto& optimizer_closure) {
    rec("optimizer_step");
    optimizer.step(optimizer_closure);
  }
  void lr_scheduler_step(volt::optim::StepLR& scheduler, std::optional<double> metric) {
    CHECK_FALSE(metric.has_value());  // no monitor
    rec("lr_scheduler_step");
    scheduler.step();
  }
  Batch on_before_batch_transfer(Batch batch, std::int64_t) {
    rec("on_before_batch_transfer");
    return batch;
  }
  Batch transfer_batch_to_device(Batch batch, torch::Device device, std::int64_t) {
    rec("transfer_batch_to_device");
    return volt::data::to_device(std::move(batch), device);
  }
  Batch on_after_batch_transfer(Batch batch, std::int64_t) {
    rec("on_after_batch_transfer");
    return batch;
  }
  void on_exception(const std::exception&) { rec("on_exception"); }
  void on_save_checkpoint(volt::Checkpoint&) { rec("on_save_checkpoint"); }
  void on_load_checkpoint(const volt::Checkpoint&) { rec("on_load_checkpoint"); }
};

// The DataModule has the data hooks only, so the batch transfer hooks are the module's.
struct GoldenData {
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

using GoldenTrainer =
    volt::Trainer<EveryHookModel, GoldenData, volt::SingleDevice, volt::precision::FP32, FullRecordingCallback>;

struct GoldenDir {
  // Under the process's own working directory (tests/main.cpp): ctest runs the two golden cases
  // at once, and each removes its directory.
  std::filesystem::path path = std::filesystem::current_path() / "volt_golden_hooks";
  GoldenDir() { std::filesystem::remove_all(path); }
  ~GoldenDir() { std::filesystem::remove_all(path); }
};

void append(Calls& out, std::initializer_list<const char*> hooks) { out.insert(out.end(), hooks.begin(), hooks.end()); }

void golden_transfer(Calls& out) {
  append(out, {"on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer"});
}

// One validation or test run of `batches` batches (Lightning's on_{stage}_start, _eval_epoch,
// on_{stage}_end); `save` inserts the default ModelCheckpoint's save in Callback.on_validation_end.
void golden_eval(Calls& out, const std::string& stage, int batches, bool save = false) {
  out.push_back("on_" + stage + "_model_eval");
  both(out, "on_" + stage + "_start");
  both(out, "on_" + stage + "_epoch_start");
  for (int i = 0; i < batches; ++i) {
    golden_transfer(out);
    both(out, "on_" + stage + "_batch_start");
    out.push_back(stage + "_step");
    out.push_back("forward");
    out.push_back(stage + "_step_end");  // volt: Lightning 1.x hook
    both(out, "on_" + stage + "_batch_end");
  }
  out.push_back(stage + "_epoch_end");  // volt: Lightning 1.x hook
  both(out, "on_" + stage + "_epoch_end");
  out.push_back("Callback.on_" + stage + "_end");
  if (save) append(out, {"Callback.state_dict", "Callback.on_save_checkpoint", "on_save_checkpoint"});
  out.push_back("on_" + stage + "_end");
  out.push_back("on_" + stage + "_model_train");
}

// One training batch under accumulate_grad_batches = 2 (HookedModel._auto_train_batch). A batch
// that steps enters optimizer_step first; its closure runs training_step .. on_after_backward,
// then the precision runs on_before_optimizer_step and clipping before the optimizer's step.
void golden_train_batch(Calls& out, bool first_in_window, bool steps, bool epoch_scheduler_steps) {
  golden_transfer(out);
  both(out, "on_train_batch_start");
  if (steps) out.push_back("optimizer_step");
  append(out, {"training_step", "forward"});
  out.push_back("training_step_end");  // volt: Lightning 1.x hook
  if (first_in_window) append(out, {"Callback.on_before_zero_grad", "on_before_zero_grad", "optimizer_zero_grad"});
  append(out, {"Callback.on_before_backward", "on_before_backward", "backward", "Callback.on_after_backward",
               "on_after_backward"});
  if (steps)
    append(out, {"Callback.on_before_optimizer_step", "on_before_optimizer_step", "configure_gradient_clipping"});
  if (epoch_scheduler_steps) out.push_back("lr_scheduler_step");
  both(out, "on_train_batch_end");
}

void golden_setup(Calls& out, const std::string& stage) {
  append(out, {"configure_callbacks", "DataModule.prepare_data", "prepare_data"});
  out.push_back("DataModule.setup:" + stage);
  out.push_back("Callback.setup");
  out.push_back("setup:" + stage);
  out.push_back("configure_model");
}

void golden_teardown(Calls& out, const std::string& stage) {
  out.push_back("DataModule.teardown:" + stage);
  out.push_back("Callback.teardown");
  out.push_back("teardown:" + stage);
}

}  // namespace

TEST_CASE("golden: fit with every hook, gradient accumulation, mid-epoch validation and checkpoints", "[loops][hooks]") {
  GoldenDir dir;
  Calls calls;
  EveryHookModel model(&calls);
  GoldenData data{&calls};
  GoldenTrainer trainer({.logger = false,
                         .max_epochs = 1,
                         .limit_val_batches = 1,
                         .val_check_interval = 2,
                         .num_sanity_val_steps = 1,
                         .enable_progress_bar = false,
                         .enable_model_summary = false,
                         .accumulate_grad_batches = 2,
                         .default_root_dir = dir.path},
                        volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}, FullRecordingCallback{{&calls}});
  trainer.fit(model, data);  // 4 training batches: optimizer steps after batches 2 and 4, validation after each

  Calls expected;
  golden_setup(expected, "fit");
  expected.push_back("configure_optimizers");
  both(expected, "on_fit_start");
  expected.push_back("Callback.on_sanity_check_start");
  expected.push_back("DataModule.val_dataloader");
  golden_eval(expected, "validation", 1);  // the sanity check: ModelCheckpoint does not save
  expected.push_back("Callback.on_sanity_check_end");
  expected.push_back("DataModule.train_dataloader");
  both(expected, "on_train_start");
  both(expected, "on_train_epoch_start");
  golden_train_batch(expected, /*first_in_window=*/true, /*steps=*/false, false);
  golden_train_batch(expected, false, /*steps=*/true, false);
  golden_eval(expected, "validation", 1, /*save=*/true);  // global step 1: the default ModelCheckpoint saves
  golden_train_batch(expected, true, false, false);
  golden_train_batch(expected, false, true, /*epoch_scheduler_steps=*/true);  // the epoch's last batch
  golden_eval(expected, "validation", 1, /*save=*/true);
  expected.push_back("training_epoch_end");  // volt: Lightning 1.x hook
  both(expected, "on_train_epoch_end");      // ModelCheckpoint's runs after the module's (no save here)
  both(expected, "on_train_end");
  both(expected, "on_fit_end");
  golden_teardown(expected, "fit");
  CHECK(calls == expected);
  CHECK(trainer.global_step() == 2);
  CHECK(std::filesystem::exists(dir.path / "checkpoints" / "epoch=0-step=2.ckpt"));
}

TEST_CASE("golden: validate, test and predict with every hook", "[loops][hooks]") {
  GoldenDir dir;
  Calls calls;
  EveryHookModel model(&calls);
  GoldenData data{&calls};
  GoldenTrainer trainer({.logger = false,
                         .limit_val_batches = 1,
                         .limit_test_batches = 2,
                         .limit_predict_batches = 1,
                         .enable_progress_bar = false,
                         .enable_model_summary = false,
                         .default_root_dir = dir.path},
                        volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}, FullRecordingCallback{{&calls}});
  trainer.validate(model, data);
  trainer.test(model, data);
  trainer.predict(model, data);

  Calls expected;
  golden_setup(expected, "validate");
  expected.push_back("DataModule.val_dataloader");
  golden_eval(expected, "validation", 1);  // outside fit: no checkpoint
  golden_teardown(expected, "validate");
  golden_setup(expected, "test");
  expected.push_back("DataModule.test_dataloader");
  golden_eval(expected, "test", 2);
  golden_teardown(expected, "test");
  golden_setup(expected, "predict");
  expected.push_back("DataModule.predict_dataloader");
  expected.push_back("on_predict_model_eval");
  both(expected, "on_predict_start");
  both(expected, "on_predict_epoch_start");
  golden_transfer(expected);
  both(expected, "on_predict_batch_start");
  append(expected, {"predict_step", "forward"});
  both(expected, "on_predict_batch_end");
  both(expected, "on_predict_epoch_end");
  both(expected, "on_predict_end");
  golden_teardown(expected, "predict");
  CHECK(calls == expected);
}

TEST_CASE("golden: a resumed fit restores through the checkpoint hooks, module first", "[loops][hooks]") {
  GoldenDir dir;
  Calls calls;
  // No validation (limit_val_batches = 0): the default ModelCheckpoint saves at the end of each
  // training epoch, so the first fit leaves a checkpoint of a finished epoch 0.
  const volt::TrainerOptions first{.logger = false,
                                   .max_epochs = 1,
                                   .limit_train_batches = 1,
                                   .limit_val_batches = 0,
                                   .enable_progress_bar = false,
                                   .enable_model_summary = false,
                                   .default_root_dir = dir.path};
  {
    EveryHookModel model(&calls);
    GoldenData data{&calls};
    GoldenTrainer trainer(first, volt::SingleDevice{torch::kCPU}, volt::precision::FP32{},
                          FullRecordingCallback{{&calls}});
    trainer.fit(model, data);
  }
  calls.clear();
  EveryHookModel model(&calls);
  GoldenData data{&calls};
  volt::TrainerOptions second = first;
  second.max_epochs = 2;
  GoldenTrainer trainer(second, volt::SingleDevice{torch::kCPU}, volt::precision::FP32{},
                        FullRecordingCallback{{&calls}});
  trainer.fit(model, data, {.ckpt_path = (dir.path / "checkpoints" / "epoch=0-step=1.ckpt").string()});

  Calls expected;
  golden_setup(expected, "fit");
  expected.push_back("configure_optimizers");  // volt: Lightning restores before configure_optimizers
  append(expected, {"on_load_checkpoint", "Callback.on_load_checkpoint", "Callback.load_state_dict"});
  both(expected, "on_fit_start");
  expected.push_back("DataModule.train_dataloader");
  both(expected, "on_train_start");
  both(expected, "on_train_epoch_start");
  golden_train_batch(expected, true, true, /*epoch_scheduler_steps=*/true);
  expected.push_back("training_epoch_end");
  both(expected, "on_train_epoch_end");
  // The default ModelCheckpoint saves in its on_train_epoch_end, which runs after the module's
  // (Lightning's rule for callbacks that monitor metrics).
  append(expected, {"Callback.state_dict", "Callback.on_save_checkpoint", "on_save_checkpoint"});
  both(expected, "on_train_end");
  both(expected, "on_fit_end");
  golden_teardown(expected, "fit");
  CHECK(calls == expected);
}
