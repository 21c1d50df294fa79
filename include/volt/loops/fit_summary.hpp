#pragma once
// What the Trainer found at compile time, printed once at fit start with the model summary:
// the hooks, the declared hooks it will not call (and why), the optimizers and schedulers, the
// strategy and the precision. And, on every fit, Lightning's configuration warnings about a
// loader without its step or a step without its loader (configuration_validator.py).
#include <cstddef>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <volt/core/datamodule.hpp>
#include <volt/core/diagnose.hpp>
#include <volt/detail/config.hpp>
#include <volt/precision/precision.hpp>

// The type-independent halves of the templates below, compiled once in volt::compiled.
namespace volt::detail {

VOLT_INLINE std::string unused_hooks_line(std::span<const UnusedHook> unused);

VOLT_INLINE void print_fit_summary(std::ostream& out, std::span<const std::string_view> hooks,
                                   std::span<const UnusedHook> unused, std::size_t num_optimizers,
                                   const std::vector<std::pair<std::string, double>>& learning_rates,
                                   const std::string& device, std::string_view precision);

}  // namespace volt::detail

namespace volt::loops {

// "volt: declared but not called: a (reason); b (reason)", or nothing when every declared hook runs.
template <class Module, class Batch, class Data = void>
std::string unused_hooks_line() {
  return detail::unused_hooks_line(hook_inventory<Module, Batch, Data>::unused);
}

template <class Module, class Batch, class Run, class Optimization>
void print_fit_summary(Run& run, Optimization& optimization, std::ostream& out = std::cout) {
  using Data = std::remove_reference_t<decltype(run.data)>;
  using Inventory = hook_inventory<Module, Batch, Data>;
  detail::print_fit_summary(out, Inventory::names, Inventory::unused, optimization.num_optimizers(),
                            optimization.learning_rates(), run.state.device.str(),
                            std::string_view(precision::name(run.precision)));
}

// Lightning's "You passed in a `val_dataloader` but have no `validation_step`. Skipping val
// loop." and "You defined a `validation_step` but have no `val_dataloader`. Skipping val
// loop.", so a typo such as `validaton_step` is said at fit start instead of fit silently never
// validating. Fit warns about what fit runs, as Lightning's configuration validator does: the
// val loop only. test() and predict() need both their step and their loader, and without
// either they do not compile (trainer.hpp), so they need no warning. A step counts as defined
// when the Module has any member of its name. With overfit_batches, validation runs on the
// training loader, so a validation_step needs no val_dataloader.
template <class Module, class Data>
void warn_loaders_without_steps(std::ostream& out, bool overfitting = false) {
  constexpr bool has_validation_step = hooks::validation_step_t::named<Module>;
  const bool has_val_loader = HasValLoader<Data> || (overfitting && has_validation_step);
  if (has_val_loader && !has_validation_step)
    out << "volt: warning: You passed in a `val_dataloader` but have no `validation_step`. Skipping val loop.\n";
  if (has_validation_step && !has_val_loader)
    out << "volt: warning: You defined a `validation_step` but have no `val_dataloader`. Skipping val loop.\n";
}

}  // namespace volt::loops

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loops/impl/fit_summary.ipp>
#endif
