#pragma once
// The Trainer flags that some built-in callbacks' rules read (Lightning reads them off
// `trainer`): when ModelCheckpoint and EarlyStopping run (check_val_every_n_epoch,
// val_check_interval, num_val_batches), whether they run at all (fast_dev_run), and where
// StochasticWeightAveraging's averaging ends (max_epochs). Outside a run (no options in the
// RunState) Lightning's defaults apply.
#include <cstdint>
#include <optional>

#include <volt/core/context.hpp>

namespace volt::callback_detail {

struct TrainerFlags {
  std::int64_t check_val_every_n_epoch = 1;
  bool val_check_interval_is_one_epoch = true;  // Lightning's `trainer.val_check_interval == 1.0`
  std::optional<std::int64_t> num_val_batches{};  // nullopt: the Trainer does not say
  bool fast_dev_run = false;
  std::optional<std::int64_t> max_epochs{};       // nullopt: the Trainer does not say
};

inline TrainerFlags trainer_flags(const RunState& s) {
  TrainerFlags f;
  if (s.options) {
    const TrainerOptions& o = *s.options;
    f.check_val_every_n_epoch = o.check_val_every_n_epoch;
    f.val_check_interval_is_one_epoch = o.val_check_interval.is_fraction() && o.val_check_interval.fraction() == 1.0;
    f.fast_dev_run = static_cast<bool>(o.fast_dev_run);
    if (o.resolved_max_epochs() >= 0) f.max_epochs = o.resolved_max_epochs();
  }
  if (s.num_val_batches >= 0) f.num_val_batches = s.num_val_batches;
  return f;
}

inline TrainerFlags trainer_flags(const Context& ctx) { return trainer_flags(ctx.state()); }

}  // namespace volt::callback_detail
