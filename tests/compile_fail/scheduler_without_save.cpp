// expect: static assertion failed: volt: this lr scheduler cannot be saved
//
// A hand-written scheduler that steps but cannot be saved: a checkpoint holds every
// scheduler's state, so it needs save/load (or volt::optim::LRSchedulerBase).
#include <cstdint>
#include <memory>
#include <utility>

#include "case_support.hpp"

namespace {

// Halves the lr of a bound optimizer on each step.
struct Halving {
  torch::optim::Optimizer* optimizer = nullptr;
  void on_bind(torch::optim::Optimizer& o) { optimizer = &o; }
  void step() {
    if (optimizer == nullptr) return;
    for (auto& g : optimizer->param_groups()) g.options().set_lr(g.options().get_lr() * 0.5);
  }
#ifndef VOLT_COMPILE_FAIL
  void save(torch::serialize::OutputArchive&) const {}  // stateless: nothing to write
  void load(torch::serialize::InputArchive&) {}
#endif
};

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() {
    auto optimizer = std::make_unique<torch::optim::SGD>(parameters(), torch::optim::SGDOptions(0.1));
    return volt::with_scheduler(std::move(optimizer), Halving{});
  }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
