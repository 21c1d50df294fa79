#pragma once
// Runtime: the precision policy chosen at run time by its Lightning name, as Lightning's
// Trainer(precision="bf16-mixed") takes it. One type holds any of the six static policies in a
// std::variant and forwards each call (convert_module, convert_input, forward_context, backward,
// optimizer_step, the grad scaler's state) to that policy's own code through std::visit over
// the closed set. A Trainer<..., Runtime> is compiled once for all six policies, where a program
// that picks a static policy from a flag compiles the whole Trainer once per policy; the price
// is that everything the six need is compiled, and that what the static types decide at compile
// time is decided at set-up here:
//   - DDP on Gloo with bf16-true fails at fit set-up (DDP::check_precision reads parameter_dtype()),
//     as it does for the static BF16True; a custom strategy that declares can_reduce(dtype) is
//     checked at compile time for the static policies only.
//   - FP16Mixed with torch::optim::LBFGS is a std::invalid_argument at the step, not a
//     static_assert (the same pair compiles under the other five policies).
//   - 16-mixed / 16-true on a module that is not on CUDA throw at set-up, as the static ones do.
// Named Runtime for what sets it apart from the other policies: when the choice is made.
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include <volt/precision/autocast.hpp>
#include <volt/precision/fp32.hpp>
#include <volt/precision/grad_scaler.hpp>
#include <volt/precision/mixed.hpp>
#include <volt/precision/precision.hpp>
#include <volt/precision/true_precision.hpp>
#include <volt/detail/config.hpp>

namespace volt::precision {

class Runtime {
 public:
  using Policy = std::variant<FP32, FP64, BF16Mixed, BF16True, FP16Mixed, FP16True>;

  // Lightning's names, canonical first; "32", "64" and "16" are Lightning's short forms.
  static constexpr std::string_view valid_names = "32-true (or 32), 64-true (or 64), bf16-mixed, bf16-true, "
                                                  "16-mixed (or 16), 16-true";

  // "32-true", Lightning's default.
  Runtime() = default;
  // `name` as Lightning spells it; `scaler` configures 16-mixed's grad scaler (ignored otherwise).
  VOLT_INLINE explicit Runtime(std::string_view name, GradScalerOptions scaler = {});
  // Any of the static policies, as it is (e.g. an FP16Mixed with its scaler options).
  template <class P>
    requires std::is_constructible_v<Policy, P&&> && (!std::is_same_v<std::remove_cvref_t<P>, Runtime>)
  explicit Runtime(P&& policy) : policy_(std::forward<P>(policy)) {}

  // The chosen policy's name as Lightning spells it ("32-true", "bf16-mixed", ...).
  VOLT_INLINE std::string_view name() const noexcept;
  // The dtype the chosen policy gives the module's parameters (precision::parameter_dtype<P>()).
  VOLT_INLINE torch::ScalarType parameter_dtype() const noexcept;
  const Policy& policy() const noexcept { return policy_; }

  VOLT_INLINE void convert_module(torch::nn::Module& module);
  // A value for every policy (FP32 and the mixed ones forward theirs): one return type.
  template <class Batch>
  std::remove_cvref_t<Batch> convert_input(Batch&& batch) const {
    return std::visit(
        [&](const auto& p) -> std::remove_cvref_t<Batch> { return p.convert_input(std::forward<Batch>(batch)); },
        policy_);
  }

  // The guard the chosen policy's forward_context() makes (autocast for the mixed policies, the
  // default dtype for the true ones, nothing for 32-true), built with the same arguments; the
  // guards cannot be moved, so it is built in place rather than returned from the policy.
  class Guard {
   public:
    // Out of line: the visit over the six policies is compiled once (fast mode), not in every
    // TU that includes this header.
    VOLT_INLINE explicit Guard(const Policy& policy);
    VOLT_INLINE ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    std::optional<AutocastGuard> autocast_;
    std::optional<DefaultDtypeGuard> default_dtype_;
  };
  Guard forward_context() const { return Guard(policy_); }

  template <class Hooks>
  void backward(const torch::Tensor& loss, Hooks& hooks) {
    std::visit([&](auto& p) { p.backward(loss, hooks); }, policy_);
  }

  template <class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Optimizer& optimizer, Closure& closure, Hooks& hooks) {
    return std::visit(
        [&](auto& p) -> bool {
          // FP16Mixed's static_assert on LBFGS would fire for every Runtime: the choice is made now.
          if constexpr (std::is_same_v<std::remove_cvref_t<decltype(p)>, FP16Mixed> && detail::is_lbfgs_v<Optimizer>)
            throw std::invalid_argument(
                "volt: precision 16-mixed (with a grad scaler) cannot step torch::optim::LBFGS (Lightning: \"AMP and "
                "the LBFGS optimizer are not compatible\"); use precision \"32-true\" or \"bf16-mixed\" with LBFGS.");
          else
            return p.optimizer_step(optimizer, closure, hooks);
        },
        policy_);
  }

  // The grad scaler's state under 16-mixed (the checkpoint's "precision" section, as the static
  // FP16Mixed writes it); null for the policies without state, so no section is written.
  VOLT_INLINE nlohmann::json state_dict() const;
  // The same, written into `out`: what the Trainer calls (compiled; no JSON in a user TU).
  VOLT_INLINE void state_dict_into(nlohmann::json& out) const;
  // Loads the scaler's state under 16-mixed. Under the other policies a saved scaler state is
  // ignored, as the static policies and Lightning (MixedPrecisionPlugin without a scaler) do.
  VOLT_INLINE void load_state_dict(const nlohmann::json& state);

 private:
  VOLT_INLINE static Policy policy_named(std::string_view name, const GradScalerOptions& scaler);

  Policy policy_{};
};

static_assert(Precision<Runtime>);

}  // namespace volt::precision

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/precision/impl/runtime.ipp>
#endif
