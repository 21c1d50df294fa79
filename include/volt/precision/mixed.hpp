#pragma once
// The mixed policies (Lightning's MixedPrecisionPlugin): parameters, gradients and optimizer
// state stay float32; training, validation, test and predict steps run under autocast, so
// matmul/linear/conv compute in the low dtype while losses and reductions stay float32.
// backward runs outside autocast, as in Lightning (the step seam enters forward_context around
// the step only).
//   BF16Mixed  "bf16-mixed"  bfloat16 autocast, CPU and CUDA, no scaler (bf16 has fp32's range)
//   FP16Mixed  "16-mixed"    float16 autocast on CUDA, with a GradScaler (grad_scaler.hpp):
//                            backward gets loss * scale; after the closure the gradients are
//                            unscaled before on_before_optimizer_step and clipping; a step with an
//                            inf/NaN gradient is skipped (optimizer_step returns false, so the
//                            loop does not step the LR schedulers either) and the scale backs off.
// FP16Mixed on a module that is not on CUDA is an error at setup, before any step: libtorch 1.13
// refuses fp16 autocast on CPU. (Lightning instead warns and runs bf16-mixed; volt does not
// change a run's precision behind its back.) MixedPrecision<kBFloat16, GradScaler> is bf16
// autocast with a scaler: not a Lightning policy, but it runs the scaler's logic on CPU.
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include <volt/detail/json_state.hpp>
#include <volt/precision/autocast.hpp>
#include <volt/precision/fp32.hpp>
#include <volt/precision/grad_scaler.hpp>
#include <volt/precision/precision.hpp>

namespace volt::precision {

// The scaler slot of a policy that has none.
struct NoScaler {};

namespace detail {
template <class Optimizer>
inline constexpr bool is_lbfgs_v = std::is_same_v<std::remove_cvref_t<Optimizer>, torch::optim::LBFGS>;
template <class Optimizer>
struct grad_scaler_cannot_step_lbfgs {
  static constexpr bool value = false;  // declared here, so the compiler's note names the optimizer
};
// Lightning passes automatic optimization's flag to the plugin; volt's step hooks carry it.
template <class Hooks>
bool automatic_of(const Hooks& hooks) {
  if constexpr (requires { bool{hooks.automatic}; })
    return hooks.automatic;
  else
    return true;
}
}  // namespace detail

template <torch::ScalarType Dtype, class Scaler = NoScaler>
class MixedPrecision {
  static_assert(Dtype == torch::kBFloat16 || Dtype == torch::kHalf,
                "volt: MixedPrecision<Dtype, Scaler> autocasts to bfloat16 (BF16Mixed) or float16 (FP16Mixed).");
  static_assert(std::is_same_v<Scaler, NoScaler> || std::is_same_v<Scaler, GradScaler>,
                "volt: MixedPrecision's Scaler is precision::NoScaler or precision::GradScaler.");
  static constexpr bool scaled = std::is_same_v<Scaler, GradScaler>;

 public:
  static constexpr const char* name = Dtype == torch::kHalf ? "16-mixed" : "bf16-mixed";

  MixedPrecision() = default;
  explicit MixedPrecision(GradScalerOptions options)
    requires scaled
      : scaler_(options) {}

  // After the strategy moved the module: autocast follows the module's device.
  void convert_module(torch::nn::Module& module) {
    device_ = torch::kCPU;
    for (const auto& p : module.parameters()) {
      device_ = p.device().type();
      break;
    }
    if (Dtype == torch::kHalf && device_ != torch::kCUDA)
      throw std::invalid_argument(
          std::string("volt: precision 16-mixed (FP16Mixed) needs the module on CUDA, but it is on ") +
          c10::DeviceTypeName(device_) +
          ": libtorch 1.13 refuses float16 autocast on CPU (\"AutocastCPU only support Bfloat16\"). Use "
          "precision::BF16Mixed on CPU (Lightning would warn and switch to bf16-mixed; volt asks you to choose).");
  }
  template <class Batch>
  Batch&& convert_input(Batch&& batch) const noexcept {
    return static_cast<Batch&&>(batch);
  }

  // Lightning's forward_context: torch.autocast(device, dtype) around each step.
  AutocastGuard forward_context() const { return AutocastGuard(device_, Dtype); }

  template <class Hooks>
  void backward(const torch::Tensor& loss, Hooks& hooks) {
    if constexpr (scaled) {
      // Lightning's MixedPrecisionPlugin.pre_backward: the scaled loss goes to the hooks and backward.
      const torch::Tensor scaled_loss = scaler_.scale(loss);
      FP32{}.backward(scaled_loss, hooks);
    } else {
      FP32{}.backward(loss, hooks);
    }
  }

  template <class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Optimizer& optimizer, Closure& closure, Hooks& hooks) {
    if constexpr (!scaled) {
      return FP32{}.optimizer_step(optimizer, closure, hooks);
    } else {
      if constexpr (detail::is_lbfgs_v<Optimizer>)
        static_assert(detail::grad_scaler_cannot_step_lbfgs<Optimizer>::value,
                      "volt: precision::FP16Mixed (16-mixed, with a grad scaler) cannot step torch::optim::LBFGS: "
                      "LBFGS re-evaluates the closure inside step(), which the scaler cannot unscale (Lightning: \"AMP "
                      "and the LBFGS optimizer are not compatible\"). Fix: precision::FP32 or BF16Mixed with LBFGS, or "
                      "another optimizer with FP16Mixed.");
      else if (dynamic_cast<const torch::optim::LBFGS*>(&static_cast<const torch::optim::Optimizer&>(optimizer)))
        throw std::invalid_argument(
            "volt: precision::FP16Mixed (16-mixed, with a grad scaler) cannot step torch::optim::LBFGS (Lightning: "
            "\"AMP and the LBFGS optimizer are not compatible\"); use precision::FP32 or BF16Mixed with LBFGS.");
      // Lightning's MixedPrecisionPlugin.optimizer_step.
      const torch::Tensor loss = closure();
      const bool skipped_backward = !loss.defined() && detail::automatic_of(hooks);
      if (!skipped_backward) scaler_.unscale_(optimizer);  // clipping and the hooks see true gradients
      hooks.after_closure(optimizer);
      if (skipped_backward) return false;  // training_step returned nothing: nothing to step
      const bool stepped = scaler_.step(optimizer);  // skipped when a gradient is inf/NaN
      scaler_.update();
      return stepped;
    }
  }

  // The scaler's state for the checkpoint (torch's GradScaler.state_dict keys).
  // (Spelled through Scaler so that nlohmann::json need only be defined where this is called.)
  ::volt::detail::dependent_t<nlohmann::json, Scaler> state_dict() const
    requires scaled
  {
    return scaler_.state_dict();
  }
  // The same, written into `out`: what the Trainer calls (the scaler's compiled code fills it).
  void state_dict_into(nlohmann::json& out) const
    requires scaled
  {
    scaler_.state_dict_into(out);
  }
  void load_state_dict(const nlohmann::json& state)
    requires scaled
  {
    scaler_.load_state_dict(state);
  }

  const Scaler& scaler() const noexcept
    requires scaled
  {
    return scaler_;
  }
  torch::DeviceType device_type() const noexcept { return device_; }

 private:
  [[no_unique_address]] Scaler scaler_{};
  torch::DeviceType device_ = torch::kCPU;
};

using BF16Mixed = MixedPrecision<torch::kBFloat16>;
using FP16Mixed = MixedPrecision<torch::kHalf, GradScaler>;

static_assert(Precision<BF16Mixed> && Precision<FP16Mixed>);

}  // namespace volt::precision
