// volt::Context: a view of the Trainer's RunState and MetricStore. Its accessors follow the
// state as it changes, request_stop sets should_stop, and log / log_dict record into the store
// with the running hook family and batch size.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <map>
#include <string>
#include <unordered_map>

#include <volt/core/context.hpp>

namespace {
using Metrics = std::map<std::string, double>;
}

TEST_CASE("Context accessors reflect the RunState, also after it changes", "[core][context]") {
  volt::RunState state;
  volt::MetricStore metrics;
  torch::nn::Module module;
  volt::Context ctx(state, metrics, module);

  SECTION("defaults") {
    CHECK(ctx.current_epoch() == 0);
    CHECK(ctx.global_step() == 0);
    CHECK(ctx.stage() == volt::Stage::fit);
    CHECK_FALSE(ctx.sanity_checking());
    CHECK(ctx.device() == torch::Device(torch::kCPU));
    CHECK(ctx.global_rank() == 0);
    CHECK(ctx.local_rank() == 0);
    CHECK(ctx.world_size() == 1);
    CHECK(ctx.is_global_zero());
    CHECK_FALSE(ctx.should_stop());
  }
  SECTION("changes made by the Trainer are seen through the same Context") {
    state.current_epoch = 4;
    state.global_step = 123;
    state.stage = volt::Stage::test;
    state.sanity_checking = true;
    state.device = torch::Device(torch::kCUDA, 1);  // only a value here: nothing runs on it
    state.global_rank = 3;
    state.local_rank = 1;
    state.world_size = 8;
    CHECK(ctx.current_epoch() == 4);
    CHECK(ctx.global_step() == 123);
    CHECK(ctx.stage() == volt::Stage::test);
    CHECK(ctx.sanity_checking());
    CHECK(ctx.device() == torch::Device(torch::kCUDA, 1));
    CHECK(ctx.global_rank() == 3);
    CHECK(ctx.local_rank() == 1);
    CHECK(ctx.world_size() == 8);
    CHECK_FALSE(ctx.is_global_zero());
    state.global_rank = 0;
    CHECK(ctx.is_global_zero());
  }
  SECTION("module() is the module the Context was made with") {
    CHECK(&ctx.module() == &module);
  }
}

TEST_CASE("request_stop sets the run's should_stop", "[core][context]") {
  volt::RunState state;
  volt::MetricStore metrics;
  torch::nn::Module module;
  volt::Context ctx(state, metrics, module);
  REQUIRE_FALSE(state.should_stop);
  ctx.request_stop();
  CHECK(state.should_stop);
  CHECK(ctx.should_stop());
  state.should_stop = false;  // the Trainer clears it when a stage starts
  CHECK_FALSE(ctx.should_stop());
}

TEST_CASE("ctx.log records with the running hook family and batch size", "[core][context]") {
  volt::RunState state;
  volt::MetricStore metrics;
  torch::nn::Module module;
  volt::Context ctx(state, metrics, module);

  SECTION("in a training step: on step, readable at once") {
    state.family = volt::HookFamily::train_step;
    ctx.log("loss", torch::tensor(0.5));
    ctx.log("lr", 0.01);  // the double overload
    CHECK(ctx.metric("loss").value() == Approx(0.5));
    CHECK(ctx.metric("lr").value() == Approx(0.01));
    CHECK(ctx.callback_metrics() == metrics.callback_metrics());
  }
  SECTION("in validation: on epoch, weighted by the batch size in state") {
    state.family = volt::HookFamily::validation;
    state.batch_size = 1;
    ctx.log("acc", 1.0);
    state.batch_size = 3;
    ctx.log("acc", 0.0);
    CHECK_FALSE(ctx.metric("acc").has_value());
    metrics.end_epoch(volt::HookFamily::validation);
    CHECK(ctx.metric("acc").value() == Approx(0.25));
  }
  SECTION("options are passed through") {
    state.family = volt::HookFamily::validation;
    ctx.log("acc", 0.75, {.prog_bar = true, .reduce_fx = volt::Reduce::max});
    ctx.log("acc", 0.25, {.prog_bar = true, .reduce_fx = volt::Reduce::max});
    metrics.end_epoch(volt::HookFamily::validation);
    CHECK(ctx.progress_bar_metrics() == Metrics{{"acc", 0.75}});
  }
  SECTION("from a predict hook it throws") {
    state.family = volt::HookFamily::predict;
    CHECK_THROWS_AS(ctx.log("p", 1.0), std::logic_error);
  }
}

TEST_CASE("ctx.log_dict logs every entry of a map of doubles or of tensors", "[core][context]") {
  volt::RunState state;
  state.family = volt::HookFamily::train_step;
  volt::MetricStore metrics;
  torch::nn::Module module;
  volt::Context ctx(state, metrics, module);

  ctx.log_dict(std::map<std::string, double>{{"a", 1.0}, {"b", 2.0}});
  ctx.log_dict(std::unordered_map<std::string, torch::Tensor>{{"c", torch::tensor(3.0)}});
  ctx.log_dict(std::map<std::string, double>{{"d", 4.0}}, {.prog_bar = true});
  CHECK(ctx.callback_metrics() == Metrics{{"a", 1.0}, {"b", 2.0}, {"c", 3.0}, {"d", 4.0}});
  CHECK(ctx.progress_bar_metrics() == Metrics{{"d", 4.0}});
  // Lightning's self.log_dict({"d_loss": d, "g_loss": g}), as a braced list of tensors or doubles.
  const torch::Tensor d = torch::tensor(5.0), g = torch::tensor(6.0);
  ctx.log_dict({{"d_loss", d}, {"g_loss", g}});
  ctx.log_dict({{"lr", 0.5}}, {.prog_bar = true});
  CHECK(ctx.callback_metrics().at("d_loss") == 5.0);
  CHECK(ctx.callback_metrics().at("g_loss") == 6.0);
  CHECK(ctx.progress_bar_metrics().at("lr") == 0.5);
}

namespace {
struct Generator : torch::nn::Module {
  int marker = 7;
};
struct Other : torch::nn::Module {};
}  // namespace

TEST_CASE("ctx.module<T>() gives the module as its own type, and a wrong type names both", "[core][context]") {
  volt::RunState state;
  volt::MetricStore metrics;
  Generator module;
  volt::Context ctx(state, metrics, module);
  CHECK(ctx.module<Generator>().marker == 7);
  CHECK(&ctx.module<torch::nn::Module>() == &module);
  REQUIRE_THROWS_WITH(ctx.module<Other>(), Catch::Contains("ctx.module<") && Catch::Contains("Other") &&
                                               Catch::Contains("is a") && Catch::Contains("Generator"));
}

TEST_CASE("outside fit ctx.optimizers() is empty and unpacking it names the count", "[core][context]") {
  volt::RunState state;
  volt::MetricStore metrics;
  torch::nn::Module module;
  volt::Context ctx(state, metrics, module);
  CHECK(ctx.optimizers().empty());
  CHECK(ctx.raw_optimizers().empty());
  REQUIRE_THROWS_WITH(ctx.optimizers<2>(), Catch::Contains("ctx.optimizers<2>() unpacks 2") &&
                                               Catch::Contains("returned 0"));
}
