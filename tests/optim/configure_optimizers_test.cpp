// configure_optimizers' variants, normalized with their concrete types; scheduler stepping by
// interval / frequency / monitor; Lightning's LearningRateMonitor names; save / load; and the
// schedulers stepped by trainer.fit at Lightning's points.
#include <volt/optim/configure_optimizers.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <numbers>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <volt/core/metrics.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

#include "lr_test_util.hpp"

using Catch::Contains;
using volt::Interval;
using volt::LRSchedulerConfig;
using volt::NoScheduler;
using volt::OptimizerConfig;
using volt::SchedulerFilter;
using volt::optim::normalize;
using volt::optim::Optimization;
using volt::optim::OptimizerEntry;
using Adam = torch::optim::Adam;
using SGD = torch::optim::SGD;

namespace {

std::vector<torch::Tensor> one_param() { return {torch::zeros({1}, torch::requires_grad())}; }
Adam adam(double lr) { return Adam(one_param(), torch::optim::AdamOptions(lr)); }
SGD sgd(double lr) { return SGD(one_param(), torch::optim::SGDOptions(lr)); }
double lr_of(const torch::optim::Optimizer& o, std::size_t group = 0) { return o.param_groups()[group].options().get_lr(); }

volt::MetricStore metrics_with(const std::map<std::string, double>& values) {
  volt::MetricStore m;
  for (const auto& [k, v] : values) m.log(k, torch::tensor(v), {}, volt::HookFamily::validation, 1);
  m.end_epoch(volt::HookFamily::validation);
  return m;
}

template <class O, class C = NoScheduler>
using Single = Optimization<std::tuple<OptimizerEntry<O, C>>>;

}  // namespace

TEST_CASE("(a) one optimizer: by value, unique_ptr, shared_ptr", "[optim]") {
  auto by_value = normalize(adam(0.1));
  STATIC_REQUIRE(std::is_same_v<decltype(by_value), Single<Adam>>);
  STATIC_REQUIRE(decltype(by_value)::size == 1);
  STATIC_REQUIRE(std::is_same_v<decltype(by_value.optimizer()), Adam&>);
  STATIC_REQUIRE(std::is_same_v<decltype(by_value.optimizer<0>()), Adam&>);
  CHECK(by_value.num_optimizers() == 1);
  CHECK(lr_of(by_value.optimizer()) == 0.1);

  auto by_unique = normalize(std::make_unique<Adam>(one_param(), torch::optim::AdamOptions(0.2)));
  STATIC_REQUIRE(std::is_same_v<decltype(by_unique), Single<std::unique_ptr<Adam>>>);
  STATIC_REQUIRE(std::is_same_v<decltype(by_unique.optimizer()), Adam&>);
  CHECK(lr_of(by_unique.optimizer()) == 0.2);

  auto shared = std::make_shared<SGD>(one_param(), torch::optim::SGDOptions(0.3));
  auto by_shared = normalize(shared);
  STATIC_REQUIRE(std::is_same_v<decltype(by_shared), Single<std::shared_ptr<SGD>>>);
  CHECK(&by_shared.optimizer() == shared.get());

  std::vector<std::size_t> seen;
  by_shared.for_each_optimizer([&](SGD& o, std::size_t i) {
    CHECK(&o == shared.get());
    seen.push_back(i);
  });
  CHECK(seen == std::vector<std::size_t>{0});
}

TEST_CASE("(b) several optimizers: std::tuple, std::pair, std::vector", "[optim]") {
  auto tuple = normalize(std::tuple{adam(0.1), sgd(0.2)});
  STATIC_REQUIRE(std::is_same_v<decltype(tuple), Optimization<std::tuple<OptimizerEntry<Adam>, OptimizerEntry<SGD>>>>);
  STATIC_REQUIRE(decltype(tuple)::size == 2);
  STATIC_REQUIRE(std::is_same_v<decltype(tuple.optimizer<1>()), SGD&>);
  CHECK(lr_of(tuple.optimizer<1>()) == 0.2);
  std::vector<double> lrs;
  tuple.for_each_optimizer([&](auto& o, std::size_t i) {
    CHECK(i == lrs.size());
    lrs.push_back(lr_of(o));
  });
  CHECK(lrs == std::vector<double>{0.1, 0.2});

  auto pair = normalize(std::pair{sgd(0.1), std::make_unique<Adam>(one_param(), torch::optim::AdamOptions(0.2))});
  STATIC_REQUIRE(decltype(pair)::size == 2);
  STATIC_REQUIRE(std::is_same_v<decltype(pair.optimizer<1>()), Adam&>);

  std::vector<SGD> many;
  for (double lr : {0.1, 0.2, 0.3}) many.push_back(sgd(lr));
  auto vec = normalize(std::move(many));
  STATIC_REQUIRE(std::is_same_v<decltype(vec), Optimization<std::vector<OptimizerEntry<SGD>>>>);
  STATIC_REQUIRE(decltype(vec)::size == volt::optim::dynamic_size);
  CHECK(vec.num_optimizers() == 3);
  CHECK(lr_of(vec.optimizer<2>()) == 0.3);
  CHECK_THROWS_AS(normalize(std::vector<SGD>{}), std::invalid_argument);
}

TEST_CASE("(c) optimizers with schedulers: the i-th scheduler drives the i-th optimizer", "[optim]") {
  auto o = normalize(std::pair{std::tuple{sgd(1.0), sgd(1.0)}, std::tuple{volt::optim::StepLR{{.step_size = 1, .gamma = 0.5}}}});
  STATIC_REQUIRE(std::is_same_v<decltype(o), Optimization<std::tuple<OptimizerEntry<SGD, LRSchedulerConfig<volt::optim::StepLR>>,
                                                                    OptimizerEntry<SGD>>>>);
  STATIC_REQUIRE(std::is_same_v<decltype(o.lr_scheduler<0>()), volt::optim::StepLR&>);
  CHECK(o.lr_scheduler_config<0>().interval == Interval::epoch);  // Lightning's default
  o.step_schedulers(Interval::step, 1, volt::optim::NoMetrics{});
  CHECK(lr_of(o.optimizer<0>()) == 1.0);
  o.step_schedulers(Interval::epoch, 1, volt::optim::NoMetrics{});
  CHECK(lr_of(o.optimizer<0>()) == 0.5);
  CHECK(lr_of(o.optimizer<1>()) == 1.0);

  // torch's own scheduler, bound to an optimizer behind a unique_ptr, and a config in the list.
  auto first = std::make_unique<SGD>(one_param(), torch::optim::SGDOptions(1.0));
  auto torch_step = std::make_unique<torch::optim::StepLR>(*first, 1, 0.1);
  auto mixed = normalize(std::pair{
      std::tuple{std::move(first), adam(1.0)},
      std::tuple{std::move(torch_step),
                 LRSchedulerConfig{.scheduler = volt::optim::ExponentialLR{{.gamma = 0.5}}, .interval = Interval::step}}});
  STATIC_REQUIRE(std::is_same_v<decltype(mixed.lr_scheduler<0>()), torch::optim::StepLR&>);
  mixed.step_schedulers(Interval::epoch, 1, volt::optim::NoMetrics{});
  mixed.step_schedulers(Interval::step, 1, volt::optim::NoMetrics{});
  CHECK(lr_of(mixed.optimizer<0>()) == Approx(1.0));  // torch's StepLR: its first step keeps the lr
  CHECK(lr_of(mixed.optimizer<1>()) == Approx(0.5));
  mixed.step_schedulers(Interval::epoch, 2, volt::optim::NoMetrics{});
  CHECK(lr_of(mixed.optimizer<0>()) == Approx(0.1));

  // std::vector on both sides; fewer schedulers than optimizers.
  std::vector<SGD> opts;
  for (int i = 0; i < 3; ++i) opts.push_back(sgd(1.0));
  std::vector<volt::optim::ExponentialLR> scheds(2, volt::optim::ExponentialLR{{.gamma = 0.5}});
  auto vec = normalize(std::pair{std::move(opts), std::move(scheds)});
  STATIC_REQUIRE(
      std::is_same_v<decltype(vec), Optimization<std::vector<OptimizerEntry<
                                        SGD, std::optional<LRSchedulerConfig<volt::optim::ExponentialLR>>>>>>);
  vec.step_schedulers(Interval::epoch, 1, volt::optim::NoMetrics{});
  CHECK(lr_of(vec.optimizer<0>()) == 0.5);
  CHECK(lr_of(vec.optimizer<1>()) == 0.5);
  CHECK(lr_of(vec.optimizer<2>()) == 1.0);
  CHECK_THROWS_AS(vec.lr_scheduler<2>(), std::out_of_range);

  std::vector<SGD> one;
  one.push_back(sgd(1.0));
  CHECK_THROWS_AS(normalize(std::pair{std::move(one), std::vector<volt::optim::ExponentialLR>(
                                                          2, volt::optim::ExponentialLR{{.gamma = 0.5}})}),
                  std::invalid_argument);
}

TEST_CASE("(d) OptimizerConfig with designated initializers (aggregate CTAD)", "[optim]") {
  auto o = normalize(OptimizerConfig{
      .optimizer = adam(0.1),
      .lr_scheduler = LRSchedulerConfig{.scheduler = volt::optim::CosineAnnealingLR{{.T_max = 10, .eta_min = 0.0}},
                                        .interval = Interval::step,
                                        .frequency = 1,
                                        .monitor = "val_loss",
                                        .strict = true,
                                        .name = "lr-adam"}});
  STATIC_REQUIRE(std::is_same_v<decltype(o), Single<Adam, LRSchedulerConfig<volt::optim::CosineAnnealingLR>>>);
  CHECK(o.lr_scheduler_config<0>().name == "lr-adam");
  CHECK(o.lr_scheduler<0>().attached());

  // Moving the Optimization moves the Adam held by value: the scheduler follows it.
  auto moved = std::move(o);
  moved.step_schedulers(Interval::step, 1, volt::optim::NoMetrics{});
  const double t1 = 0.05 * (1 + std::cos(std::numbers::pi / 10));
  CHECK(lr_of(moved.optimizer()) == Approx(t1));
  CHECK(moved.lr_scheduler<0>().last_lr()[0] == Approx(t1));

  // A bare scheduler: Lightning's defaults (epoch, frequency 1); OptimizerConfig's monitor.
  auto bare = normalize(OptimizerConfig{.optimizer = sgd(1.0), .lr_scheduler = volt::optim::ExponentialLR{{.gamma = 0.5}}});
  STATIC_REQUIRE(std::is_same_v<decltype(bare), Single<SGD, LRSchedulerConfig<volt::optim::ExponentialLR>>>);
  CHECK(bare.lr_scheduler_config<0>().interval == Interval::epoch);
  CHECK(bare.lr_scheduler_config<0>().frequency == 1);
  auto plateau = normalize(OptimizerConfig{.optimizer = sgd(1.0),
                                           .lr_scheduler = volt::optim::ReduceLROnPlateau{{.patience = 0}},
                                           .monitor = "val_loss"});
  CHECK(plateau.lr_scheduler_config<0>().monitor == "val_loss");

  // No scheduler.
  auto plain = normalize(OptimizerConfig{.optimizer = sgd(1.0)});
  STATIC_REQUIRE(std::is_same_v<decltype(plain), Single<SGD>>);

  // volt::with_scheduler, as the FashionMNIST example uses it, with torch's StepLR.
  auto adam_ptr = std::make_unique<Adam>(one_param(), torch::optim::AdamOptions(1.0));
  auto decay = std::make_unique<torch::optim::StepLR>(*adam_ptr, 1, 0.6);
  auto with = normalize(volt::with_scheduler(std::move(adam_ptr), std::move(decay), {.interval = Interval::epoch}));
  STATIC_REQUIRE(std::is_same_v<decltype(with),
                                Single<std::unique_ptr<Adam>, LRSchedulerConfig<std::unique_ptr<torch::optim::StepLR>>>>);
  for (std::int64_t epoch = 1; epoch <= 3; ++epoch) with.step_schedulers(Interval::epoch, epoch, volt::optim::NoMetrics{});
  CHECK(lr_of(with.optimizer()) == Approx(0.36));  // torch's StepLR: steps 2 and 3 decay
  with.step_scheduler(Interval::epoch, 4);          // the earlier name, for plain schedulers
  CHECK(lr_of(with.optimizer()) == Approx(0.216));
}

TEST_CASE("(e) a tuple or a vector of OptimizerConfigs", "[optim]") {
  auto two = normalize(std::tuple{
      OptimizerConfig{.optimizer = sgd(1.0), .lr_scheduler = volt::optim::StepLR{{.step_size = 2}}},
      OptimizerConfig{.optimizer = std::make_unique<Adam>(one_param(), torch::optim::AdamOptions(1.0)),
                      .lr_scheduler = LRSchedulerConfig{.scheduler = volt::optim::LinearLR{{.start_factor = 0.5, .total_iters = 2}},
                                                        .interval = Interval::step}}});
  STATIC_REQUIRE(std::is_same_v<decltype(two),
                                Optimization<std::tuple<OptimizerEntry<SGD, LRSchedulerConfig<volt::optim::StepLR>>,
                                                        OptimizerEntry<std::unique_ptr<Adam>,
                                                                       LRSchedulerConfig<volt::optim::LinearLR>>>>>);
  STATIC_REQUIRE(decltype(two)::size == 2);
  CHECK(lr_of(two.optimizer<1>()) == 0.5);  // LinearLR's initial step at attach
  two.step_schedulers(Interval::step, 1, volt::optim::NoMetrics{});
  CHECK(lr_of(two.optimizer<1>()) == Approx(0.75));
  CHECK(lr_of(two.optimizer<0>()) == 1.0);

  std::vector<OptimizerConfig<SGD, LRSchedulerConfig<volt::optim::ExponentialLR>>> configs;
  for (double gamma : {0.5, 0.25})
    configs.push_back({.optimizer = sgd(1.0), .lr_scheduler = {.scheduler = volt::optim::ExponentialLR{{.gamma = gamma}}}});
  auto vec = normalize(std::move(configs));
  STATIC_REQUIRE(decltype(vec)::size == volt::optim::dynamic_size);
  vec.step_schedulers(Interval::epoch, 1, volt::optim::NoMetrics{});
  CHECK(lr_of(vec.optimizer<0>()) == 0.5);
  CHECK(lr_of(vec.optimizer<1>()) == 0.25);
}

TEST_CASE("a scheduler that steps on a metric needs a monitor", "[optim]") {
  auto no_monitor = [] {
    return normalize(OptimizerConfig{.optimizer = sgd(1.0), .lr_scheduler = volt::optim::ReduceLROnPlateau{}});
  };
  CHECK_THROWS_AS(no_monitor(), std::invalid_argument);
  CHECK_THROWS_WITH(no_monitor(), Contains("ReduceLROnPlateau") && Contains("monitor"));
  CHECK_THROWS_WITH(normalize(std::pair{std::tuple{sgd(1.0)}, std::tuple{volt::optim::ReduceLROnPlateau{}}}),
                    Contains("monitor"));
}

TEST_CASE("a missing monitored metric: strict throws naming it and the metrics there are; non-strict skips",
          "[optim]") {
  auto make = [](bool strict) {
    return normalize(OptimizerConfig{
        .optimizer = sgd(1.0),
        .lr_scheduler = LRSchedulerConfig{.scheduler = volt::optim::ReduceLROnPlateau{{.factor = 0.5, .patience = 0}},
                                          .monitor = "val_loss",
                                          .strict = strict}});
  };
  const auto without = metrics_with({{"train_loss", 1.0}, {"val_acc", 0.5}});
  auto strict = make(true);
  CHECK_THROWS_AS(strict.step_schedulers(Interval::epoch, 1, without), std::runtime_error);
  CHECK_THROWS_WITH(strict.step_schedulers(Interval::epoch, 1, without),
                    Contains("'val_loss'") && Contains("[train_loss, val_acc]"));

  auto lenient = make(false);
  CHECK_NOTHROW(lenient.step_schedulers(Interval::epoch, 1, without));
  CHECK(lenient.lr_scheduler<0>().last_epoch() == 0);  // skipped
  const auto with = metrics_with({{"val_loss", 2.0}});
  lenient.step_schedulers(Interval::epoch, 1, with);  // best = 2
  lenient.step_schedulers(Interval::epoch, 2, with);  // no better: cut
  CHECK(lr_of(lenient.optimizer()) == 0.5);
  CHECK(lenient.lr_scheduler<0>().last_epoch() == 2);
}

TEST_CASE("frequency: a scheduler steps when frequency divides the count, once per count", "[optim]") {
  auto o = normalize(OptimizerConfig{
      .optimizer = sgd(1.0),
      .lr_scheduler = LRSchedulerConfig{.scheduler = volt::optim::ExponentialLR{{.gamma = 0.5}},
                                        .interval = Interval::step,
                                        .frequency = 3}});
  std::vector<double> lrs;
  for (std::int64_t step = 1; step <= 9; ++step) {
    o.step_schedulers(Interval::step, step, volt::optim::NoMetrics{});
    o.step_schedulers(Interval::step, step, volt::optim::NoMetrics{});  // same count: no second step
    o.step_schedulers(Interval::epoch, step, volt::optim::NoMetrics{});  // other interval: ignored
    lrs.push_back(lr_of(o.optimizer()));
  }
  CHECK(lrs == std::vector<double>{1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125});
  o.step_schedulers(Interval::step, 0, volt::optim::NoMetrics{});  // counts start at 1
  CHECK(lr_of(o.optimizer()) == 0.125);

  CHECK_THROWS_AS(normalize(OptimizerConfig{.optimizer = sgd(1.0),
                                            .lr_scheduler = LRSchedulerConfig{
                                                .scheduler = volt::optim::ExponentialLR{{.gamma = 0.5}}, .frequency = 0}}),
                  std::invalid_argument);
}

TEST_CASE("the filter separates monitored schedulers from the others", "[optim]") {
  auto o = normalize(std::tuple{
      OptimizerConfig{.optimizer = sgd(1.0), .lr_scheduler = volt::optim::ExponentialLR{{.gamma = 0.5}}},
      OptimizerConfig{.optimizer = sgd(1.0),
                      .lr_scheduler = volt::optim::ReduceLROnPlateau{{.factor = 0.5, .patience = 0}},
                      .monitor = "val_loss"}});
  const auto m = metrics_with({{"val_loss", 1.0}});
  o.step_schedulers(Interval::epoch, 1, m, SchedulerFilter::unmonitored);
  CHECK(lr_of(o.optimizer<0>()) == 0.5);
  CHECK(o.lr_scheduler<1>().last_epoch() == 0);
  o.step_schedulers(Interval::epoch, 1, m, SchedulerFilter::monitored);
  CHECK(lr_of(o.optimizer<0>()) == 0.5);
  CHECK(o.lr_scheduler<1>().last_epoch() == 1);
  o.step_schedulers(Interval::epoch, 2, m);  // all
  CHECK(lr_of(o.optimizer<0>()) == 0.25);
  CHECK(lr_of(o.optimizer<1>()) == 0.5);

  o.step_lr_scheduler(0);  // manual optimization: now, whatever the interval
  CHECK(lr_of(o.optimizer<0>()) == 0.125);
  CHECK_THROWS_AS(o.step_lr_scheduler(1), std::invalid_argument);  // needs its metric
  o.step_lr_scheduler(1, 5.0);
  CHECK(lr_of(o.optimizer<1>()) == 0.25);
  CHECK_THROWS_AS(o.step_lr_scheduler(2), std::out_of_range);
}

TEST_CASE("learning_rates() names lrs as Lightning's LearningRateMonitor does", "[optim]") {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(one_param(), std::make_unique<torch::optim::SGDOptions>(0.01));
  groups.emplace_back(one_param(), std::make_unique<torch::optim::SGDOptions>(0.02));
  auto o = normalize(std::tuple{
      OptimizerConfig{.optimizer = adam(0.1), .lr_scheduler = volt::optim::StepLR{{.step_size = 1}}},
      OptimizerConfig{.optimizer = SGD(std::move(groups), torch::optim::SGDOptions(0.01))},
      OptimizerConfig{.optimizer = adam(0.2), .lr_scheduler = volt::optim::StepLR{{.step_size = 1}}},
      OptimizerConfig{.optimizer = adam(0.3),
                      .lr_scheduler = LRSchedulerConfig{.scheduler = volt::optim::StepLR{{.step_size = 1}}, .name = "head"}},
      OptimizerConfig{.optimizer = adam(0.4)}});
  // Schedulers first (Adam, Adam again: "-1", a named one: Lightning still appends the count of
  // unnamed Adams), then optimizers without one, with "/pgN" for several param groups.
  const std::vector<std::pair<std::string, double>> expected{
      {"lr-Adam", 0.1}, {"lr-Adam-1", 0.2}, {"head-1", 0.3}, {"lr-SGD/pg1", 0.01}, {"lr-SGD/pg2", 0.02}, {"lr-Adam-2", 0.4}};
  CHECK(o.learning_rates() == expected);

  auto single = normalize(OptimizerConfig{
      .optimizer = sgd(0.5), .lr_scheduler = LRSchedulerConfig{.scheduler = volt::optim::StepLR{{.step_size = 1}}, .name = "lr-sgd"}});
  CHECK(single.learning_rates() == std::vector<std::pair<std::string, double>>{{"lr-sgd", 0.5}});
  CHECK(volt::optim::class_name<volt::optim::SequentialLR<volt::optim::LinearLR>>() == "SequentialLR");
}

TEST_CASE("Optimization save / load resumes every optimizer and scheduler identically", "[optim]") {
  auto make = [] {
    return normalize(std::tuple{
        OptimizerConfig{.optimizer = sgd(1.0),
                        .lr_scheduler = LRSchedulerConfig{.scheduler = volt::optim::CosineAnnealingLR{{.T_max = 5}},
                                                          .interval = Interval::step,
                                                          .frequency = 2}},
        OptimizerConfig{.optimizer = adam(0.1),
                        .lr_scheduler = volt::optim::ReduceLROnPlateau{{.factor = 0.5, .patience = 1}},
                        .monitor = "val_loss"},
        OptimizerConfig{.optimizer = std::make_unique<SGD>(one_param(), torch::optim::SGDOptions(0.7))}});
  };
  const std::vector<double> losses{3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1};
  auto run = [&](auto& o, std::int64_t from, std::int64_t to) {
    for (std::int64_t s = from; s < to; ++s) {
      o.step_schedulers(Interval::step, s + 1, volt::optim::NoMetrics{});
      o.step_schedulers(Interval::epoch, s + 1, metrics_with({{"val_loss", losses[static_cast<std::size_t>(s)]}}));
    }
  };
  auto a = make();
  run(a, 0, 5);
  const std::string bytes = volt_test::save_to_string(a);
  auto b = make();
  volt_test::load_from_string(b, bytes);
  CHECK(b.learning_rates() == a.learning_rates());
  run(a, 5, 12);
  run(b, 5, 12);
  CHECK(b.learning_rates() == a.learning_rates());
  CHECK(b.lr_scheduler<1>().best() == a.lr_scheduler<1>().best());
  CHECK(lr_of(a.optimizer<1>()) < 0.1);  // the plateau cut happened
}

TEST_CASE("torch's StepLR step count survives save / load", "[optim]") {
  auto make = [] {
    auto opt = std::make_unique<SGD>(one_param(), torch::optim::SGDOptions(1.0));
    auto sched = std::make_unique<torch::optim::StepLR>(*opt, 3, 0.5);
    return normalize(volt::with_scheduler(std::move(opt), std::move(sched)));
  };
  auto a = make();
  for (std::int64_t e = 1; e <= 4; ++e) a.step_schedulers(Interval::epoch, e, volt::optim::NoMetrics{});
  auto b = make();
  volt_test::load_from_string(b, volt_test::save_to_string(a));
  for (std::int64_t e = 5; e <= 9; ++e) {
    a.step_schedulers(Interval::epoch, e, volt::optim::NoMetrics{});
    b.step_schedulers(Interval::epoch, e, volt::optim::NoMetrics{});
    CHECK(lr_of(b.optimizer()) == lr_of(a.optimizer()));
  }
}

// ---- trainer.fit steps the schedulers at Lightning's points ----------------------------------

namespace {

struct LineData {
  torch::Tensor x = torch::linspace(-1, 1, 32).unsqueeze(1), y = 2 * x;
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 8}}; }  // 4 batches
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 16}}; }
};

// The optimizer is shared with the test, so its lr can be read after fit.
template <class MakeConfig>
struct LineModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  std::shared_ptr<SGD> optimizer;
  MakeConfig make_config;
  explicit LineModel(MakeConfig make) : make_config(std::move(make)) {
    fc = register_module("fc", torch::nn::Linear(1, 1));
    optimizer = std::make_shared<SGD>(parameters(), torch::optim::SGDOptions(1e-3));
  }
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t) { return torch::mse_loss(fc(b.data), b.target); }
  void validation_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    ctx.log("val_loss", torch::mse_loss(fc(b.data), b.target));
  }
  auto configure_optimizers() { return make_config(optimizer); }
};

template <class Make>
std::shared_ptr<SGD> fit_with(Make make, std::int64_t epochs) {
  LineModel<Make> model(std::move(make));
  LineData data;
  volt::Trainer<LineModel<Make>, LineData> trainer{{.max_epochs = epochs}};
  trainer.fit(model, data);
  return model.optimizer;
}

}  // namespace

TEST_CASE("fit steps step-interval schedulers after each optimizer step", "[optim]") {
  auto opt = fit_with(
      [](std::shared_ptr<SGD> o) {
        return OptimizerConfig{.optimizer = o,
                               .lr_scheduler = LRSchedulerConfig{.scheduler = volt::optim::ExponentialLR{{.gamma = 0.5}},
                                                                 .interval = Interval::step}};
      },
      2);
  CHECK(lr_of(*opt) == Approx(1e-3 * std::pow(0.5, 8)));  // 2 epochs x 4 batches
}

TEST_CASE("fit steps epoch-interval schedulers once per epoch, honouring frequency", "[optim]") {
  auto opt = fit_with(
      [](std::shared_ptr<SGD> o) {
        return volt::with_scheduler(o, volt::optim::ExponentialLR{{.gamma = 0.5}}, {.frequency = 2});
      },
      5);
  CHECK(lr_of(*opt) == Approx(1e-3 * 0.25));  // epochs 2 and 4
}

TEST_CASE("fit steps ReduceLROnPlateau on the validation metric after validation", "[optim]") {
  // Never "better" after the first epoch (an absolute threshold no loss can beat), patience 0:
  // epoch 1 sets the best, epochs 2 and 3 each cut the lr in half.
  auto opt = fit_with(
      [](std::shared_ptr<SGD> o) {
        return OptimizerConfig{
            .optimizer = o,
            .lr_scheduler = volt::optim::ReduceLROnPlateau{{.factor = 0.5,
                                                            .patience = 0,
                                                            .threshold = 1e9,
                                                            .threshold_mode = volt::optim::ThresholdMode::abs}},
            .monitor = "val_loss"};
      },
      3);
  CHECK(lr_of(*opt) == Approx(1e-3 * 0.25));
}

TEST_CASE("fit with a monitor no one logs fails naming it", "[optim]") {
  auto make = [](std::shared_ptr<SGD> o) {
    return OptimizerConfig{.optimizer = o,
                           .lr_scheduler = volt::optim::ReduceLROnPlateau{},
                           .monitor = "val_accuracy"};
  };
  CHECK_THROWS_WITH(fit_with(make, 1), Contains("'val_accuracy'") && Contains("val_loss"));
}
