#pragma once
// StepLR: lr = base_lr * gamma^(epoch / step_size) (torch.optim.lr_scheduler.StepLR, chainable form).
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <volt/optim/scheduler.hpp>

namespace volt::optim {

class StepLR : public LRSchedulerBase<StepLR> {
 public:
  struct Options {
    std::int64_t step_size;  // period of decay, in scheduler steps
    double gamma = 0.1;      // multiplicative factor of decay
  };

  explicit StepLR(Options options) : options_(options) {
    if (options_.step_size < 1)
      detail::sched::throw_invalid_option("StepLR", "step_size", options_.step_size, "it must be >= 1");
  }
  const Options& options() const noexcept { return options_; }

 private:
  friend LRSchedulerBase<StepLR>;
  std::vector<double> chainable_lrs() const {
    auto lrs = current_lrs();
    if (last_epoch() == 0 || last_epoch() % options_.step_size != 0) return lrs;
    for (auto& lr : lrs) lr *= options_.gamma;
    return lrs;
  }
  std::vector<double> closed_form_lrs() const {
    std::vector<double> lrs;
    for (double base : base_lrs())
      lrs.push_back(base * std::pow(options_.gamma, static_cast<double>(last_epoch() / options_.step_size)));
    return lrs;
  }

  Options options_;
};

#if defined(VOLT_SEPARATE_COMPILATION)
extern template class LRSchedulerBase<StepLR>;  // compiled once, in include/volt/impl/src.hpp
#endif

}  // namespace volt::optim
