#pragma once
// OneCycleLR (torch.optim.lr_scheduler.OneCycleLR, "super-convergence"): the lr rises from
// max_lr / div_factor to max_lr over pct_start of total_steps, then anneals to
// max_lr / div_factor / final_div_factor (three_phase: back to the initial lr first, then down
// to the minimum). Momentum (SGD / RMSprop momentum, Adam / AdamW beta1) cycles inversely
// between max_momentum and base_momentum when cycle_momentum is on, as in torch. Step it after
// every optimizer step (interval = step); stepping past total_steps throws, as torch does.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <torch/torch.h>

#include <volt/optim/scheduler.hpp>
#include <volt/detail/config.hpp>

namespace volt::optim {

enum class AnnealStrategy { cos, linear };

class OneCycleLR : public LRSchedulerBase<OneCycleLR> {
 public:
  struct Options {
    double max_lr = 0.0;                 // upper lr of the cycle, for every param group ...
    std::vector<double> max_lrs{};       // ... or one per param group (overrides max_lr)
    std::int64_t total_steps = 0;        // scheduler steps in the cycle; or give epochs and steps_per_epoch
    std::int64_t epochs = 0;
    std::int64_t steps_per_epoch = 0;
    double pct_start = 0.3;              // fraction of the cycle spent increasing the lr
    AnnealStrategy anneal_strategy = AnnealStrategy::cos;
    bool cycle_momentum = true;
    double base_momentum = 0.85;
    double max_momentum = 0.95;
    double div_factor = 25.0;            // initial lr = max_lr / div_factor
    double final_div_factor = 1e4;       // min lr = initial lr / final_div_factor
    bool three_phase = false;
  };

  // Out of line: its checks and phase table are compiled once (fast mode).
  VOLT_INLINE explicit OneCycleLR(Options options);

  const Options& options() const noexcept { return options_; }
  std::int64_t total_steps() const noexcept { return total_steps_; }

 private:
  friend LRSchedulerBase<OneCycleLR>;
  enum class Value { initial, max, min, max_momentum, base_momentum };
  struct Phase {
    double end_step;
    Value start_lr, end_lr, start_momentum, end_momentum;
  };

  std::vector<double> base_lrs_for(torch::optim::Optimizer& optimizer) const {
    const std::size_t groups = optimizer.param_groups().size();
    if (!options_.max_lrs.empty() && options_.max_lrs.size() != groups)
      detail::sched::throw_per_group_count("OneCycleLR", "max_lrs", options_.max_lrs.size(), groups, "max_lr");
    std::vector<double> initial;
    for (std::size_t i = 0; i < groups; ++i) initial.push_back(max_lr(i) / options_.div_factor);
    return initial;
  }

  void on_bind(torch::optim::Optimizer& optimizer) const {
    if (!options_.cycle_momentum) return;
    for (auto& group : optimizer.param_groups())
      if (!has_momentum(group.options()))
        throw std::invalid_argument(
            "volt: OneCycleLR with cycle_momentum = true needs an optimizer with momentum or betas (SGD, RMSprop, "
            "Adam, AdamW); set .cycle_momentum = false for this optimizer.");
  }

  double max_lr(std::size_t group) const { return options_.max_lrs.empty() ? options_.max_lr : options_.max_lrs[group]; }

  double value(Value v, std::size_t group) const {
    const double initial = base_lrs()[group];
    switch (v) {
      case Value::initial: return initial;
      case Value::max: return max_lr(group);
      case Value::min: return initial / options_.final_div_factor;
      case Value::max_momentum: return options_.max_momentum;
      case Value::base_momentum: return options_.base_momentum;
    }
    return initial;
  }

  double anneal(double start, double end, double pct) const {
    if (options_.anneal_strategy == AnnealStrategy::linear) return (end - start) * pct + start;
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
  }

  static bool has_momentum(const torch::optim::OptimizerOptions& o) {
    return dynamic_cast<const torch::optim::SGDOptions*>(&o) || dynamic_cast<const torch::optim::RMSpropOptions*>(&o) ||
           dynamic_cast<const torch::optim::AdamOptions*>(&o) || dynamic_cast<const torch::optim::AdamWOptions*>(&o);
  }
  static void set_momentum(torch::optim::OptimizerOptions& o, double m) {
    if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&o)) sgd->momentum(m);
    else if (auto* rms = dynamic_cast<torch::optim::RMSpropOptions*>(&o)) rms->momentum(m);
    else if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&o)) adam->betas({m, std::get<1>(adam->betas())});
    else if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&o)) adamw->betas({m, std::get<1>(adamw->betas())});
  }

  std::vector<double> chainable_lrs() {
    const std::int64_t step = last_epoch();
    if (step > total_steps_)
      detail::sched::throw_one_cycle_stepped_past(step, total_steps_);
    auto& groups = bound().param_groups();
    std::vector<double> lrs;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      double start_step = 0.0;
      for (std::size_t k = 0; k < phases_.size(); ++k) {
        const Phase& phase = phases_[k];
        if (static_cast<double>(step) <= phase.end_step || k + 1 == phases_.size()) {
          const double span = phase.end_step - start_step;
          if (span == 0.0)
            detail::sched::throw_one_cycle_empty_phase(k, total_steps_, options_.pct_start);
          const double pct = (static_cast<double>(step) - start_step) / span;
          lrs.push_back(anneal(value(phase.start_lr, g), value(phase.end_lr, g), pct));
          if (options_.cycle_momentum)
            set_momentum(groups[g].options(),
                         anneal(value(phase.start_momentum, g), value(phase.end_momentum, g), pct));
          break;
        }
        start_step = phase.end_step;
      }
    }
    return lrs;
  }

  Options options_;
  std::int64_t total_steps_ = 0;
  std::vector<Phase> phases_;
};

#if defined(VOLT_SEPARATE_COMPILATION)
extern template class LRSchedulerBase<OneCycleLR>;  // compiled once, in include/volt/impl/src.hpp
#endif

}  // namespace volt::optim

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/optim/schedulers/impl/one_cycle_lr.ipp>
#endif
