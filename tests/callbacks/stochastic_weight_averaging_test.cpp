// StochasticWeightAveraging: when it averages, what the average is, the learning-rate
// annealing, the transfer into the module, and its checkpoint state.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <vector>

#include <volt/callbacks/stochastic_weight_averaging.hpp>

#include "callback_test_support.hpp"
#include "trainer_test_support.hpp"
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode

namespace {

using SWA = volt::StochasticWeightAveraging;
using volt_test::Harness;

void set_params(torch::nn::Module& m, double value) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.fill_(value);
}

bool params_equal(torch::nn::Module& m, double value) {
  for (const auto& p : m.parameters())
    if (!torch::allclose(p, torch::full_like(p, value))) return false;
  return true;
}

double lr(torch::optim::Optimizer& opt, std::size_t group = 0) { return opt.param_groups()[group].options().get_lr(); }

// Epochs [from, to): at each epoch start the module holds the weights `epoch` (what training
// produced so far); returns the lr each epoch ran with.
std::vector<double> run_epochs(Harness& h, SWA& cb, torch::optim::Optimizer& opt, std::int64_t from, std::int64_t to) {
  std::vector<double> lrs;
  for (std::int64_t e = from; e < to; ++e) {
    h.state.current_epoch = e;
    set_params(h.module, static_cast<double>(e));
    h.emit(volt::hooks::on_train_epoch_start, cb);
    lrs.push_back(lr(opt));
  }
  set_params(h.module, static_cast<double>(to));  // the last epoch's training
  h.state.current_epoch = to;
  return lrs;
}

struct BNModule : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
  BNModule() {
    fc = register_module("fc", torch::nn::Linear(2, 2));
    bn = register_module("bn", torch::nn::BatchNorm1d(2));
  }
};

}  // namespace

TEST_CASE("SWA averages the weights each SWA epoch starts from and copies the average in at the end",
          "[callbacks][stochastic_weight_averaging]") {
  Harness h;
  torch::optim::SGD sgd(h.module.parameters(), torch::optim::SGDOptions(0.1));
  h.optimizers = {&sgd};
  SWA cb{{.swa_lrs = 0.01, .swa_epoch_start = 2, .annealing_epochs = 2, .annealing_strategy = SWA::Annealing::linear}};
  h.emit(volt::hooks::on_fit_start, cb);
  CHECK(cb.swa_start() == 1);      // the 2nd epoch, 0-based
  CHECK_FALSE(cb.swa_end().has_value());  // the Trainer does not give max_epochs (yet): until training ends
  CHECK_FALSE(cb.contains_batch_norm());

  const auto lrs = run_epochs(h, cb, sgd, 0, 5);
  CHECK(cb.initialized());
  CHECK(cb.n_averaged() == 4);  // epochs 1..4 averaged the weights 1, 2, 3, 4
  REQUIRE(cb.averaged_parameters().size() == 2);
  CHECK(cb.averaged_parameters()[0].first == "fc.weight");
  CHECK(torch::allclose(cb.averaged_parameters()[0].second, torch::full({1, 2}, 2.5)));
  CHECK(cb.averaged_parameters()[0].second.device() == torch::Device(torch::kCPU));
  // lr: untouched before SWA, then linear from 0.1 to 0.01 over 2 epochs
  REQUIRE(lrs.size() == 5);
  CHECK(lrs[0] == Approx(0.1));
  CHECK(lrs[1] == Approx(0.1));
  CHECK(lrs[2] == Approx(0.055));
  CHECK(lrs[3] == Approx(0.01));
  CHECK(lrs[4] == Approx(0.01));

  CHECK(params_equal(h.module, 5.0));
  h.emit(volt::hooks::on_train_end, cb);
  CHECK(params_equal(h.module, 2.5));
}

TEST_CASE("SWA annealing strategies", "[callbacks][stochastic_weight_averaging]") {
  CHECK(SWA::anneal_factor(SWA::Annealing::cos, 0, 10) == 0.0);
  CHECK(SWA::anneal_factor(SWA::Annealing::cos, 5, 10) == Approx(0.5));
  CHECK(SWA::anneal_factor(SWA::Annealing::cos, 1, 4) == Approx((1 - std::cos(std::numbers::pi / 4)) / 2));
  CHECK(SWA::anneal_factor(SWA::Annealing::cos, 12, 10) == 1.0);
  CHECK(SWA::anneal_factor(SWA::Annealing::linear, 3, 4) == Approx(0.75));
  CHECK(SWA::anneal_factor(SWA::Annealing::linear, 0, 0) == 1.0);  // no annealing: swa_lr at once

  Harness h;
  torch::optim::SGD sgd(h.module.parameters(), torch::optim::SGDOptions(0.1));
  h.optimizers = {&sgd};
  SECTION("cos (the default) over 4 epochs") {
    SWA cb{{.swa_lrs = 0.01, .swa_epoch_start = 1, .annealing_epochs = 4}};
    h.emit(volt::hooks::on_fit_start, cb);
    const auto lrs = run_epochs(h, cb, sgd, 0, 6);
    const double a1 = (1 - std::cos(std::numbers::pi / 4)) / 2;
    CHECK(lrs[0] == Approx(0.1));
    CHECK(lrs[1] == Approx(0.01 * a1 + 0.1 * (1 - a1)));
    CHECK(lrs[2] == Approx(0.055));
    CHECK(lrs[4] == Approx(0.01));
    CHECK(lrs[5] == Approx(0.01));
  }
  SECTION("annealing_epochs = 0") {
    SWA cb{{.swa_lrs = 0.01, .swa_epoch_start = 1, .annealing_epochs = 0}};
    h.emit(volt::hooks::on_fit_start, cb);
    const auto lrs = run_epochs(h, cb, sgd, 0, 2);
    CHECK(lrs[0] == Approx(0.01));
  }
}

TEST_CASE("SWA swa_lrs per param group", "[callbacks][stochastic_weight_averaging]") {
  Harness h;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{h.module.fc->weight}, std::make_unique<torch::optim::SGDOptions>(0.1));
  groups.emplace_back(std::vector<torch::Tensor>{h.module.fc->bias}, std::make_unique<torch::optim::SGDOptions>(0.2));
  torch::optim::SGD sgd(groups, torch::optim::SGDOptions(0.1));
  h.optimizers = {&sgd};
  SECTION("one per group") {
    SWA cb{{.swa_lrs = {0.01, 0.02}, .swa_epoch_start = 1, .annealing_epochs = 0}};
    h.emit(volt::hooks::on_fit_start, cb);
    run_epochs(h, cb, sgd, 0, 1);
    CHECK(lr(sgd, 0) == Approx(0.01));
    CHECK(lr(sgd, 1) == Approx(0.02));
  }
  SECTION("one for all") {
    SWA cb{{.swa_lrs = 0.05, .swa_epoch_start = 1, .annealing_epochs = 0}};
    h.emit(volt::hooks::on_fit_start, cb);
    run_epochs(h, cb, sgd, 0, 1);
    CHECK(lr(sgd, 0) == Approx(0.05));
    CHECK(lr(sgd, 1) == Approx(0.05));
  }
  SECTION("a count that does not match the groups") {
    SWA cb{{.swa_lrs = {0.01, 0.02, 0.03}, .swa_epoch_start = 1}};
    h.emit(volt::hooks::on_fit_start, cb);
    CHECK_THROWS_WITH(h.emit(volt::hooks::on_train_epoch_start, cb),
                      Catch::Contains("3 learning rates") && Catch::Contains("2 param groups"));
  }
}

TEST_CASE("SWA state: n_averaged, annealing and the averaged tensors survive a resume",
          "[callbacks][stochastic_weight_averaging]") {
  Harness h;
  torch::optim::SGD sgd(h.module.parameters(), torch::optim::SGDOptions(0.1));
  h.optimizers = {&sgd};
  const SWA::Options options{.swa_lrs = 0.01, .swa_epoch_start = 2, .annealing_epochs = 2,
                             .annealing_strategy = SWA::Annealing::linear};
  SWA first{options};
  h.emit(volt::hooks::on_fit_start, first);
  run_epochs(h, first, sgd, 0, 3);  // averaged epochs 1, 2
  const auto state = nlohmann::json::parse(first.state_dict().dump());
  const auto tensors = first.tensor_state();
  CHECK(state["n_averaged"] == 2);
  CHECK(state["latest_update_epoch"] == 2);
  CHECK(state["scheduler_state"]["base_lrs"] == std::vector<double>{0.1});
  CHECK(state["scheduler_state"]["anneal_start_epoch"] == 1);
  REQUIRE(tensors.size() == 2);
  CHECK(torch::allclose(tensors[1].second, torch::full({1}, 1.5)));
  CHECK(SWA{options}.state_dict()["scheduler_state"].is_null());

  Harness h2;
  torch::optim::SGD sgd2(h2.module.parameters(), torch::optim::SGDOptions(0.5));  // the lr in the checkpoint is not used
  h2.optimizers = {&sgd2};
  SWA resumed{options};
  resumed.load_state_dict(state);
  resumed.load_tensor_state(tensors);
  h2.emit(volt::hooks::on_fit_start, resumed);
  const auto lrs = run_epochs(h2, resumed, sgd2, 3, 5);  // averages 3, 4
  CHECK(resumed.n_averaged() == 4);
  CHECK(lrs[0] == Approx(0.01));  // annealing step 2 of 2, from the checkpoint's base lr 0.1
  h2.emit(volt::hooks::on_train_end, resumed);
  CHECK(params_equal(h2.module, 2.5));
}

TEST_CASE("SWA checks its configuration", "[callbacks][stochastic_weight_averaging]") {
  CHECK_THROWS_WITH((SWA{{.swa_lrs = 0.01, .swa_epoch_start = 0}}), Catch::Contains("swa_epoch_start=0"));
  CHECK_THROWS_WITH((SWA{{.swa_lrs = 0.01, .swa_epoch_start = 1.5}}), Catch::Contains("swa_epoch_start=1.5"));
  CHECK_THROWS_WITH((SWA{{.swa_lrs = 0.0}}), Catch::Contains("positive"));
  CHECK_THROWS_WITH((SWA{{.swa_lrs = {0.1, -1.0}}}), Catch::Contains("positive"));
  CHECK_THROWS_WITH((SWA{{.swa_lrs = 0.1, .annealing_epochs = -1}}), Catch::Contains("annealing_epochs=-1"));
  CHECK(SWA{{.swa_lrs = 0.1}}.options().swa_epoch_start.fraction() == 0.8);  // Lightning's defaults
  CHECK(SWA{{.swa_lrs = 0.1}}.options().annealing_epochs == 10);
  CHECK(SWA{{.swa_lrs = 0.1}}.options().annealing_strategy == SWA::Annealing::cos);

  Harness h;
  torch::optim::SGD a(h.module.parameters(), torch::optim::SGDOptions(0.1));
  torch::optim::SGD b(h.module.parameters(), torch::optim::SGDOptions(0.1));
  SWA cb{{.swa_lrs = 0.01, .swa_epoch_start = 2}};
  h.optimizers = {&a, &b};
  CHECK_THROWS_WITH(h.emit(volt::hooks::on_fit_start, cb), Catch::Contains("exactly 1 optimizer"));
  h.optimizers = {&a};
  CHECK_NOTHROW(h.emit(volt::hooks::on_fit_start, cb));

  SWA fraction{{.swa_lrs = 0.01}};  // 0.8 of max_epochs, which RunState does not carry yet
  CHECK_THROWS_WITH(h.emit(volt::hooks::on_fit_start, fraction), Catch::Contains("max_epochs"));
}

TEST_CASE("SWA detects BatchNorm (whose statistics volt does not recompute yet)", "[callbacks][stochastic_weight_averaging]") {
  BNModule bn_module;
  volt_test::TinyModule plain;
  CHECK(SWA::module_contains_batch_norm(bn_module));
  CHECK_FALSE(SWA::module_contains_batch_norm(plain));
}

TEST_CASE("SWA without averaging leaves the module alone", "[callbacks][stochastic_weight_averaging]") {
  Harness h;
  torch::optim::SGD sgd(h.module.parameters(), torch::optim::SGDOptions(0.1));
  h.optimizers = {&sgd};
  SWA cb{{.swa_lrs = 0.01, .swa_epoch_start = 10}};
  h.emit(volt::hooks::on_fit_start, cb);
  run_epochs(h, cb, sgd, 0, 3);  // stopped before SWA started
  h.emit(volt::hooks::on_train_end, cb);
  CHECK(cb.n_averaged() == 0);
  CHECK(params_equal(h.module, 3.0));
  CHECK(lr(sgd) == Approx(0.1));
}


TEST_CASE("SWA in a real fit ends with the averaged weights in the module",
          "[callbacks][stochastic_weight_averaging][trainer]") {
  volt_test::ScriptedRegressor model;
  volt_test::SmallData data;
  volt_test::TrainerWith<SWA> trainer({.max_epochs = 4}, SWA{{.swa_lrs = 0.001, .swa_epoch_start = 2}});
  trainer.fit(model, data);
  const auto& swa = std::get<0>(trainer.callbacks());
  CHECK(swa.n_averaged() == 3);  // the starts of epochs 1, 2, 3
  for (const auto& [name, avg] : swa.averaged_parameters()) CHECK(torch::allclose(model.named_parameters()[name], avg));
}
