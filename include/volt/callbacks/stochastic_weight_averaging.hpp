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
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>
#include <volt/detail/config.hpp>

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

  VOLT_INLINE explicit StochasticWeightAveraging(Options options);

  // ---- hooks ----

  VOLT_INLINE void on_fit_start(Context& ctx);

  VOLT_INLINE void on_train_epoch_start(Context& ctx);

  VOLT_INLINE void on_train_end(Context& ctx);

  // ---- checkpoint state ----

  VOLT_INLINE nlohmann::json state_dict() const;

  // The same, written into `out`: what the Trainer calls (compiled; no JSON in a user TU).

  VOLT_INLINE void state_dict_into(nlohmann::json& out) const;

  VOLT_INLINE void load_state_dict(const nlohmann::json& state);

  // The averaged parameters, by the module's parameter names (Lightning's average_model_state).
  std::vector<std::pair<std::string, torch::Tensor>> tensor_state() const { return averaged_; }
  VOLT_INLINE void load_tensor_state(std::vector<std::pair<std::string, torch::Tensor>> tensors);

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
  VOLT_INLINE static double anneal_factor(Annealing strategy, std::int64_t step, std::int64_t annealing_epochs);

  VOLT_INLINE static bool module_contains_batch_norm(torch::nn::Module& module);

 private:
  VOLT_INLINE void initialize(Context& ctx);

  VOLT_INLINE void anneal(Context& ctx, std::int64_t epoch);

  VOLT_INLINE void update_parameters(torch::nn::Module& module);

  VOLT_INLINE void transfer_weights(torch::nn::Module& module) const;

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

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/stochastic_weight_averaging.ipp>
#endif
