#pragma once
// The Trainer flags that some built-in callbacks' rules read (Lightning reads them off
// `trainer`): when ModelCheckpoint and EarlyStopping run (check_val_every_n_epoch,
// val_check_interval, num_val_batches), whether they run at all (fast_dev_run), and where
// StochasticWeightAveraging's averaging ends (max_epochs).
//
// volt::RunState does not carry these yet. Each one is read from a RunState member of the same
// name as soon as RunState has it, and until then takes Lightning's default value, so the
// callbacks follow Lightning's rules exactly once the Trainer fills them in and behave as under
// the default flags before that. The members read, and the types accepted:
//   std::int64_t check_val_every_n_epoch;    // 1 by default
//   BatchCount or double val_check_interval;  // 1.0 (once per epoch) by default
//   std::int64_t num_val_batches;            // validation batches per run; 0: no validation
//   FastDevRun or bool fast_dev_run;
//   std::int64_t max_epochs;                 // resolved: -1 when unlimited (an optional works too)
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

template <class State>
TrainerFlags trainer_flags(const State& s) {
  TrainerFlags f;
  if constexpr (requires { static_cast<std::int64_t>(s.check_val_every_n_epoch); })
    f.check_val_every_n_epoch = static_cast<std::int64_t>(s.check_val_every_n_epoch);
  if constexpr (requires { s.val_check_interval.is_fraction(); s.val_check_interval.fraction(); })
    f.val_check_interval_is_one_epoch = s.val_check_interval.is_fraction() && s.val_check_interval.fraction() == 1.0;
  else if constexpr (requires { static_cast<double>(s.val_check_interval); })
    f.val_check_interval_is_one_epoch = static_cast<double>(s.val_check_interval) == 1.0;
  if constexpr (requires { static_cast<std::int64_t>(s.num_val_batches); })
    f.num_val_batches = static_cast<std::int64_t>(s.num_val_batches);
  if constexpr (requires { static_cast<bool>(s.fast_dev_run); }) f.fast_dev_run = static_cast<bool>(s.fast_dev_run);
  if constexpr (requires { static_cast<std::int64_t>(s.max_epochs); })
    f.max_epochs = static_cast<std::int64_t>(s.max_epochs);
  else if constexpr (requires { s.max_epochs.has_value(); static_cast<std::int64_t>(*s.max_epochs); })
    if (s.max_epochs.has_value()) f.max_epochs = static_cast<std::int64_t>(*s.max_epochs);
  return f;
}

inline TrainerFlags trainer_flags(const Context& ctx) { return trainer_flags(ctx.state()); }

}  // namespace volt::callback_detail
