#pragma once
// Definitions of <volt/loops/fit_summary.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loops/fit_summary.hpp>

namespace volt::detail {

VOLT_INLINE std::string unused_hooks_line(std::span<const UnusedHook> unused) {
  if (unused.empty()) return {};
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

VOLT_INLINE void print_fit_summary(std::ostream& out, std::span<const std::string_view> hooks,
                                   std::span<const UnusedHook> unused, std::size_t num_optimizers,
                                   const std::vector<std::pair<std::string, double>>& learning_rates,
                                   const std::string& device, std::string_view precision) {
  std::string lrs;
  for (const auto& [name, lr] : learning_rates) lrs += fmt::format("{}{}={:g}", lrs.empty() ? "" : ", ", name, lr);
  out << fmt::format("volt: hooks found at compile time: {}\n", fmt::join(hooks, ", ")) << unused_hooks_line(unused)
      << fmt::format("volt: optimizers: {} ({}); device {}; precision {}\n", num_optimizers, lrs, device, precision);
}

}  // namespace volt::detail
