#pragma once
// Definitions of <volt/precision/runtime.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/precision/runtime.hpp>

#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace volt::precision {

VOLT_INLINE Runtime::Runtime(std::string_view name, GradScalerOptions scaler) : policy_(policy_named(name, scaler)) {}

VOLT_INLINE Runtime::Guard::Guard(const Policy& policy) {
  std::visit(
      [this](const auto& p) {
        using P = std::remove_cvref_t<decltype(p)>;
        if constexpr (requires { p.device_type(); })
          autocast_.emplace(p.device_type(), std::is_same_v<P, FP16Mixed> ? torch::kHalf : torch::kBFloat16);
        else if constexpr (requires { P::parameter_dtype; })
          default_dtype_.emplace(P::parameter_dtype);
      },
      policy);
}

VOLT_INLINE Runtime::Guard::~Guard() = default;

VOLT_INLINE std::string_view Runtime::name() const noexcept {
  return std::visit([](const auto& p) noexcept { return std::string_view(std::remove_cvref_t<decltype(p)>::name); },
                    policy_);
}

VOLT_INLINE torch::ScalarType Runtime::parameter_dtype() const noexcept {
  return std::visit([](const auto& p) noexcept { return precision::parameter_dtype<std::remove_cvref_t<decltype(p)>>(); },
                    policy_);
}

VOLT_INLINE void Runtime::convert_module(torch::nn::Module& module) {
  std::visit([&](auto& p) { p.convert_module(module); }, policy_);
}

VOLT_INLINE void Runtime::state_dict_into(nlohmann::json& out) const { out = state_dict(); }

VOLT_INLINE nlohmann::json Runtime::state_dict() const {
  if (const auto* p = std::get_if<FP16Mixed>(&policy_)) return p->state_dict();
  return nullptr;
}

VOLT_INLINE void Runtime::load_state_dict(const nlohmann::json& state) {
  if (auto* p = std::get_if<FP16Mixed>(&policy_)) p->load_state_dict(state);
}

VOLT_INLINE Runtime::Policy Runtime::policy_named(std::string_view name, const GradScalerOptions& scaler) {
  if (name == "32-true" || name == "32") return FP32{};
  if (name == "64-true" || name == "64") return FP64{};
  if (name == "bf16-mixed") return BF16Mixed{};
  if (name == "bf16-true") return BF16True{};
  if (name == "16-mixed" || name == "16") return FP16Mixed(scaler);
  if (name == "16-true") return FP16True{};
  throw std::invalid_argument(
      fmt::format("volt: \"{}\" is not a precision; use one of {} (Lightning's names).", name, valid_names));
}

}  // namespace volt::precision
