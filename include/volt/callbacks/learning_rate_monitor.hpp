#pragma once
// volt::LearningRateMonitor: Lightning 2.x's LearningRateMonitor (callbacks/lr_monitor.py).
// Logs every optimizer's learning rate through ctx.log, under the names ctx.learning_rates()
// gives ("lr-Adam", "lr-Adam-1", "lr-SGD/pg2", or the scheduler config's name), and with
// log_momentum / log_weight_decay also "<name>-momentum" (beta1 for Adam-like optimizers, 0 for
// an optimizer without momentum) and "<name>-weight_decay".
//   logging_interval "step":  at every on_train_batch_start;
//                    "epoch": at every on_train_epoch_start;
//                    unset:   Lightning logs each scheduler at its own interval and
//                             optimizers without a scheduler at both. ctx.learning_rates() does
//                             not say which scheduler steps when, so volt logs every optimizer
//                             at both (the extra per-step points of an epoch-interval schedule
//                             repeat the same value).
// Values are logged with on_step=true, on_epoch=false, so they are in ctx.callback_metrics()
// at once (Lightning writes them straight to the loggers and callback_metrics). Lightning's
// log_every_n_steps thinning and its "no logger" error are not applied: volt's Context does not
// expose either yet.
#include <cstddef>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/core/metrics.hpp>

namespace volt {

class LearningRateMonitor {
 public:
  struct Options {
    std::optional<std::string> logging_interval{};  // "step", "epoch", or unset
    bool log_momentum = false;
    bool log_weight_decay = false;
  };

  // (Two constructors: a `= {}` default argument of a nested type with member initializers
  // is rejected by GCC inside the enclosing class.)
  LearningRateMonitor() : LearningRateMonitor(Options{}) {}
  explicit LearningRateMonitor(Options options) : options_(std::move(options)) {
    if (options_.logging_interval && *options_.logging_interval != "step" && *options_.logging_interval != "epoch")
      throw std::invalid_argument(fmt::format(
          "volt: LearningRateMonitor: logging_interval=\"{}\" is invalid; use \"step\", \"epoch\", or leave it unset.",
          *options_.logging_interval));
  }

  // ---- hooks ----

  void on_train_start(Context& ctx) {
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

  void on_train_batch_start(Context& ctx) {
    if (options_.logging_interval != "epoch") log_stats(ctx);
  }

  void on_train_epoch_start(Context& ctx) {
    if (options_.logging_interval != "step") log_stats(ctx);
  }

  // ---- results ----

  // Every value logged, per name (Lightning's `lrs`).
  const std::map<std::string, std::vector<double>>& lrs() const noexcept { return lrs_; }
  const Options& options() const noexcept { return options_; }

 private:
  using Group = torch::optim::OptimizerParamGroup;

  static bool has_momentum(const torch::optim::OptimizerOptions& o) {
    return dynamic_cast<const torch::optim::SGDOptions*>(&o) || dynamic_cast<const torch::optim::RMSpropOptions*>(&o) ||
           dynamic_cast<const torch::optim::AdamOptions*>(&o) || dynamic_cast<const torch::optim::AdamWOptions*>(&o);
  }

  // Lightning: betas[0] when the optimizer has betas, else its momentum, else 0.
  static double momentum_of(const torch::optim::OptimizerOptions& o) {
    if (const auto* a = dynamic_cast<const torch::optim::AdamOptions*>(&o)) return std::get<0>(a->betas());
    if (const auto* a = dynamic_cast<const torch::optim::AdamWOptions*>(&o)) return std::get<0>(a->betas());
    if (const auto* s = dynamic_cast<const torch::optim::SGDOptions*>(&o)) return s->momentum();
    if (const auto* r = dynamic_cast<const torch::optim::RMSpropOptions*>(&o)) return r->momentum();
    return 0.0;
  }

  static double weight_decay_of(const torch::optim::OptimizerOptions& o) {
    if (const auto* a = dynamic_cast<const torch::optim::AdamOptions*>(&o)) return a->weight_decay();
    if (const auto* a = dynamic_cast<const torch::optim::AdamWOptions*>(&o)) return a->weight_decay();
    if (const auto* s = dynamic_cast<const torch::optim::SGDOptions*>(&o)) return s->weight_decay();
    if (const auto* r = dynamic_cast<const torch::optim::RMSpropOptions*>(&o)) return r->weight_decay();
    if (const auto* g = dynamic_cast<const torch::optim::AdagradOptions*>(&o)) return g->weight_decay();
    return 0.0;
  }

  // The param group behind each named learning rate. ctx.learning_rates() lists optimizers with
  // a scheduler first, ctx.raw_optimizers() in configure_optimizers order: the two are paired by
  // position when every learning rate matches, else each name takes the first unused group with
  // its learning rate (exact, since both read the same value).
  static std::vector<const Group*> groups_for(const std::vector<std::pair<std::string, double>>& named,
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

  void log_stats(Context& ctx) {
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

  Options options_;
  std::map<std::string, std::vector<double>> lrs_{};
};

}  // namespace volt
