#pragma once
// volt::GradientAccumulationScheduler: Lightning 2.x's GradientAccumulationScheduler
// (callbacks/gradient_accumulation_scheduler.py). `scheduling` maps a 0-based epoch to the
// number of batches to accumulate from that epoch on:
//   volt::GradientAccumulationScheduler{{.scheduling = {{0, 8}, {4, 4}, {8, 1}}}}
// accumulates 8 batches in epochs 0-3, 4 in epochs 4-7, and none from epoch 8. Epochs before
// the first key accumulate 1 (Lightning adds {0: 1}). At each on_train_epoch_start the factor
// is handed to the Trainer (ctx.set_accumulate_grad_batches); the Trainer steps the optimizer
// at the end of each window and on the last batch of the epoch.
// As in Lightning, the Trainer's own accumulate_grad_batches must stay 1 with this callback.
// Lightning also refuses manual optimization here; volt's Context cannot tell, so with manual
// optimization the factor is set but has no effect.
#include <cstdint>
#include <map>
#include <string>

#include <volt/core/context.hpp>
#include <volt/detail/config.hpp>

namespace volt {

class GradientAccumulationScheduler {
 public:
  struct Options {
    std::map<std::int64_t, std::int64_t> scheduling{};  // epoch -> accumulation factor
  };

  VOLT_INLINE explicit GradientAccumulationScheduler(Options options);

  // ---- hooks ----

  VOLT_INLINE void on_train_start(Context& ctx);

  void on_train_epoch_start(Context& ctx) { ctx.set_accumulate_grad_batches(get_accumulate_grad_batches(ctx.current_epoch())); }

  // ---- queries ----

  // The factor for `epoch`: that of the last key <= epoch.
  VOLT_INLINE std::int64_t get_accumulate_grad_batches(std::int64_t epoch) const;
  VOLT_INLINE bool going_to_accumulate_grad_batches() const;
  const std::map<std::int64_t, std::int64_t>& scheduling() const noexcept { return scheduling_; }

 private:
  // "[k, ...]" / "[v, ...]" of scheduling_, for the error messages.
  VOLT_INLINE std::string keys() const;
  VOLT_INLINE std::string values() const;

  std::map<std::int64_t, std::int64_t> scheduling_;
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/gradient_accumulation_scheduler.ipp>
#endif
