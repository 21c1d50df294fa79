#pragma once
// Definitions of <volt/optim/schedulers/one_cycle_lr.hpp>: included by the header in header-only mode, compiled
// once into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/optim/schedulers/one_cycle_lr.hpp>

#include <stdexcept>
#include <utility>

namespace volt::optim {

VOLT_INLINE OneCycleLR::OneCycleLR(Options options) : options_(std::move(options)) {
  if (options_.total_steps == 0) {
    if (options_.epochs <= 0 || options_.steps_per_epoch <= 0)
      detail::sched::throw_one_cycle_no_total_steps(options_.total_steps, options_.epochs, options_.steps_per_epoch);
    total_steps_ = options_.epochs * options_.steps_per_epoch;
  } else if (options_.total_steps < 0) {
    detail::sched::throw_invalid_option("OneCycleLR", "total_steps", options_.total_steps, "it must be positive");
  } else {
    total_steps_ = options_.total_steps;
  }
  if (options_.pct_start < 0.0 || options_.pct_start > 1.0)
    detail::sched::throw_invalid_option("OneCycleLR", "pct_start", options_.pct_start, "it must be between 0 and 1");
  if (options_.max_lrs.empty() && options_.max_lr <= 0.0)
    throw std::invalid_argument("volt: OneCycleLR needs max_lr (or max_lrs, one per param group) > 0.");
  const double total = static_cast<double>(total_steps_);
  const double p = options_.pct_start;
  if (options_.three_phase)
    phases_ = {{p * total - 1, Value::initial, Value::max, Value::max_momentum, Value::base_momentum},
               {2 * p * total - 2, Value::max, Value::initial, Value::base_momentum, Value::max_momentum},
               {total - 1, Value::initial, Value::min, Value::max_momentum, Value::max_momentum}};
  else
    phases_ = {{p * total - 1, Value::initial, Value::max, Value::max_momentum, Value::base_momentum},
               {total - 1, Value::max, Value::min, Value::base_momentum, Value::max_momentum}};
}

}  // namespace volt::optim
