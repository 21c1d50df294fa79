// LearningRateMonitor: what it logs (names from ctx.learning_rates(), momentum, weight decay)
// and when (logging_interval step / epoch / unset).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <volt/callbacks/learning_rate_monitor.hpp>

#include "callback_test_support.hpp"
#include "trainer_test_support.hpp"

namespace {

using volt::LearningRateMonitor;
using volt_test::Harness;

struct Batch {};

struct Optimizers {
  torch::optim::SGD sgd;
  torch::optim::Adam adam;
  explicit Optimizers(torch::nn::Module& m)
      : sgd(m.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4)),
        adam(m.parameters(), torch::optim::AdamOptions(1e-3).betas({0.8, 0.999}).weight_decay(0.01)) {}
};

void batch_start(Harness& h, LearningRateMonitor& cb) {
  h.state.family = volt::HookFamily::train_step;
  h.emit(volt::hooks::on_train_batch_start, cb, Batch{}, std::int64_t{0});
}
void epoch_start(Harness& h, LearningRateMonitor& cb) {
  h.state.family = volt::HookFamily::train_epoch;
  h.emit(volt::hooks::on_train_epoch_start, cb);
}

}  // namespace

TEST_CASE("LearningRateMonitor logs each optimizer's learning rate under ctx.learning_rates() names",
          "[callbacks][learning_rate_monitor]") {
  Harness h;
  Optimizers opts(h.module);
  h.optimizers = {&opts.sgd, &opts.adam};
  h.lr_names = {{"lr-SGD", &opts.sgd}, {"lr-Adam", &opts.adam}};

  SECTION("logging_interval step: at every batch start, not at epoch start") {
    LearningRateMonitor cb{{.logging_interval = "step"}};
    h.emit(volt::hooks::on_train_start, cb);
    epoch_start(h, cb);
    CHECK_FALSE(h.ctx.metric("lr-SGD").has_value());
    batch_start(h, cb);
    CHECK(h.ctx.metric("lr-SGD") == Approx(0.1));
    CHECK(h.ctx.metric("lr-Adam") == Approx(1e-3));
    opts.sgd.param_groups()[0].options().set_lr(0.05);
    batch_start(h, cb);
    CHECK(h.ctx.metric("lr-SGD") == Approx(0.05));
    CHECK(cb.lrs().at("lr-SGD") == std::vector<double>{0.1, 0.05});
    CHECK_FALSE(h.ctx.metric("lr-SGD-momentum").has_value());  // log_momentum is off
  }
  SECTION("logging_interval epoch: at every epoch start, not per batch") {
    LearningRateMonitor cb{{.logging_interval = "epoch"}};
    batch_start(h, cb);
    CHECK(cb.lrs().empty());
    epoch_start(h, cb);
    CHECK(h.ctx.metric("lr-Adam") == Approx(1e-3));
    CHECK(cb.lrs().at("lr-Adam").size() == 1);
  }
  SECTION("logging_interval unset: at both") {
    LearningRateMonitor cb;
    epoch_start(h, cb);
    batch_start(h, cb);
    batch_start(h, cb);
    CHECK(cb.lrs().at("lr-SGD").size() == 3);
  }
  SECTION("values are visible in callback_metrics at once") {
    LearningRateMonitor cb{{.logging_interval = "epoch"}};
    epoch_start(h, cb);
    const auto metrics = h.ctx.callback_metrics();
    CHECK(metrics.count("lr-SGD") == 1);
    CHECK(metrics.count("lr-Adam") == 1);
  }
}

TEST_CASE("LearningRateMonitor log_momentum and log_weight_decay", "[callbacks][learning_rate_monitor]") {
  Harness h;
  Optimizers opts(h.module);
  h.optimizers = {&opts.sgd, &opts.adam};
  SECTION("in the same order as ctx.optimizers()") {
    h.lr_names = {{"lr-SGD", &opts.sgd}, {"lr-Adam", &opts.adam}};
  }
  SECTION("in another order (optimizers with a scheduler are named first)") {
    h.lr_names = {{"lr-Adam", &opts.adam}, {"lr-SGD", &opts.sgd}};
  }
  LearningRateMonitor cb{{.logging_interval = "step", .log_momentum = true, .log_weight_decay = true}};
  h.emit(volt::hooks::on_train_start, cb);
  batch_start(h, cb);
  CHECK(h.ctx.metric("lr-SGD-momentum") == Approx(0.9));
  CHECK(h.ctx.metric("lr-Adam-momentum") == Approx(0.8));  // beta1
  CHECK(h.ctx.metric("lr-SGD-weight_decay") == Approx(1e-4));
  CHECK(h.ctx.metric("lr-Adam-weight_decay") == Approx(0.01));
}

TEST_CASE("LearningRateMonitor: param groups, optimizers without momentum, no optimizers",
          "[callbacks][learning_rate_monitor]") {
  Harness h;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{h.module.fc->weight},
                      std::make_unique<torch::optim::AdagradOptions>(0.5));
  groups.emplace_back(std::vector<torch::Tensor>{h.module.fc->bias}, std::make_unique<torch::optim::AdagradOptions>(0.25));
  torch::optim::Adagrad adagrad(groups, torch::optim::AdagradOptions(0.5));
  LearningRateMonitor cb{{.logging_interval = "epoch", .log_momentum = true}};

  epoch_start(h, cb);  // no optimizers (outside fit): nothing to log
  CHECK(cb.lrs().empty());

  h.optimizers = {&adagrad};
  h.lr_names = {{"lr-Adagrad", &adagrad}};
  h.emit(volt::hooks::on_train_start, cb);  // warns: Adagrad has no momentum
  epoch_start(h, cb);
  CHECK(h.ctx.metric("lr-Adagrad/pg1") == Approx(0.5));
  CHECK(h.ctx.metric("lr-Adagrad/pg2") == Approx(0.25));
  CHECK(h.ctx.metric("lr-Adagrad/pg2-momentum") == 0.0);
}

TEST_CASE("LearningRateMonitor rejects an unknown logging_interval", "[callbacks][learning_rate_monitor]") {
  CHECK_THROWS_WITH((LearningRateMonitor{{.logging_interval = "batch"}}), Catch::Contains("logging_interval=\"batch\""));
  CHECK_NOTHROW(LearningRateMonitor{{.logging_interval = "step"}});
  STATIC_REQUIRE(volt::hooks::has<volt::hooks::on_train_batch_start_t, LearningRateMonitor, const Batch&, std::int64_t>);
  STATIC_REQUIRE(volt::hooks::has<volt::hooks::on_train_epoch_start_t, LearningRateMonitor>);
  STATIC_REQUIRE(volt::hooks::has<volt::hooks::on_train_start_t, LearningRateMonitor>);
}


TEST_CASE("LearningRateMonitor in a real fit logs the optimizer's lr under Lightning's name",
          "[callbacks][learning_rate_monitor][trainer]") {
  volt_test::ScriptedRegressor model;
  volt_test::SmallData data;
  volt_test::TrainerWith<LearningRateMonitor> trainer({.max_epochs = 2},
                                                      LearningRateMonitor{{.log_momentum = true}});
  trainer.fit(model, data);
  const auto metrics = trainer.callback_metrics();
  REQUIRE(metrics.count("lr-SGD") == 1);
  CHECK(metrics.at("lr-SGD") == Approx(0.01));
  CHECK(metrics.at("lr-SGD-momentum") == 0.0);
  CHECK(std::get<0>(trainer.callbacks()).lrs().at("lr-SGD").size() == 2 + 2 * 4);  // 2 epoch starts, 8 batches
}
