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
// loop.", and the same for test and predict (whose entry points would not compile), so a typo
// such as `validaton_step` is said at fit start instead of fit silently never validating.
// A step counts as defined when the Module has any member of its name. With overfit_batches,
// validation runs on the training loader, so a validation_step needs no val_dataloader.
template <class Module, class Data>
void warn_loaders_without_steps(std::ostream& out, bool overfitting = false) {
  const auto check = [&](bool has_loader, bool has_step, std::string_view loader, std::string_view step,
                         std::string_view consequence) {
    if (has_loader && !has_step)
      out << fmt::format("volt: warning: You passed in a `{}` but have no `{}`. {}\n", loader, step, consequence);
    if (has_step && !has_loader)
      out << fmt::format("volt: warning: You defined a `{}` but have no `{}`. {}\n", step, loader, consequence);
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
