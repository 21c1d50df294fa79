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

// The type-independent halves of the templates below, compiled once in volt::compiled.
namespace volt::detail {

VOLT_INLINE std::string unused_hooks_line(std::span<const UnusedHook> unused);

VOLT_INLINE void print_fit_summary(std::ostream& out, std::span<const std::string_view> hooks,
                                   std::span<const UnusedHook> unused, std::size_t num_optimizers,
                                   const std::vector<std::pair<std::string, double>>& learning_rates,
                                   const std::string& device, std::string_view precision);

// One of Lightning's loader / step warnings (warn_loaders_without_steps below).
VOLT_INLINE void warn_loader_without_step(std::ostream& out, bool has_loader, bool has_step, std::string_view loader,
                                          std::string_view step, std::string_view consequence);

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
                            std::string_view(std::remove_reference_t<decltype(run.precision)>::name));
}

// Lightning's "You passed in a `val_dataloader` but have no `validation_step`. Skipping val
// loop." and "You defined a `validation_step` but have no `val_dataloader`. Skipping val
// loop.", and the same for test and predict (whose entry points would not compile), so a typo
// such as `validaton_step` is said at fit start instead of fit silently never validating.
// A step counts as defined when the Module has any member of its name. With overfit_batches,
// validation runs on the training loader, so a validation_step needs no val_dataloader.
template <class Module, class Data>
void warn_loaders_without_steps(std::ostream& out, bool overfitting = false) {
  const auto check = [&](bool has_loader, bool has_step, std::string_view loader, std::string_view step,
                         std::string_view consequence) {
    detail::warn_loader_without_step(out, has_loader, has_step, loader, step, consequence);
  };
  constexpr bool has_validation_step = hooks::validation_step_t::named<Module>;
  constexpr bool has_test_step = hooks::test_step_t::named<Module>;
  constexpr bool has_predict_step = hooks::predict_step_t::named<Module>;
  check(HasValLoader<Data> || (overfitting && has_validation_step), has_validation_step, "val_dataloader",
        "validation_step", "Skipping val loop.");
  check(HasTestLoader<Data>, has_test_step, "test_dataloader", "test_step",
        "trainer.test() will not compile until both are there.");
  check(HasPredictLoader<Data>, has_predict_step, "predict_dataloader", "predict_step",
        "trainer.predict() will not compile until both are there.");
}

}  // namespace volt::loops

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loops/impl/fit_summary.ipp>
#endif
