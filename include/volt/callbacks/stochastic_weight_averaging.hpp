#pragma once
// volt::StochasticWeightAveraging: Lightning 2.x's StochasticWeightAveraging
// (callbacks/stochastic_weight_avg.py, after PyTorch's swa_utils), following its schedule:
//   - swa_epoch_start: an integer n >= 1 starts SWA at the n-th epoch (0-based epoch n-1); a
//     fraction f in [0, 1] at the int(f * max_epochs)-th. SWA ends with the last epoch
//     (max_epochs - 1).
//   - At the start of each SWA epoch the running average is updated with the module's current
//     parameters (so it averages the weights each SWA epoch starts from), and every param
//     group's learning rate is annealed from the value it had when SWA began towards swa_lrs over
//     annealing_epochs epochs (cos or linear), as Lightning's SWALR does.
//   - At on_train_end, when training ran through the last SWA epoch, the averaged weights are
//     copied into the module. (A run stopped early keeps its trained weights, as in Lightning.)
// The average is kept as one tensor per named parameter (torch::nn::Module::clone() would need
// Cloneable), on `device` (CPU by default, as in Lightning; unset: the parameters' device).
//
// Differences from Lightning, and what they mean:
//   - BatchNorm: Lightning runs one extra epoch over the training data after SWA, with backward
//     and optimizer steps off, to recompute BatchNorm running statistics for the averaged
//     weights. volt does not yet: a module with BatchNorm keeps the running mean/var of the
//     last trained weights, which do not match the averaged weights, so its eval-mode outputs
//     are off until the statistics are recomputed (forward passes over training batches in
//     train mode under torch::NoGradGuard, after resetting the BatchNorm buffers). A warning says
//     so at on_fit_start when the module has BatchNorm layers.
//   - The learning rate: Lightning swaps the module's lr scheduler for SWALR. volt cannot replace
//     a scheduler from a callback, so it sets each param group's lr at the start of every SWA
//     epoch: that overrides an epoch-interval scheduler, but a step-interval scheduler would keep
//     changing the lr within SWA epochs (turn it off for the SWA phase).
//   - avg_fn (a custom averaging function) is not offered; the average is the equal-weight mean.
//   - max_epochs: RunState does not tell callbacks max_epochs yet (see trainer_flags.hpp). Until
//     it does, a fractional swa_epoch_start is an error that asks for an epoch number, and SWA
//     runs from swa_epoch_start to the end of training, transferring the average at
//     on_train_end whenever anything was averaged.
// Checkpoint state: state_dict() holds n_averaged, the last averaged epoch and the annealing
// state; the averaged tensors are tensor_state() (name -> tensor, the module's parameter names)
// for the Trainer to store next to the module's tensors, and load_tensor_state() takes them back.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iostream>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <volt/callbacks/trainer_flags.hpp>
#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>

namespace volt {

class StochasticWeightAveraging {
 public:
  enum class Annealing { cos, linear };

  // Lightning's `float | list[float]`: one SWA learning rate for every param group, or one per group.
  class LearningRates {
   public:
    LearningRates(double lr) : lrs_{lr} {}  // NOLINT: implicit by design
    LearningRates(std::initializer_list<double> lrs) : lrs_(lrs), per_group_(true) {}
    LearningRates(std::vector<double> lrs) : lrs_(std::move(lrs)), per_group_(true) {}  // NOLINT
    bool per_group() const noexcept { return per_group_; }
    const std::vector<double>& values() const noexcept { return lrs_; }

   private:
    std::vector<double> lrs_;
    bool per_group_ = false;
  };

  // Lightning's `int | float`: an epoch number (1-based) or a fraction of max_epochs.
  class EpochStart {
   public:
    EpochStart(double fraction) noexcept : fraction_(fraction), is_fraction_(true) {}  // NOLINT
    EpochStart(int epoch) noexcept : epoch_(epoch) {}                                  // NOLINT
    EpochStart(long epoch) noexcept : epoch_(epoch) {}                                 // NOLINT
    EpochStart(long long epoch) noexcept : epoch_(epoch) {}                            // NOLINT
    bool is_fraction() const noexcept { return is_fraction_; }
    double fraction() const noexcept { return fraction_; }
    std::int64_t epoch() const noexcept { return epoch_; }

   private:
    double fraction_ = 0.0;
    std::int64_t epoch_ = 0;
    bool is_fraction_ = false;
  };

  struct Options {
    LearningRates swa_lrs;                   // required
    EpochStart swa_epoch_start = 0.8;
    std::int64_t annealing_epochs = 10;
    Annealing annealing_strategy = Annealing::cos;
    std::optional<torch::Device> device = torch::Device(torch::kCPU);  // unset: the parameters' device
  };

  explicit StochasticWeightAveraging(Options options) : options_(std::move(options)) {
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

  // ---- hooks ----

  void on_fit_start(Context& ctx) {
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

  void on_train_epoch_start(Context& ctx) {
    const std::int64_t epoch = ctx.current_epoch();
    const bool in_window = swa_start_ <= epoch && (!swa_end_ || epoch <= *swa_end_);
    if (!initialized_ && in_window) initialize(ctx);
    if (initialized_ && in_window) anneal(ctx, epoch);
    if (in_window && epoch > latest_update_epoch_) {
      update_parameters(ctx.module());
      latest_update_epoch_ = epoch;
    }
  }

  void on_train_end(Context& ctx) {
    // The fit loop has counted the last epoch already: current_epoch - 1 is the last one run.
    if (n_averaged_ == 0) return;
    if (!swa_end_ || ctx.current_epoch() - 1 == *swa_end_) transfer_weights(ctx.module());
  }

  // ---- checkpoint state ----

  nlohmann::json state_dict() const {
    nlohmann::json scheduler = nullptr;
    if (base_lrs_)
      scheduler = {{"base_lrs", *base_lrs_}, {"anneal_start_epoch", anneal_start_epoch_}, {"swa_lrs", swa_lrs_}};
    return {{"n_averaged", n_averaged_}, {"latest_update_epoch", latest_update_epoch_}, {"scheduler_state", scheduler}};
  }

  void load_state_dict(const nlohmann::json& state) {
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

  // The averaged parameters, by the module's parameter names (Lightning's average_model_state).
  std::vector<std::pair<std::string, torch::Tensor>> tensor_state() const { return averaged_; }
  void load_tensor_state(std::vector<std::pair<std::string, torch::Tensor>> tensors) {
    for (auto& [name, t] : tensors) t = t.detach().clone();
    averaged_ = std::move(tensors);
  }

  std::string state_key() const { return "StochasticWeightAveraging"; }

  // ---- queries ----

  std::int64_t n_averaged() const noexcept { return n_averaged_; }
  std::int64_t swa_start() const noexcept { return swa_start_; }             // 0-based, set at on_fit_start
  std::optional<std::int64_t> swa_end() const noexcept { return swa_end_; }  // unset: until training ends
  bool initialized() const noexcept { return initialized_; }
  bool contains_batch_norm() const noexcept { return contains_batch_norm_; }
  const std::vector<std::pair<std::string, torch::Tensor>>& averaged_parameters() const noexcept { return averaged_; }
  const Options& options() const noexcept { return options_; }

  // PyTorch's swa_utils.SWALR factor: 0 at the start of annealing, 1 once done.
  static double anneal_factor(Annealing strategy, std::int64_t step, std::int64_t annealing_epochs) {
    if (annealing_epochs == 0) step = std::max<std::int64_t>(1, step);
    const double t = std::clamp(static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, annealing_epochs)),
                                0.0, 1.0);
    return strategy == Annealing::cos ? (1.0 - std::cos(std::numbers::pi * t)) / 2.0 : t;
  }

  static bool module_contains_batch_norm(torch::nn::Module& module) {
    auto is_bn = [](torch::nn::Module& m) {
      return dynamic_cast<torch::nn::BatchNorm1dImpl*>(&m) || dynamic_cast<torch::nn::BatchNorm2dImpl*>(&m) ||
             dynamic_cast<torch::nn::BatchNorm3dImpl*>(&m);
    };
    if (is_bn(module)) return true;
    for (const auto& child : module.modules(/*include_self=*/false))
      if (is_bn(*child)) return true;
    return false;
  }

 private:
  void initialize(Context& ctx) {
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

  void anneal(Context& ctx, std::int64_t epoch) {
    const double alpha = anneal_factor(options_.annealing_strategy, epoch - anneal_start_epoch_, options_.annealing_epochs);
    auto& groups = ctx.raw_optimizers().at(0)->param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g)
      groups[g].options().set_lr(swa_lrs_[g] * alpha + (*base_lrs_)[g] * (1.0 - alpha));
  }

  void update_parameters(torch::nn::Module& module) {
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

  void transfer_weights(torch::nn::Module& module) const {
    torch::NoGradGuard no_grad;
    auto params = module.named_parameters(/*recurse=*/true);
    for (const auto& [name, avg] : averaged_)
      if (auto* p = params.find(name)) p->detach().copy_(avg.to(p->device()));
  }

  Options options_;
  std::int64_t swa_start_ = 0;
  std::optional<std::int64_t> swa_end_{};
  bool initialized_ = false;
  bool contains_batch_norm_ = false;
  std::int64_t n_averaged_ = 0;
  std::int64_t latest_update_epoch_ = -1;
  std::optional<std::vector<double>> base_lrs_{};  // the lrs annealing starts from (SWALR's state)
  std::vector<double> swa_lrs_{};
  std::int64_t anneal_start_epoch_ = 0;
  std::vector<std::pair<std::string, torch::Tensor>> averaged_{};
};

}  // namespace volt
