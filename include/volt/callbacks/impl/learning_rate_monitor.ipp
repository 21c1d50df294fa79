#pragma once
// Definitions of <volt/callbacks/learning_rate_monitor.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/callbacks/learning_rate_monitor.hpp>

#include <iostream>
#include <stdexcept>

#include <fmt/format.h>

namespace volt {

VOLT_INLINE LearningRateMonitor::LearningRateMonitor(Options options) : options_(std::move(options)) {
  if (options_.logging_interval && *options_.logging_interval != "step" && *options_.logging_interval != "epoch")
    throw std::invalid_argument(fmt::format(
        "volt: LearningRateMonitor: logging_interval=\"{}\" is invalid; use \"step\", \"epoch\", or leave it unset.",
        *options_.logging_interval));
}

VOLT_INLINE void LearningRateMonitor::on_train_start(Context& ctx) {
  lrs_.clear();
  if (!options_.log_momentum) return;
  for (const auto* opt : ctx.raw_optimizers())
    for (const auto& group : opt->param_groups())
      if (!has_momentum(group.options())) {
        if (ctx.is_global_zero())
          std::cerr << "volt: warning: you have set log_momentum=true, but some optimizers do not have momentum. "
                       "This will log a value 0 for the momentum.\n";
        return;
      }
}

VOLT_INLINE void LearningRateMonitor::on_train_batch_start(Context& ctx) {
  if (options_.logging_interval != "epoch") log_stats(ctx);
}

VOLT_INLINE void LearningRateMonitor::on_train_epoch_start(Context& ctx) {
  if (options_.logging_interval != "step") log_stats(ctx);
}

VOLT_INLINE bool LearningRateMonitor::has_momentum(const torch::optim::OptimizerOptions& o) {
  return dynamic_cast<const torch::optim::SGDOptions*>(&o) || dynamic_cast<const torch::optim::RMSpropOptions*>(&o) ||
         dynamic_cast<const torch::optim::AdamOptions*>(&o) || dynamic_cast<const torch::optim::AdamWOptions*>(&o);
}

VOLT_INLINE double LearningRateMonitor::momentum_of(const torch::optim::OptimizerOptions& o) {
  if (const auto* a = dynamic_cast<const torch::optim::AdamOptions*>(&o)) return std::get<0>(a->betas());
  if (const auto* a = dynamic_cast<const torch::optim::AdamWOptions*>(&o)) return std::get<0>(a->betas());
  if (const auto* s = dynamic_cast<const torch::optim::SGDOptions*>(&o)) return s->momentum();
  if (const auto* r = dynamic_cast<const torch::optim::RMSpropOptions*>(&o)) return r->momentum();
  return 0.0;
}

VOLT_INLINE double LearningRateMonitor::weight_decay_of(const torch::optim::OptimizerOptions& o) {
  if (const auto* a = dynamic_cast<const torch::optim::AdamOptions*>(&o)) return a->weight_decay();
  if (const auto* a = dynamic_cast<const torch::optim::AdamWOptions*>(&o)) return a->weight_decay();
  if (const auto* s = dynamic_cast<const torch::optim::SGDOptions*>(&o)) return s->weight_decay();
  if (const auto* r = dynamic_cast<const torch::optim::RMSpropOptions*>(&o)) return r->weight_decay();
  if (const auto* g = dynamic_cast<const torch::optim::AdagradOptions*>(&o)) return g->weight_decay();
  return 0.0;
}

VOLT_INLINE std::vector<const LearningRateMonitor::Group*> LearningRateMonitor::groups_for(const std::vector<std::pair<std::string, double>>& named,
                                            const std::vector<torch::optim::Optimizer*>& optimizers) {
  std::vector<const Group*> groups;
  for (const auto* opt : optimizers)
    for (const auto& g : opt->param_groups()) groups.push_back(&g);
  std::vector<const Group*> out(named.size(), nullptr);
  bool positional = groups.size() == named.size();
  for (std::size_t i = 0; positional && i < named.size(); ++i)
    positional = groups[i]->options().get_lr() == named[i].second;
  if (positional) return groups;
  std::vector<bool> used(groups.size(), false);
  for (std::size_t i = 0; i < named.size(); ++i)
    for (std::size_t g = 0; g < groups.size(); ++g)
      if (!used[g] && groups[g]->options().get_lr() == named[i].second) {
        used[g] = true;
        out[i] = groups[g];
        break;
      }
  return out;
}

VOLT_INLINE void LearningRateMonitor::log_stats(Context& ctx) {
  const auto named = ctx.learning_rates();
  if (named.empty()) return;
  const LogOptions now{.on_step = true, .on_epoch = false};
  std::vector<const Group*> groups;
  if (options_.log_momentum || options_.log_weight_decay) groups = groups_for(named, ctx.raw_optimizers());
  for (std::size_t i = 0; i < named.size(); ++i) {
    const auto& [name, lr] = named[i];
    ctx.log(name, lr, now);
    lrs_[name].push_back(lr);
    const Group* group = i < groups.size() ? groups[i] : nullptr;
    if (options_.log_momentum) ctx.log(name + "-momentum", group ? momentum_of(group->options()) : 0.0, now);
    if (options_.log_weight_decay)
      ctx.log(name + "-weight_decay", group ? weight_decay_of(group->options()) : 0.0, now);
  }
}

}  // namespace volt
