#pragma once
// CosineAnnealingLR (torch.optim.lr_scheduler.CosineAnnealingLR): torch's recursive form
//   lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T_max)) / (1 + cos(pi (t-1) / T_max))
// (with torch's special case just past each minimum), which follows the closed form
//   lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi t / T_max)) / 2
// and keeps oscillating past T_max (no restarts), as torch's does.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <vector>

#include <volt/optim/scheduler.hpp>

namespace volt::optim {

class CosineAnnealingLR : public LRSchedulerBase<CosineAnnealingLR> {
 public:
  struct Options {
    std::int64_t T_max;    // half period, in scheduler steps
    double eta_min = 0.0;  // minimum lr
  };

  explicit CosineAnnealingLR(Options options) : options_(options) {
    if (options_.T_max < 1)
      detail::sched::throw_invalid_option("CosineAnnealingLR", "T_max", options_.T_max, "it must be >= 1");
  }
  const Options& options() const noexcept { return options_; }

 private:
  friend LRSchedulerBase<CosineAnnealingLR>;
  std::vector<double> chainable_lrs() const {
    constexpr double pi = std::numbers::pi;
    const auto t = last_epoch();
    const auto T = options_.T_max;
    const double eta_min = options_.eta_min;
    auto lrs = current_lrs();
    if (t == 0) return lrs;
    if (detail::sched::py_mod(t - 1 - T, 2 * T) == 0) {
      for (std::size_t i = 0; i < lrs.size(); ++i)
        lrs[i] = lrs[i] + (base_lrs()[i] - eta_min) * (1 - std::cos(pi / static_cast<double>(T))) / 2;
      return lrs;
    }
    const double ratio = (1 + std::cos(pi * static_cast<double>(t) / static_cast<double>(T))) /
                         (1 + std::cos(pi * static_cast<double>(t - 1) / static_cast<double>(T)));
    for (auto& lr : lrs) lr = ratio * (lr - eta_min) + eta_min;
    return lrs;
  }
  std::vector<double> closed_form_lrs() const {
    constexpr double pi = std::numbers::pi;
    std::vector<double> lrs;
    for (double base : base_lrs())
      lrs.push_back(options_.eta_min +
                    (base - options_.eta_min) *
                        (1 + std::cos(pi * static_cast<double>(last_epoch()) / static_cast<double>(options_.T_max))) /
                        2);
    return lrs;
  }

  Options options_;
};

#if defined(VOLT_SEPARATE_COMPILATION)
extern template class LRSchedulerBase<CosineAnnealingLR>;  // compiled once, in include/volt/impl/src.hpp
#endif

}  // namespace volt::optim
