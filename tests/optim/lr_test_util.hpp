#pragma once
// Shared by the scheduler tests: optimizers with known param groups, and a save / load round
// trip through torch's archives (in memory).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <sstream>
#include <vector>

#include <volt/optim/optimizer_state.hpp>

namespace volt_test {

// An SGD optimizer with one param group per lr in `lrs` (one scalar parameter each).
inline torch::optim::SGD make_sgd(const std::vector<double>& lrs, double momentum = 0.0) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (double lr : lrs)
    groups.emplace_back(std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())},
                        std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(lr).momentum(momentum)));
  return torch::optim::SGD(std::move(groups), torch::optim::SGDOptions(lrs.front()));
}

inline std::vector<double> lrs_of(const torch::optim::Optimizer& optimizer) {
  std::vector<double> out;
  for (const auto& g : optimizer.param_groups()) out.push_back(g.options().get_lr());
  return out;
}

inline std::vector<double> momenta_of(const torch::optim::SGD& optimizer) {
  std::vector<double> out;
  for (const auto& g : optimizer.param_groups())
    out.push_back(static_cast<const torch::optim::SGDOptions&>(g.options()).momentum());
  return out;
}

// volt::optim::save_optimizer / load_optimizer as save / load members, for the helpers below.
struct OptimizerState {
  torch::optim::Optimizer* optimizer;
  void save(torch::serialize::OutputArchive& a) const { volt::optim::save_optimizer(*optimizer, a); }
  void load(torch::serialize::InputArchive& a) { volt::optim::load_optimizer(*optimizer, a); }
};

// Checks that each group's lr (in the optimizer, and the scheduler's last_lr) is `expected`
// per group: expected(epoch, base_lr).
template <class Scheduler>
void check_lrs(const Scheduler& scheduler, const torch::optim::Optimizer& optimizer, const std::vector<double>& bases,
               std::int64_t epoch, const std::function<double(std::int64_t, double)>& expected) {
  const auto actual = lrs_of(optimizer);
  REQUIRE(actual.size() == bases.size());
  REQUIRE(scheduler.last_lr().size() == bases.size());
  for (std::size_t g = 0; g < bases.size(); ++g) {
    INFO("epoch " << epoch << ", param group " << g);
    const double want = expected(epoch, bases[g]);
    CHECK(actual[g] == Approx(want).epsilon(1e-12).margin(1e-15));
    CHECK(scheduler.last_lr()[g] == actual[g]);
  }
}

template <class T>
std::string save_to_string(const T& object) {
  torch::serialize::OutputArchive archive;
  object.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

template <class T>
void load_from_string(T& object, const std::string& bytes) {
  std::istringstream in(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  object.load(archive);
}

// Steps a scheduler `before` times, saves it (and its optimizer), loads both into fresh copies
// made by `make` (attached to a fresh optimizer), and checks that the original and the resumed
// run give identical lrs (and SGD momenta) for `after` more steps. `step(s, i)` steps a scheduler.
template <class MakeScheduler, class Step>
void check_resume(const std::vector<double>& bases, MakeScheduler make, Step step, int before, int after,
                  double momentum = 0.0) {
  auto opt_a = make_sgd(bases, momentum);
  auto sched_a = make();
  sched_a.attach(opt_a);
  for (int i = 0; i < before; ++i) step(sched_a, i);
  const std::string opt_bytes = save_to_string(OptimizerState{&opt_a});
  const std::string sched_bytes = save_to_string(sched_a);

  auto opt_b = make_sgd(bases, momentum);
  auto sched_b = make();
  sched_b.attach(opt_b);
  OptimizerState state_b{&opt_b};
  load_from_string(state_b, opt_bytes);
  load_from_string(sched_b, sched_bytes);
  CHECK(lrs_of(opt_b) == lrs_of(opt_a));
  CHECK(momenta_of(opt_b) == momenta_of(opt_a));
  CHECK(sched_b.last_lr() == sched_a.last_lr());
  for (int i = before; i < before + after; ++i) {
    step(sched_a, i);
    step(sched_b, i);
    INFO("step " << i);
    CHECK(lrs_of(opt_b) == lrs_of(opt_a));
    CHECK(momenta_of(opt_b) == momenta_of(opt_a));
    CHECK(sched_b.last_lr() == sched_a.last_lr());
  }
}

}  // namespace volt_test
