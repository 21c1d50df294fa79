#pragma once
// LinearLR (torch.optim.lr_scheduler.LinearLR): the lr factor goes linearly from start_factor to
// end_factor over total_iters scheduler steps, then stays (a linear warmup with the defaults).
//   lr_t = base_lr * (start + (end - start) * min(t, total_iters) / total_iters)
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <volt/optim/scheduler.hpp>

namespace volt::optim {

class LinearLR : public LRSchedulerBase<LinearLR> {
 public:
  struct Options {
    double start_factor = 1.0 / 3;
    double end_factor = 1.0;
    std::int64_t total_iters = 5;
  };

  LinearLR() : LinearLR(Options{}) {}
  explicit LinearLR(Options options) : options_(options) {
    if (options_.start_factor > 1.0 || options_.start_factor <= 0.0)
      detail::sched::throw_invalid_option("LinearLR", "start_factor", options_.start_factor,
                                          "it must be greater than 0 and at most 1");
    if (options_.end_factor > 1.0 || options_.end_factor < 0.0)
      detail::sched::throw_invalid_option("LinearLR", "end_factor", options_.end_factor, "it must be between 0 and 1");
    if (options_.total_iters < 1)
      detail::sched::throw_invalid_option("LinearLR", "total_iters", options_.total_iters, "it must be >= 1");
  }
  const Options& options() const noexcept { return options_; }

 private:
  friend LRSchedulerBase<LinearLR>;
  std::vector<double> chainable_lrs() const {
    const auto t = last_epoch();
    const double s = options_.start_factor, e = options_.end_factor;
    auto lrs = current_lrs();
    if (t == 0) {
      for (auto& lr : lrs) lr *= s;
      return lrs;
    }
    if (t > options_.total_iters) return lrs;
    const double factor =
        1.0 + (e - s) / (static_cast<double>(options_.total_iters) * s + static_cast<double>(t - 1) * (e - s));
    for (auto& lr : lrs) lr *= factor;
    return lrs;
  }
  std::vector<double> closed_form_lrs() const {
    const double s = options_.start_factor, e = options_.end_factor;
    const double done = static_cast<double>(std::min(options_.total_iters, last_epoch()));
    std::vector<double> lrs;
    for (double base : base_lrs())
      lrs.push_back(base * (s + (e - s) * done / static_cast<double>(options_.total_iters)));
    return lrs;
  }

  Options options_;
};

#if defined(VOLT_SEPARATE_COMPILATION)
extern template class LRSchedulerBase<LinearLR>;  // compiled once, in include/volt/impl/src.hpp
#endif

}  // namespace volt::optim
