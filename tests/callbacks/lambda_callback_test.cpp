// LambdaCallback: only the hooks given exist, each callable may take any prefix of the hook's
// arguments with or without the Context, and an unused LambdaCallback costs nothing.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <volt/callbacks/lambda_callback.hpp>
#include <volt/checkpoint/checkpoint_hooks.hpp>

#include "callback_test_support.hpp"
#include "trainer_test_support.hpp"

namespace {

using volt_test::Harness;

struct Batch {
  int value = 0;
};

}  // namespace

TEST_CASE("LambdaCallback has exactly the hooks it was given", "[callbacks][lambda_callback]") {
  auto cb = volt::LambdaCallback{volt::lambda::on_fit_start([] {}),
                                 volt::lambda::on_train_batch_end([](const torch::Tensor&) {})};
  using CB = decltype(cb);
  using volt::hooks::has;
  STATIC_REQUIRE(has<volt::hooks::on_fit_start_t, CB>);
  STATIC_REQUIRE(has<volt::hooks::on_train_batch_end_t, CB, const torch::Tensor&, const Batch&, std::int64_t>);
  STATIC_REQUIRE_FALSE(has<volt::hooks::on_fit_end_t, CB>);
  STATIC_REQUIRE_FALSE(has<volt::hooks::on_train_epoch_end_t, CB>);
  STATIC_REQUIRE_FALSE(has<volt::hooks::on_validation_end_t, CB>);
}

TEST_CASE("LambdaCallback of captureless lambdas is empty: zero cost when unused", "[callbacks][lambda_callback]") {
  auto cb = volt::LambdaCallback{volt::lambda::on_fit_start([] {}), volt::lambda::on_fit_end([](volt::Context&) {}),
                                 volt::lambda::on_train_epoch_end([] {})};
  STATIC_REQUIRE(std::is_empty_v<decltype(cb)>);
  STATIC_REQUIRE(sizeof(cb) == 1);
  int* counter = nullptr;
  auto capturing = volt::LambdaCallback{volt::lambda::on_fit_start([counter] { (void)counter; })};
  STATIC_REQUIRE(sizeof(capturing) == sizeof(int*));
}

TEST_CASE("LambdaCallback calls each callable with the prefix of the arguments it takes", "[callbacks][lambda_callback]") {
  Harness h;
  h.state.current_epoch = 7;
  std::vector<std::string> calls;
  auto cb = volt::LambdaCallback{
      volt::lambda::setup([&](volt::Stage stage, volt::Context& ctx) {
        calls.push_back(std::string("setup:") + std::string(volt::to_string(stage)) + ":" +
                        std::to_string(ctx.current_epoch()));
      }),
      volt::lambda::on_fit_start([&] { calls.push_back("on_fit_start"); }),
      volt::lambda::on_train_epoch_end(
          [&](volt::Context& ctx) { calls.push_back("on_train_epoch_end:" + std::to_string(ctx.current_epoch())); }),
      volt::lambda::on_train_batch_end([&](const torch::Tensor& out, const Batch& batch, std::int64_t idx) {
        calls.push_back("on_train_batch_end:" + std::to_string(out.item<double>()).substr(0, 3) + ":" +
                        std::to_string(batch.value) + ":" + std::to_string(idx));
      }),
      volt::lambda::on_validation_batch_end([&](const auto&, const Batch& batch) {  // a prefix without the index
        calls.push_back("on_validation_batch_end:" + std::to_string(batch.value));
      }),
      volt::lambda::on_exception([&](const std::exception& e, volt::Context&) {
        calls.push_back(std::string("on_exception:") + e.what());
      })};

  h.emit(volt::hooks::setup, cb, volt::Stage::fit);
  h.emit(volt::hooks::on_fit_start, cb);
  h.emit(volt::hooks::on_train_batch_end, cb, torch::full({}, 0.5), Batch{3}, std::int64_t{4});
  h.emit(volt::hooks::on_validation_batch_end, cb, torch::zeros({}), Batch{5}, std::int64_t{0});
  h.emit(volt::hooks::on_train_epoch_end, cb);
  h.emit(volt::hooks::on_fit_end, cb);  // not given: nothing happens
  h.emit(volt::hooks::on_exception, cb, std::runtime_error("boom"));
  CHECK(calls == std::vector<std::string>{"setup:fit:7", "on_fit_start", "on_train_batch_end:0.5:3:4",
                                          "on_validation_batch_end:5", "on_train_epoch_end:7", "on_exception:boom"});

  cb.on_fit_start();  // a direct call without a Context works too
  CHECK(calls.back() == "on_fit_start");
}

TEST_CASE("LambdaCallback prefers the form with the Context, then the longest prefix", "[callbacks][lambda_callback]") {
  using volt::callback_detail::lambda_form;
  struct Both {
    int operator()(volt::Context&) const { return 1; }
    int operator()() const { return 2; }
  };
  constexpr auto both = lambda_form<Both, volt::Context&>();
  STATIC_REQUIRE(both.arity == 0);
  STATIC_REQUIRE(both.with_context);
  constexpr auto prefix = lambda_form<void (*)(int), int, double, volt::Context&>();
  STATIC_REQUIRE(prefix.arity == 1);
  STATIC_REQUIRE_FALSE(prefix.with_context);
  constexpr auto none = lambda_form<void (*)(std::string), int, volt::Context&>();
  STATIC_REQUIRE(none.arity == -1);
}


TEST_CASE("LambdaCallback in a real fit", "[callbacks][lambda_callback][trainer]") {
  volt_test::ScriptedRegressor model;
  volt_test::SmallData data;
  std::vector<std::string> calls;
  auto cb = volt::LambdaCallback{
      volt::lambda::on_fit_start([&] { calls.push_back("fit_start"); }),
      volt::lambda::on_train_batch_end([&](const torch::Tensor& loss, const volt::data::Example& batch, std::int64_t i) {
        CHECK(loss.dim() == 0);
        CHECK(batch.data.size(0) == 2);
        calls.push_back("batch" + std::to_string(i));
      }),
      volt::lambda::on_train_epoch_end(
          [&](volt::Context& ctx) { calls.push_back("epoch" + std::to_string(ctx.current_epoch())); })};
  volt_test::TrainerWith<decltype(cb)> trainer({.max_epochs = 2, .num_sanity_val_steps = 0}, cb);
  trainer.fit(model, data);
  CHECK(calls == std::vector<std::string>{"fit_start", "batch0", "batch1", "batch2", "batch3", "epoch0", "batch0",
                                          "batch1", "batch2", "batch3", "epoch1"});
}

TEST_CASE("LambdaCallback: on_save_checkpoint and on_load_checkpoint parts", "[callbacks]") {
  std::int64_t restored = 0;
  auto cb = volt::LambdaCallback{volt::lambda::on_save_checkpoint([](volt::Checkpoint& c) { c.json["seen"] = 7; }),
                                 volt::lambda::on_load_checkpoint([&](const volt::Checkpoint& c, volt::Context&) {
                                   restored = c.json.at("seen").get<std::int64_t>();
                                 })};
  STATIC_REQUIRE(volt::hooks::has<volt::hooks::on_save_checkpoint_t, decltype(cb), volt::Checkpoint&>);
  STATIC_REQUIRE(volt::hooks::has<volt::hooks::on_load_checkpoint_t, decltype(cb), const volt::Checkpoint&>);
  volt::Checkpoint ckpt;
  cb.on_save_checkpoint(ckpt);
  CHECK(ckpt.json.at("seen") == 7);
  volt::RunState state;
  volt::MetricStore metrics;
  torch::nn::Module module;
  volt::Context ctx(state, metrics, module);
  cb.on_load_checkpoint(static_cast<const volt::Checkpoint&>(ckpt), ctx);
  CHECK(restored == 7);
}
