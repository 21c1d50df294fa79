#pragma once
// Definitions of <volt/core/context.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/core/context.hpp>

#include <fmt/format.h>

namespace volt {

VOLT_INLINE RunState::RunState() = default;
VOLT_INLINE RunState::RunState(const RunState&) = default;
VOLT_INLINE RunState::RunState(RunState&&) noexcept = default;
VOLT_INLINE RunState& RunState::operator=(const RunState&) = default;
VOLT_INLINE RunState& RunState::operator=(RunState&&) noexcept = default;
VOLT_INLINE RunState::~RunState() = default;

VOLT_INLINE void Context::clip_gradients(torch::optim::Optimizer& optimizer, double clip_val, bool by_norm) {
  std::vector<torch::Tensor> params;
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) params.push_back(p);
  if (by_norm) torch::nn::utils::clip_grad_norm_(params, clip_val, 2.0);
  else torch::nn::utils::clip_grad_value_(params, clip_val);
}

VOLT_INLINE void Context::throw_log_in_barebones(std::string_view name) {
  throw std::logic_error(fmt::format("volt: ctx.log(\"{}\") is not available with barebones=true (Lightning's "
                                     "rule: barebones measures the loop alone); remove the call or barebones.",
                                     name));
}

VOLT_INLINE void Context::throw_wrong_module(const std::type_info& wanted, const std::type_info& actual) {
  const std::string wanted_name = c10::demangle(wanted.name());
  throw std::logic_error(fmt::format("volt: ctx.module<{}>(): the module being trained is a {}, not a {}.",
                                     wanted_name, c10::demangle(actual.name()), wanted_name));
}

VOLT_INLINE void Context::throw_no_collective(const char* name) {
  throw std::logic_error(fmt::format("volt: ctx.{}() is only available while the Trainer runs a stage (from setup "
                                     "to teardown).",
                                     name));
}

VOLT_INLINE void Context::throw_optimizer_count(std::size_t wanted, std::size_t configured) {
  throw std::logic_error(fmt::format("volt: ctx.optimizers<{}>() unpacks {} optimizer(s), but configure_optimizers "
                                     "returned {}{}; unpack as many as it returns.",
                                     wanted, wanted, configured, configured == 0 ? " (or fit is not running)" : ""));
}

VOLT_INLINE void Context::throw_optimizers_not_set_up(std::size_t wanted) {
  throw std::logic_error(fmt::format("volt: ctx.optimizers() is only available while trainer.fit() runs (the fit's "
                                     "{} optimizer(s) are not set up now).",
                                     wanted));
}
}  // namespace volt
