#pragma once
// Definitions of <volt/callbacks/stochastic_weight_averaging.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/callbacks/stochastic_weight_averaging.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iostream>
#include <numbers>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <volt/callbacks/trainer_flags.hpp>

namespace volt {

VOLT_INLINE StochasticWeightAveraging::StochasticWeightAveraging(Options options) : options_(std::move(options)) {
  const auto& start = options_.swa_epoch_start;
  if ((!start.is_fraction() && start.epoch() < 1) ||
      (start.is_fraction() && !(start.fraction() >= 0.0 && start.fraction() <= 1.0)))
    throw std::invalid_argument(fmt::format(
        "volt: StochasticWeightAveraging: swa_epoch_start={} is invalid; it should be an integer > 0 or a "
        "fraction between 0 and 1.",
        start.is_fraction() ? fmt::format("{}", start.fraction()) : fmt::format("{}", start.epoch())));
  const auto& lrs = options_.swa_lrs.values();
  if (lrs.empty() || std::any_of(lrs.begin(), lrs.end(), [](double lr) { return !(lr > 0.0); }))
    throw std::invalid_argument(
        "volt: StochasticWeightAveraging: swa_lrs should be a positive learning rate, or a list of positive "
        "learning rates (one per param group).");
  if (options_.annealing_epochs < 0)
    throw std::invalid_argument(fmt::format(
        "volt: StochasticWeightAveraging: annealing_epochs={} must be >= 0.", options_.annealing_epochs));
}

VOLT_INLINE void StochasticWeightAveraging::on_fit_start(Context& ctx) {
  const auto optimizers = ctx.raw_optimizers();
  if (optimizers.size() != 1)
    throw std::invalid_argument(fmt::format(
        "volt: StochasticWeightAveraging works with exactly 1 optimizer; configure_optimizers returned {}.",
        optimizers.size()));
  const auto max_epochs = callback_detail::trainer_flags(ctx).max_epochs;
  const bool bounded = max_epochs && *max_epochs >= 0;
  std::int64_t start = options_.swa_epoch_start.epoch();
  if (options_.swa_epoch_start.is_fraction()) {
    if (!bounded)
      throw std::invalid_argument(fmt::format(
          "volt: StochasticWeightAveraging: swa_epoch_start={} is a fraction of max_epochs, but {}; give the "
          "epoch to start at instead (.swa_epoch_start = 8 starts at the 8th epoch).",
          options_.swa_epoch_start.fraction(),
          max_epochs ? "the fit has no max_epochs" : "this Trainer does not tell callbacks max_epochs yet"));
    start = static_cast<std::int64_t>(static_cast<double>(*max_epochs) * options_.swa_epoch_start.fraction());
  }
  swa_start_ = std::max<std::int64_t>(start - 1, 0);
  swa_end_ = bounded ? std::optional<std::int64_t>(*max_epochs - 1) : std::nullopt;
  contains_batch_norm_ = module_contains_batch_norm(ctx.module());
  if (contains_batch_norm_ && ctx.is_global_zero())
    std::cerr << "volt: warning: StochasticWeightAveraging does not recompute BatchNorm statistics for the "
                 "averaged weights yet; run forward passes over training data in train mode after fit before "
                 "evaluating (see volt/callbacks/stochastic_weight_averaging.hpp).\n";
}

VOLT_INLINE void StochasticWeightAveraging::on_train_epoch_start(Context& ctx) {
  const std::int64_t epoch = ctx.current_epoch();
  const bool in_window = swa_start_ <= epoch && (!swa_end_ || epoch <= *swa_end_);
  if (!initialized_ && in_window) initialize(ctx);
  if (initialized_ && in_window) anneal(ctx, epoch);
  if (in_window && epoch > latest_update_epoch_) {
    update_parameters(ctx.module());
    latest_update_epoch_ = epoch;
  }
}

VOLT_INLINE void StochasticWeightAveraging::on_train_end(Context& ctx) {
  // The fit loop has counted the last epoch already: current_epoch - 1 is the last one run.
  if (n_averaged_ == 0) return;
  if (!swa_end_ || ctx.current_epoch() - 1 == *swa_end_) transfer_weights(ctx.module());
}

VOLT_INLINE void StochasticWeightAveraging::state_dict_into(nlohmann::json& out) const { out = state_dict(); }

VOLT_INLINE nlohmann::json StochasticWeightAveraging::state_dict() const {
  nlohmann::json scheduler = nullptr;
  if (base_lrs_)
    scheduler = {{"base_lrs", *base_lrs_}, {"anneal_start_epoch", anneal_start_epoch_}, {"swa_lrs", swa_lrs_}};
  return {{"n_averaged", n_averaged_}, {"latest_update_epoch", latest_update_epoch_}, {"scheduler_state", scheduler}};
}

VOLT_INLINE void StochasticWeightAveraging::load_state_dict(const nlohmann::json& state) {
  n_averaged_ = state.at("n_averaged").get<std::int64_t>();
  latest_update_epoch_ = state.at("latest_update_epoch").get<std::int64_t>();
  const auto& scheduler = state.at("scheduler_state");
  if (scheduler.is_null()) {
    base_lrs_.reset();
  } else {
    base_lrs_ = scheduler.at("base_lrs").get<std::vector<double>>();
    anneal_start_epoch_ = scheduler.at("anneal_start_epoch").get<std::int64_t>();
    swa_lrs_ = scheduler.at("swa_lrs").get<std::vector<double>>();
  }
  initialized_ = false;  // the next SWA epoch start re-initializes from this state
}

VOLT_INLINE void StochasticWeightAveraging::load_tensor_state(std::vector<std::pair<std::string, torch::Tensor>> tensors) {
  for (auto& [name, t] : tensors) t = t.detach().clone();
  averaged_ = std::move(tensors);
}

VOLT_INLINE double StochasticWeightAveraging::anneal_factor(Annealing strategy, std::int64_t step, std::int64_t annealing_epochs) {
  if (annealing_epochs == 0) step = std::max<std::int64_t>(1, step);
  const double t = std::clamp(static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, annealing_epochs)),
                              0.0, 1.0);
  return strategy == Annealing::cos ? (1.0 - std::cos(std::numbers::pi * t)) / 2.0 : t;
}

VOLT_INLINE bool StochasticWeightAveraging::module_contains_batch_norm(torch::nn::Module& module) {
  auto is_bn = [](torch::nn::Module& m) {
    return dynamic_cast<torch::nn::BatchNorm1dImpl*>(&m) || dynamic_cast<torch::nn::BatchNorm2dImpl*>(&m) ||
           dynamic_cast<torch::nn::BatchNorm3dImpl*>(&m);
  };
  if (is_bn(module)) return true;
  for (const auto& child : module.modules(/*include_self=*/false))
    if (is_bn(*child)) return true;
  return false;
}

VOLT_INLINE void StochasticWeightAveraging::initialize(Context& ctx) {
  initialized_ = true;
  auto* optimizer = ctx.raw_optimizers().at(0);
  const auto& groups = optimizer->param_groups();
  if (!base_lrs_) {  // not restored from a checkpoint: anneal from here, from today's lrs
    const auto& given = options_.swa_lrs.values();
    if (options_.swa_lrs.per_group() && given.size() != groups.size())
      throw std::invalid_argument(fmt::format(
          "volt: StochasticWeightAveraging: swa_lrs has {} learning rates but the optimizer has {} param "
          "groups; give one per group, or a single learning rate for all.",
          given.size(), groups.size()));
    swa_lrs_ = options_.swa_lrs.per_group() ? given : std::vector<double>(groups.size(), given.front());
    base_lrs_.emplace();
    for (const auto& g : groups) base_lrs_->push_back(g.options().get_lr());
    anneal_start_epoch_ = ctx.current_epoch();
  } else if (base_lrs_->size() != groups.size() || swa_lrs_.size() != groups.size()) {
    throw std::invalid_argument(fmt::format(
        "volt: StochasticWeightAveraging: the checkpoint's annealing state has {} param groups, the optimizer {}.",
        base_lrs_->size(), groups.size()));
  }
}

VOLT_INLINE void StochasticWeightAveraging::anneal(Context& ctx, std::int64_t epoch) {
  const double alpha = anneal_factor(options_.annealing_strategy, epoch - anneal_start_epoch_, options_.annealing_epochs);
  auto& groups = ctx.raw_optimizers().at(0)->param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g)
    groups[g].options().set_lr(swa_lrs_[g] * alpha + (*base_lrs_)[g] * (1.0 - alpha));
}

VOLT_INLINE void StochasticWeightAveraging::update_parameters(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  const auto params = module.named_parameters(/*recurse=*/true);
  if (averaged_.empty() || n_averaged_ == 0) {
    averaged_.clear();
    for (const auto& p : params)
      averaged_.emplace_back(p.key(), p.value().detach().to(options_.device.value_or(p.value().device())).clone());
  } else {
    for (auto& [name, avg] : averaged_) {
      const auto* p = params.find(name);
      if (!p)
        throw std::runtime_error(fmt::format(
            "volt: StochasticWeightAveraging: the module has no parameter \"{}\" that the average holds.", name));
      const auto current = p->detach().to(avg.device());
      avg.add_((current - avg) / static_cast<double>(n_averaged_ + 1));
    }
  }
  ++n_averaged_;
}

VOLT_INLINE void StochasticWeightAveraging::transfer_weights(torch::nn::Module& module) const {
  torch::NoGradGuard no_grad;
  auto params = module.named_parameters(/*recurse=*/true);
  for (const auto& [name, avg] : averaged_)
    if (auto* p = params.find(name)) p->detach().copy_(avg.to(p->device()));
}

}  // namespace volt
