#pragma once
// What the Trainer found at compile time, printed once at fit start with the model summary:
// the hooks, the declared hooks it will not call (and why), the optimizers and schedulers, the
// strategy and the precision. And, on every fit, Lightning's configuration warnings about a
// loader without its step or a step without its loader (configuration_validator.py).
#include <iostream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <volt/core/datamodule.hpp>
#include <volt/core/diagnose.hpp>

namespace volt::loops {

// "volt: declared but not called: a (reason); b (reason)", or nothing when every declared hook runs.
template <class Module, class Batch, class Data = void>
std::string unused_hooks_line() {
  constexpr auto& unused = hook_inventory<Module, Batch, Data>::unused;
  if constexpr (unused.empty()) {
    return {};
  } else {
    std::string line = "volt: declared but never called:";
    for (std::size_t i = 0; i < unused.size(); ++i) {
      const auto& hook = unused[i];
      line += fmt::format("{} {} (", i ? ";" : "", hook.name);
      if (!hook.missing_loader.empty())
        line += fmt::format("the DataModule has no {})", hook.missing_loader);
      else
        line += fmt::format("no form of it takes what volt passes; expected: {})", hook.signature);
    }
    return line + "\n";
  }
}

template <class Module, class Batch, class Run, class Optimization>
void print_fit_summary(Run& run, Optimization& optimization, std::ostream& out = std::cout) {
  using Data = std::remove_reference_t<decltype(run.data)>;
  std::string lrs;
  for (const auto& [name, lr] : optimization.learning_rates()) lrs += fmt::format("{}{}={:g}", lrs.empty() ? "" : ", ", name, lr);
  out << fmt::format("volt: hooks found at compile time: {}\n",
                     fmt::join(hook_inventory<Module, Batch, Data>::names, ", "))
      << unused_hooks_line<Module, Batch, Data>()
      << fmt::format("volt: optimizers: {} ({}); device {}; precision {}\n", optimization.num_optimizers(), lrs,
                     run.state.device.str(), std::string_view(std::remove_reference_t<decltype(run.precision)>::name));
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
