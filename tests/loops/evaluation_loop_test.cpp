// Lightning 1.x validation_step_end / test_step_end: called after each step with its output;
// what they return is the step's output from then on: on_{stage}_batch_end gets it and
// {stage}_epoch_end(outputs) collects it (as Lightning 1.x's evaluation loop does).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

// What the step_end hooks turn a step's loss into: another type, to show it is what flows on.
struct Summary {
  double loss = 0.0;
  std::int64_t order = 0;
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 2}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 2}}; }
  volt::data::TensorLoader test_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

struct StepEndModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  std::vector<std::string> calls;
  std::int64_t ends = 0;
  std::vector<std::int64_t> batch_end_orders;
  std::vector<std::vector<std::int64_t>> val_epochs, test_epochs;
  StepEndModel() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.01)); }

  torch::Tensor validation_step(const volt::data::Example& b) {
    calls.push_back("validation_step");
    return torch::mse_loss(fc(b.data), b.target);
  }
  Summary validation_step_end(torch::Tensor loss, volt::Context&) {
    calls.push_back("validation_step_end");
    return {loss.item<double>(), ends++};
  }
  void on_validation_batch_end(const Summary& out, const volt::data::Example&, std::int64_t) {
    calls.push_back("on_validation_batch_end");
    batch_end_orders.push_back(out.order);
  }
  void validation_epoch_end(std::vector<Summary> outputs) {
    std::vector<std::int64_t> orders;
    for (const auto& o : outputs) orders.push_back(o.order);
    val_epochs.push_back(orders);
  }

  torch::Tensor test_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  Summary test_step_end(const torch::Tensor& loss) { return {loss.item<double>(), 100 + ends++}; }
  void test_epoch_end(const std::vector<Summary>& outputs) {
    std::vector<std::int64_t> orders;
    for (const auto& o : outputs) orders.push_back(o.order);
    test_epochs.push_back(orders);
  }
};

volt::TrainerOptions options() {
  return {.logger = false, .max_epochs = 1, .limit_val_batches = 2, .num_sanity_val_steps = 0,
          .enable_checkpointing = false, .enable_progress_bar = false, .enable_model_summary = false};
}

}  // namespace

TEST_CASE("validation_step_end's result goes to on_validation_batch_end and validation_epoch_end", "[loops][hooks]") {
  StepEndModel model;
  Data data;
  volt::Trainer<StepEndModel, Data> trainer{options()};
  trainer.fit(model, data);
  CHECK((model.calls == std::vector<std::string>{"validation_step", "validation_step_end", "on_validation_batch_end",
                                                 "validation_step", "validation_step_end",
                                                 "on_validation_batch_end"}));
  CHECK((model.batch_end_orders == std::vector<std::int64_t>{0, 1}));
  CHECK((model.val_epochs == std::vector<std::vector<std::int64_t>>{{0, 1}}));

  trainer.validate(model, data);
  CHECK((model.val_epochs.back() == std::vector<std::int64_t>{2, 3}));
}

TEST_CASE("test_step_end's result is what test_epoch_end collects", "[loops][hooks]") {
  StepEndModel model;
  Data data;
  volt::Trainer<StepEndModel, Data> trainer{options()};
  trainer.test(model, data);
  CHECK((model.test_epochs == std::vector<std::vector<std::int64_t>>{{100, 101}}));
}

namespace {
// validation_step_end returning void: nothing is collected, and the batch-end hook gets NoStepOutput.
struct VoidStepEnd : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  std::int64_t seen = 0;
  VoidStepEnd() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.01)); }
  torch::Tensor validation_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  void validation_step_end(const torch::Tensor&) { ++seen; }
  void on_validation_batch_end(const volt::NoStepOutput&) {}
};
}  // namespace

TEST_CASE("a void validation_step_end is called and leaves no output", "[loops][hooks]") {
  VoidStepEnd model;
  Data data;
  volt::Trainer<VoidStepEnd, Data> trainer{options()};
  trainer.validate(model, data);
  CHECK(model.seen == 2);  // limit_val_batches = 2
}
