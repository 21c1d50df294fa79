#pragma once
// ExponentialLR: lr = base_lr * gamma^epoch (torch.optim.lr_scheduler.ExponentialLR, chainable form).
#include <cmath>
#include <vector>

#include <volt/optim/scheduler.hpp>

namespace volt::optim {

class ExponentialLR : public LRSchedulerBase<ExponentialLR> {
 public:
  struct Options {
    double gamma;  // multiplicative factor per scheduler step
  };

  explicit ExponentialLR(Options options) : options_(options) {}
  const Options& options() const noexcept { return options_; }

 private:
  friend LRSchedulerBase<ExponentialLR>;
  std::vector<double> chainable_lrs() const {
    auto lrs = current_lrs();
    if (last_epoch() == 0) return lrs;
    for (auto& lr : lrs) lr *= options_.gamma;
    return lrs;
  }
  std::vector<double> closed_form_lrs() const {
    std::vector<double> lrs;
    for (double base : base_lrs()) lrs.push_back(base * std::pow(options_.gamma, static_cast<double>(last_epoch())));
    return lrs;
  }

  Options options_;
};

#if defined(VOLT_SEPARATE_COMPILATION)
extern template class LRSchedulerBase<ExponentialLR>;  // compiled once, in include/volt/impl/src.hpp
#endif

}  // namespace volt::optim
