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
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/core/metrics.hpp>
#include <volt/detail/config.hpp>

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
  VOLT_INLINE explicit LearningRateMonitor(Options options);

  // ---- hooks ----

  VOLT_INLINE void on_train_start(Context& ctx);

  VOLT_INLINE void on_train_batch_start(Context& ctx);

  VOLT_INLINE void on_train_epoch_start(Context& ctx);

  // ---- results ----

  // Every value logged, per name (Lightning's `lrs`).
  const std::map<std::string, std::vector<double>>& lrs() const noexcept { return lrs_; }
  const Options& options() const noexcept { return options_; }

 private:
  using Group = torch::optim::OptimizerParamGroup;

  VOLT_INLINE static bool has_momentum(const torch::optim::OptimizerOptions& o);

  // Lightning: betas[0] when the optimizer has betas, else its momentum, else 0.
  VOLT_INLINE static double momentum_of(const torch::optim::OptimizerOptions& o);

  VOLT_INLINE static double weight_decay_of(const torch::optim::OptimizerOptions& o);

  // The param group behind each named learning rate. ctx.learning_rates() lists optimizers with
  // a scheduler first, ctx.raw_optimizers() in configure_optimizers order: the two are paired by
  // position when every learning rate matches, else each name takes the first unused group with
  // its learning rate (exact, since both read the same value).
  VOLT_INLINE static std::vector<const Group*> groups_for(const std::vector<std::pair<std::string, double>>& named,
                                              const std::vector<torch::optim::Optimizer*>& optimizers);

  VOLT_INLINE void log_stats(Context& ctx);

  Options options_;
  std::map<std::string, std::vector<double>> lrs_{};
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/learning_rate_monitor.ipp>
#endif
