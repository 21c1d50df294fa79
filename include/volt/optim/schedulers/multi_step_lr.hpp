#pragma once
// MultiStepLR: lr = base_lr * gamma^(number of milestones <= epoch) (torch.optim.lr_scheduler.MultiStepLR;
// a milestone listed twice decays twice, as torch's Counter does).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include <volt/optim/scheduler.hpp>

namespace volt::optim {

class MultiStepLR : public LRSchedulerBase<MultiStepLR> {
 public:
  struct Options {
    std::vector<std::int64_t> milestones;  // scheduler steps at which lr decays
    double gamma = 0.1;
  };

  explicit MultiStepLR(Options options) : options_(std::move(options)) {
    std::sort(options_.milestones.begin(), options_.milestones.end());
  }
  const Options& options() const noexcept { return options_; }

 private:
  friend LRSchedulerBase<MultiStepLR>;
  std::vector<double> chainable_lrs() const {
    auto lrs = current_lrs();
    const auto [lo, hi] = std::equal_range(options_.milestones.begin(), options_.milestones.end(), last_epoch());
    const auto hits = hi - lo;
    if (hits == 0) return lrs;
    for (auto& lr : lrs) lr *= std::pow(options_.gamma, static_cast<double>(hits));
    return lrs;
  }
  std::vector<double> closed_form_lrs() const {
    const auto passed = std::upper_bound(options_.milestones.begin(), options_.milestones.end(), last_epoch()) -
                        options_.milestones.begin();
    std::vector<double> lrs;
    for (double base : base_lrs()) lrs.push_back(base * std::pow(options_.gamma, static_cast<double>(passed)));
    return lrs;
  }

  Options options_;
};

#if defined(VOLT_SEPARATE_COMPILATION)
extern template class LRSchedulerBase<MultiStepLR>;  // compiled once, in include/volt/impl/src.hpp
#endif

}  // namespace volt::optim
