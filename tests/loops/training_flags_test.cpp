// Trainer flags observed through their effect: batch counts seen by hooks, steps taken, when
// validation ran, clipped gradients, equal weights from two seeded runs, stops by time.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

// Counts what the loops did; optional behaviours are switched by fields.
struct Probe : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  torch::nn::Dropout dropout{nullptr};
  double lr = 0.05;
  double loss_scale = 1.0;
  bool nan_loss_at_step_3 = false;
  bool nan_in_backward = false;
  std::chrono::milliseconds step_sleep{0};
  std::int64_t request_stop_at_step = -1;

  std::int64_t train_batches = 0, val_batches = 0, sanity_batches = 0, validations = 0;
  std::vector<std::int64_t> validation_after_step;  // global_step when each validation started
  std::vector<std::vector<float>> first_inputs_per_epoch;
  std::vector<float> val_first_inputs;
  double max_grad_norm_after_clip = 0.0, max_grad_abs_after_clip = 0.0;

  Probe() {
    fc = register_module("fc", torch::nn::Linear(4, 1));
    dropout = register_module("dropout", torch::nn::Dropout(0.2));
  }

  torch::Tensor training_step(const volt::data::Example& b, std::int64_t batch_idx, volt::Context& ctx) {
    ++train_batches;
    if (batch_idx == 0) first_inputs_per_epoch.emplace_back();
    first_inputs_per_epoch.back().push_back(b.data[0][0].item<float>());
    if (step_sleep.count() > 0) std::this_thread::sleep_for(step_sleep);
    if (request_stop_at_step >= 0 && ctx.global_step() == request_stop_at_step) ctx.request_stop();
    auto out = fc(dropout(b.data));
    if (nan_in_backward) out = torch::sqrt(out - 1e6);  // sqrt of a negative: NaN in forward and backward
    auto loss = torch::mse_loss(out, b.target) * loss_scale;
    if (nan_loss_at_step_3 && ctx.global_step() == 3) loss = loss * std::numeric_limits<double>::quiet_NaN();
    return loss;
  }
  torch::Tensor validation_step(const volt::data::Example& b, std::int64_t batch_idx, volt::Context& ctx) {
    if (ctx.sanity_checking()) ++sanity_batches;
    else ++val_batches;
    if (batch_idx == 0 && !ctx.sanity_checking()) val_first_inputs.push_back(b.data[0][0].item<float>());
    return torch::mse_loss(fc(b.data), b.target);
  }
  void on_validation_start(volt::Context& ctx) {
    if (!ctx.sanity_checking()) {
      ++validations;
      validation_after_step.push_back(ctx.global_step());
    }
  }
  void on_train_batch_end(const torch::Tensor&) {
    double sq = 0.0, mx = 0.0;
    for (const auto& p : parameters()) {
      if (!p.grad().defined()) continue;
      sq += p.grad().pow(2).sum().item<double>();
      mx = std::max(mx, p.grad().abs().max().item<double>());
    }
    max_grad_norm_after_clip = std::max(max_grad_norm_after_clip, std::sqrt(sq));
    max_grad_abs_after_clip = std::max(max_grad_abs_after_clip, mx);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(lr)); }
};

// 64 examples; batches of 8: 8 training batches per epoch, 4 validation batches of 16.
struct ProbeData {
  torch::Tensor x = torch::arange(64 * 4, torch::kFloat32).reshape({64, 4}) / 256.0;
  torch::Tensor y = x.sum(1, true);
  bool shuffle = true;
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 8, .shuffle = shuffle}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 16}}; }
};

using ProbeTrainer = volt::Trainer<Probe, ProbeData>;

ProbeTrainer make(volt::TrainerOptions options) {
  return ProbeTrainer(std::move(options), volt::SingleDevice{torch::kCPU}, volt::precision::FP32{});
}

}  // namespace

TEST_CASE("max_epochs, max_steps and min_epochs bound the run", "[flags]") {
  SECTION("max_epochs") {
    Probe m;
    ProbeData d;
    auto t = make({.max_epochs = 2, .num_sanity_val_steps = 0});
    t.fit(m, d);
    CHECK(m.train_batches == 16);
    CHECK(t.global_step() == 16);
    CHECK(t.current_epoch() == 2);
  }
  SECTION("max_steps stops mid-epoch, counting optimizer steps") {
    Probe m;
    ProbeData d;
    auto t = make({.max_steps = 11, .num_sanity_val_steps = 0});
    t.fit(m, d);
    CHECK(t.global_step() == 11);
    CHECK(m.train_batches == 11);
  }
  SECTION("a stop request waits for min_epochs") {
    Probe m;
    m.request_stop_at_step = 2;
    ProbeData d;
    auto t = make({.max_epochs = 5, .min_epochs = 2, .num_sanity_val_steps = 0});
    t.fit(m, d);
    CHECK(t.current_epoch() == 2);
    CHECK(t.global_step() == 16);
  }
  SECTION("a stop request waits for min_steps") {
    Probe m;
    m.request_stop_at_step = 1;
    ProbeData d;
    auto t = make({.max_epochs = 5, .min_steps = 5, .num_sanity_val_steps = 0});
    t.fit(m, d);
    CHECK(t.global_step() == 5);
  }
}

TEST_CASE("limit_*_batches take a count or a fraction", "[flags]") {
  Probe m;
  ProbeData d;
  auto t = make({.max_epochs = 2, .limit_train_batches = 3, .limit_val_batches = 0.5, .num_sanity_val_steps = 0});
  t.fit(m, d);
  CHECK(m.train_batches == 6);
  CHECK(m.val_batches == 2 * 2);  // half of 4 validation batches, after each of 2 epochs
  CHECK(m.validations == 2);

  Probe none;
  auto no_val = make({.max_epochs = 1, .limit_val_batches = 0});
  no_val.fit(none, d);
  CHECK(none.validations == 0);
  CHECK(none.sanity_batches == 0);
}

TEST_CASE("val_check_interval and check_val_every_n_epoch schedule validation", "[flags]") {
  SECTION("a fraction of the epoch") {
    Probe m;
    ProbeData d;
    auto t = make({.max_epochs = 1, .val_check_interval = 0.5, .num_sanity_val_steps = 0});
    t.fit(m, d);
    CHECK(m.validation_after_step == std::vector<std::int64_t>{4, 8});
  }
  SECTION("a number of batches") {
    Probe m;
    ProbeData d;
    auto t = make({.max_epochs = 1, .val_check_interval = 3, .num_sanity_val_steps = 0});
    t.fit(m, d);
    CHECK(m.validation_after_step == std::vector<std::int64_t>{3, 6});
  }
  SECTION("every n epochs") {
    Probe m;
    ProbeData d;
    auto t = make({.max_epochs = 4, .check_val_every_n_epoch = 2, .num_sanity_val_steps = 0});
    t.fit(m, d);
    CHECK(m.validation_after_step == std::vector<std::int64_t>{16, 32});
  }
  SECTION("an interval longer than the epoch is an error naming the flag") {
    Probe m;
    ProbeData d;
    auto t = make({.max_epochs = 1, .val_check_interval = 9});
    REQUIRE_THROWS_WITH(t.fit(m, d), Catch::Contains("val_check_interval=9") && Catch::Contains("8 training batches"));
    CHECK(m.train_batches == 0);
  }
}

TEST_CASE("num_sanity_val_steps runs validation batches before training", "[flags]") {
  for (auto [steps, expected] : {std::pair{0, 0}, std::pair{2, 2}, std::pair{-1, 4}}) {
    Probe m;
    ProbeData d;
    auto t = make({.max_epochs = 1, .num_sanity_val_steps = steps});
    t.fit(m, d);
    CHECK(m.sanity_batches == expected);
    CHECK(m.validations == 1);  // the sanity check is not counted as a validation
  }
}

TEST_CASE("fast_dev_run runs n batches of each loop, one epoch, no sanity check", "[flags]") {
  for (auto [flag, n] : {std::pair{volt::FastDevRun(true), 1}, std::pair{volt::FastDevRun(3), 3}}) {
    Probe m;
    ProbeData d;
    auto t = make({.fast_dev_run = flag, .max_epochs = 10});
    t.fit(m, d);
    CHECK(m.train_batches == n);
    CHECK(m.val_batches == n);
    CHECK(m.sanity_batches == 0);
    CHECK(t.global_step() == n);
  }
}

TEST_CASE("overfit_batches trains and validates on the same first batches, unshuffled", "[flags]") {
  Probe m;
  ProbeData d;  // shuffle on: overfit_batches must turn it off
  auto t = make({.max_epochs = 3, .overfit_batches = 2, .num_sanity_val_steps = 0});
  t.fit(m, d);
  REQUIRE(m.first_inputs_per_epoch.size() == 3);
  const std::vector<float> first_two = {d.x[0][0].item<float>(), d.x[8][0].item<float>()};
  for (const auto& epoch : m.first_inputs_per_epoch) CHECK(epoch == first_two);
  CHECK(m.val_batches == 3 * 2);
  for (float v : m.val_first_inputs) CHECK(v == first_two[0]);
}

TEST_CASE("accumulate_grad_batches steps every n batches and at the epoch end, with the loss scaled", "[flags]") {
  torch::manual_seed(3);
  Probe m;
  m.dropout->options.p(0.0);
  ProbeData d;
  d.shuffle = false;
  Probe reference;
  reference.dropout->options.p(0.0);
  {
    torch::NoGradGuard g;
    for (std::size_t i = 0; i < m.parameters().size(); ++i) reference.parameters()[i].copy_(m.parameters()[i]);
  }
  auto t = make({.max_epochs = 1, .limit_val_batches = 0, .accumulate_grad_batches = 3});
  t.fit(m, d);
  CHECK(t.global_step() == 3);  // after batches 3, 6 and the last (8)

  // The same by hand: grads of loss/3 summed over each window of 3 (the last window has 2).
  torch::optim::SGD sgd(reference.parameters(), torch::optim::SGDOptions(reference.lr));
  sgd.zero_grad();
  for (int b = 0; b < 8; ++b) {
    auto x = d.x.narrow(0, b * 8, 8), y = d.y.narrow(0, b * 8, 8);
    (torch::mse_loss(reference.fc(x), y) / 3.0).backward();
    if ((b + 1) % 3 == 0 || b == 7) {
      sgd.step();
      sgd.zero_grad();
    }
  }
  for (std::size_t i = 0; i < m.parameters().size(); ++i)
    CHECK(torch::allclose(m.parameters()[i], reference.parameters()[i], 1e-6, 1e-7));
}

TEST_CASE("gradient_clip_val bounds the gradients by norm or by value", "[flags]") {
  SECTION("norm") {
    Probe m;
    m.loss_scale = 1000.0;
    ProbeData d;
    auto t = make({.max_epochs = 1, .limit_val_batches = 0, .gradient_clip_val = 0.5});
    t.fit(m, d);
    CHECK(m.max_grad_norm_after_clip <= 0.5 + 1e-5);
    CHECK(m.max_grad_norm_after_clip > 0.4);
  }
  SECTION("value") {
    Probe m;
    m.loss_scale = 1000.0;
    ProbeData d;
    auto t = make({.max_epochs = 1, .limit_val_batches = 0, .gradient_clip_val = 0.01,
                   .gradient_clip_algorithm = volt::GradClipAlgorithm::value});
    t.fit(m, d);
    CHECK(m.max_grad_abs_after_clip <= 0.01 + 1e-7);
  }
  SECTION("off by default: the gradients are large") {
    Probe m;
    m.loss_scale = 1000.0;
    ProbeData d;
    auto t = make({.max_epochs = 1, .limit_val_batches = 0});
    t.fit(m, d);
    CHECK(m.max_grad_norm_after_clip > 10.0);
  }
}

TEST_CASE("seed_everything makes two runs bit-identical, shuffling and dropout included", "[flags]") {
  auto run = [](std::uint64_t seed) {
    volt::seed_everything(seed);
    Probe m;
    ProbeData d;  // the train loader has no seed of its own: it uses seed_everything's
    auto t = make({.max_epochs = 2, .num_sanity_val_steps = 0});
    t.fit(m, d);
    return std::pair{torch::cat({m.fc->weight.flatten(), m.fc->bias}), m.first_inputs_per_epoch};
  };
  const auto [a, order_a] = run(11);
  const auto [b, order_b] = run(11);
  const auto [c, order_c] = run(12);
  CHECK(torch::equal(a, b));
  CHECK(order_a == order_b);
  CHECK_FALSE(torch::equal(a, c));
  CHECK(order_a != order_c);
}

TEST_CASE("deterministic turns on torch's deterministic algorithms", "[flags]") {
  Probe m;
  ProbeData d;
  auto t = make({.max_epochs = 1, .limit_train_batches = 1, .limit_val_batches = 0, .deterministic = true});
  t.fit(m, d);
  CHECK(at::globalContext().deterministicAlgorithms());
  at::globalContext().setDeterministicAlgorithms(false, false);
}

TEST_CASE("detect_anomaly names the backward function that returned NaN", "[flags]") {
  Probe m;
  m.nan_in_backward = true;
  ProbeData d;
  auto t = make({.max_epochs = 1, .limit_val_batches = 0, .detect_anomaly = true});
  REQUIRE_THROWS_WITH(t.fit(m, d), Catch::Contains("Backward0' returned nan values"));
}

TEST_CASE("terminate_on_nan stops at the step whose loss is not finite", "[flags]") {
  Probe m;
  m.nan_loss_at_step_3 = true;
  ProbeData d;
  auto t = make({.max_epochs = 1, .limit_val_batches = 0, .terminate_on_nan = true});
  REQUIRE_THROWS_WITH(t.fit(m, d), Catch::Contains("loss is nan") && Catch::Contains("global step 3") &&
                                       Catch::Contains("terminate_on_nan"));
  CHECK(t.global_step() == 3);

  Probe quiet;
  quiet.nan_loss_at_step_3 = true;
  auto lenient = make({.max_epochs = 1, .limit_val_batches = 0});
  lenient.fit(quiet, d);  // off by default: training goes on
  CHECK(lenient.global_step() == 8);
}

TEST_CASE("max_time stops fit at a batch boundary", "[flags]") {
  Probe m;
  m.step_sleep = std::chrono::milliseconds(20);
  ProbeData d;
  auto t = make({.max_epochs = 1000, .max_time = std::chrono::milliseconds(150), .num_sanity_val_steps = 0});
  const auto start = std::chrono::steady_clock::now();
  t.fit(m, d);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(t.global_step() >= 1);
  CHECK(t.global_step() < 100);
  CHECK(m.train_batches == t.global_step());  // stopped after a whole batch, none half-done
  CHECK(elapsed < std::chrono::seconds(30));
}
