// volt::metrics: every metric against values worked out by hand (in the comments), the same
// value when the data come in several batches or are split over two metric objects and merged
// (as DDP ranks will merge), reset(), the errors, and ctx.log(name, metric): computed and reset
// when its loop's epoch ends.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include <volt/core/context.hpp>
#include <volt/metrics/accuracy.hpp>
#include <volt/metrics/auroc.hpp>
#include <volt/metrics/f1_score.hpp>
#include <volt/metrics/mean_absolute_error.hpp>
#include <volt/metrics/mean_squared_error.hpp>
#include <volt/metrics/metric.hpp>
#include <volt/metrics/r2_score.hpp>

namespace {

using namespace volt::metrics;
using Catch::Matchers::Contains;

double value(const auto& metric) { return metric.compute().template item<double>(); }

torch::Tensor f(std::initializer_list<double> v) { return torch::tensor(std::vector<double>(v), torch::kFloat32); }
torch::Tensor l(std::initializer_list<std::int64_t> v) { return torch::tensor(std::vector<std::int64_t>(v)); }

// The metric fed all of (preds, target) at once, batch by batch (batches of 2), and split over
// two objects then merged: all three give `expected`.
template <class M>
void check_everywhere(M make(), const torch::Tensor& preds, const torch::Tensor& target, double expected) {
  M whole = make();
  whole.update(preds, target);
  CHECK(value(whole) == Approx(expected));

  M batched = make();
  for (int64_t i = 0; i < preds.size(0); i += 2) batched.update(preds.slice(0, i, i + 2), target.slice(0, i, i + 2));
  CHECK(value(batched) == Approx(expected));

  const int64_t half = preds.size(0) / 2;
  M first = make(), second = make();
  first.update(preds.slice(0, 0, half), target.slice(0, 0, half));
  second.update(preds.slice(0, half), target.slice(0, half));
  merge(first, second);
  CHECK(value(first) == Approx(expected));

  // One process: sync with the identity leaves the value alone.
  sync(first, [](const torch::Tensor& t, StateReduction) { return t; });
  CHECK(value(first) == Approx(expected));

  whole.reset();
  CHECK(std::isnan(value(whole)));
  whole.update(preds, target);
  CHECK(value(whole) == Approx(expected));
}

}  // namespace

TEST_CASE("regression metrics match hand-computed values", "[metrics]") {
  // preds - target = 0, -1, 1, -2: squares 0, 1, 1, 4; absolute values 0, 1, 1, 2.
  const auto preds = f({1, 2, 3, 4}), target = f({1, 3, 2, 6});
  check_everywhere<MeanSquaredError>([] { return MeanSquaredError{}; }, preds, target, 6.0 / 4);
  check_everywhere<MeanSquaredError>([] { return MeanSquaredError{{.squared = false}}; }, preds, target,
                                     std::sqrt(6.0 / 4));
  check_everywhere<MeanAbsoluteError>([] { return MeanAbsoluteError{}; }, preds, target, 4.0 / 4);
  // mean(target) = 3, SS_tot = 4 + 0 + 1 + 9 = 14, SS_res = 6: R2 = 1 - 6/14.
  check_everywhere<R2Score>([] { return R2Score{}; }, preds, target, 1 - 6.0 / 14);
  // [N, 1] predictions (a regression head's output) against [N] targets.
  R2Score r2;
  r2.update(preds.unsqueeze(1), target);
  CHECK(value(r2) == Approx(1 - 6.0 / 14));
}

TEST_CASE("binary accuracy and F1 threshold probabilities and logits", "[metrics]") {
  // Labels at 0.5: 1, 0, 1, 0 against 1, 0, 0, 0: 3 of 4 correct; tp 1, fp 1, fn 0: F1 = 2/3.
  const auto target = l({1, 0, 0, 0});
  const auto probs = f({0.9, 0.2, 0.6, 0.4});
  const auto logits = f({2.0, -1.0, 0.5, -0.3});  // the same labels once through a sigmoid
  for (const auto& preds : {probs, logits, l({1, 0, 1, 0})}) {
    check_everywhere<Accuracy>([] { return Accuracy{}; }, preds, target, 0.75);
    check_everywhere<F1Score>([] { return F1Score{}; }, preds, target, 2.0 / 3);
  }
  // A higher threshold: labels 1, 0, 0, 0: all correct.
  Accuracy strict({.threshold = 0.7});
  strict.update(probs, target);
  CHECK(value(strict) == Approx(1.0));
}

TEST_CASE("multiclass accuracy: top-1, top-k, micro and macro", "[metrics]") {
  // top-1 picks 1, 0, 2, 0, 0 against 1, 1, 2, 2, 0: examples 0, 2, 4 correct.
  const auto scores = torch::tensor({0.1, 0.7, 0.2,  //
                                     0.5, 0.3, 0.2,  //
                                     0.2, 0.3, 0.5,  //
                                     0.6, 0.1, 0.3,  //
                                     0.8, 0.15, 0.05})
                          .reshape({5, 3});
  const auto target = l({1, 1, 2, 2, 0});
  // micro: 3/5; macro: class 0 1/1, class 1 1/2, class 2 1/2: mean 2/3 (torchmetrics' default).
  check_everywhere<Accuracy>([] { return Accuracy{{.task = Task::multiclass, .num_classes = 3, .average = Average::micro}}; },
                             scores, target, 3.0 / 5);
  check_everywhere<Accuracy>([] { return Accuracy{{.task = Task::multiclass, .num_classes = 3}}; }, scores, target,
                             2.0 / 3);
  // top-2 holds the target for every example.
  check_everywhere<Accuracy>(
      [] { return Accuracy{{.task = Task::multiclass, .num_classes = 3, .top_k = 2, .average = Average::micro}}; },
      scores, target, 1.0);
  // Class indices instead of scores.
  check_everywhere<Accuracy>([] { return Accuracy{{.task = Task::multiclass, .num_classes = 3, .average = Average::micro}}; },
                             l({1, 0, 2, 0, 0}), target, 3.0 / 5);
}

TEST_CASE("multiclass F1: per-class counts, macro and micro", "[metrics]") {
  // Predicted 1, 0, 2, 0, 0 against 1, 1, 2, 2, 0. Class 0: tp 1, fp 2, fn 0: F1 2/4.
  // Class 1: tp 1, fp 0, fn 1: 2/3. Class 2: tp 1, fp 0, fn 1: 2/3. Micro: tp 3, fp 2, fn 2: 6/10.
  const auto preds = l({1, 0, 2, 0, 0}), target = l({1, 1, 2, 2, 0});
  check_everywhere<F1Score>([] { return F1Score{{.task = Task::multiclass, .num_classes = 3}}; }, preds, target,
                            (0.5 + 2.0 / 3 + 2.0 / 3) / 3);
  check_everywhere<F1Score>([] { return F1Score{{.task = Task::multiclass, .num_classes = 3, .average = Average::micro}}; },
                            preds, target, 0.6);
  // A class never seen in targets or predictions is left out of the macro mean.
  F1Score four({.task = Task::multiclass, .num_classes = 4});
  four.update(preds, target);
  CHECK(value(four) == Approx((0.5 + 2.0 / 3 + 2.0 / 3) / 3));
}

TEST_CASE("binary AUROC is the fraction of positive-negative pairs ranked right, ties counting half", "[metrics]") {
  // Positives 0.35, 0.8; negatives 0.1, 0.4: pairs right: (0.35, 0.1), (0.8, 0.1), (0.8, 0.4): 3 of 4.
  check_everywhere<AUROC>([] { return AUROC{}; }, f({0.1, 0.4, 0.35, 0.8}), l({0, 0, 1, 1}), 0.75);
  // Positives 0.5, 0.9; negatives 0.5, 0.2: (0.5 vs 0.5) counts 1/2, the other three 1: 3.5 / 4.
  check_everywhere<AUROC>([] { return AUROC{}; }, f({0.5, 0.5, 0.2, 0.9}), l({1, 0, 0, 1}), 0.875);
  // Logits rank the same as probabilities.
  AUROC logits;
  logits.update(torch::logit(f({0.1, 0.4, 0.35, 0.8})), l({0, 0, 1, 1}));
  CHECK(value(logits) == Approx(0.75));
  // One class only: undefined.
  AUROC one_class;
  one_class.update(f({0.1, 0.9}), l({1, 1}));
  CHECK(std::isnan(value(one_class)));
}

TEST_CASE("metrics name the problem in bad input", "[metrics]") {
  MeanSquaredError mse;
  CHECK_THROWS_WITH(mse.update(f({1, 2, 3}), f({1, 2})),
                    Contains("MeanSquaredError") && Contains("[3]") && Contains("[2]"));
  Accuracy acc({.task = Task::multiclass, .num_classes = 3});
  CHECK_THROWS_WITH(acc.update(torch::rand({2, 3}), l({0, 3})), Contains("class 3") && Contains("num_classes = 3"));
  CHECK_THROWS_WITH(acc.update(torch::rand({2, 4}), l({0, 1})), Contains("[N, 3]"));
  CHECK_THROWS_WITH(Accuracy({.task = Task::multiclass, .num_classes = 3, .top_k = 4}), Contains("top_k = 4"));
  CHECK_THROWS_WITH(F1Score({.task = Task::multiclass, .num_classes = 1}), Contains("num_classes >= 2"));
  CHECK_THROWS_WITH(acc.update(torch::rand({2, 3}), f({0, 1})), Contains("integer class indices"));
  Accuracy other({.task = Task::multiclass, .num_classes = 4});
  CHECK_THROWS_WITH(merge(acc, other), Contains("\"correct\"") && Contains("[3]") && Contains("[4]"));
}

TEST_CASE("ctx.log(name, metric) computes the metric when its epoch ends, then resets it", "[metrics][core]") {
  volt::RunState state;
  volt::MetricStore store;
  torch::nn::Module module;
  volt::Context ctx(state, store, module);
  MeanAbsoluteError mae;

  state.family = volt::HookFamily::validation;
  mae.update(f({1, 2}), f({1, 3}));  // errors 0, 1
  ctx.log("val_mae", mae);
  mae.update(f({3, 4}), f({2, 6}));  // errors 1, 2
  ctx.log("val_mae", mae);
  CHECK_FALSE(store.metric("val_mae").has_value());  // nothing until the epoch ends
  CHECK(store.end_epoch(volt::HookFamily::train_epoch).empty());  // another loop's end leaves it
  const auto produced = store.end_epoch(volt::HookFamily::validation);
  CHECK(produced.at("val_mae") == Approx(1.0));
  CHECK(store.metric("val_mae") == Approx(1.0));
  CHECK(store.take_epoch_logs().at("val_mae") == Approx(1.0));
  CHECK(std::isnan(value(mae)));  // reset for the next epoch

  // Logged from training_step, the metric still ends with the training epoch.
  state.family = volt::HookFamily::train_step;
  mae.update(f({0}), f({4}));
  ctx.log("train_mae", mae, {.prog_bar = true});
  CHECK(store.end_epoch(volt::HookFamily::train_epoch).at("train_mae") == Approx(4.0));
  CHECK(store.progress_bar_metrics().at("train_mae") == Approx(4.0));

  // The sanity check's values are discarded, the metric's state with them.
  state.family = volt::HookFamily::validation;
  mae.update(f({0}), f({9}));
  ctx.log("val_mae", mae);
  store.reset();
  CHECK(std::isnan(value(mae)));

  CHECK_THROWS_WITH(ctx.log("val_mae", mae, {.on_step = true}), Contains("on_step = true") && Contains("compute()"));
  state.family = volt::HookFamily::predict;
  CHECK_THROWS_WITH(ctx.log("val_mae", mae), Contains("predict"));
}
