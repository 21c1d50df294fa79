#pragma once
// AutocastGuard: torch.autocast(device_type, dtype) as an RAII guard, for the precision
// policies' forward_context (Lightning's MixedPrecisionPlugin.forward_context). It saves the
// device's autocast flag and dtype, enables autocast with `dtype`, and on exit (also while an
// exception unwinds) puts both back; the outermost guard also clears autocast's cache of cast
// weights, as torch.autocast.__exit__ does, so no cast copy outlives the step.
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace volt::precision {

class AutocastGuard {
 public:
  // `device` picks CPU or CUDA autocast (torch.autocast's device_type); `enabled` = false makes
  // the guard a no-op that still restores (torch.autocast(enabled=False) turns autocast off).
  AutocastGuard(torch::DeviceType device, torch::ScalarType dtype, bool enabled = true) : device_(device) {
    if (device_ == torch::kCPU) {
      if (enabled && dtype != torch::kBFloat16)
        throw std::invalid_argument("volt: CPU autocast supports bfloat16 only (libtorch 1.13 refuses " +
                                    std::string(c10::toString(dtype)) +
                                    " on CPU); use precision::BF16Mixed on CPU, FP16Mixed on CUDA.");
      previous_enabled_ = at::autocast::is_cpu_enabled();
      previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
      at::autocast::set_cpu_enabled(enabled);
      at::autocast::set_autocast_cpu_dtype(dtype);
    } else if (device_ == torch::kCUDA) {
      previous_enabled_ = at::autocast::is_enabled();
      previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
      at::autocast::set_enabled(enabled);
      at::autocast::set_autocast_gpu_dtype(dtype);
    } else {
      throw std::invalid_argument("volt: autocast is available on CPU (bfloat16) and CUDA only, not on " +
                                  c10::DeviceTypeName(device_) + ".");
    }
    at::autocast::increment_nesting();
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;
  ~AutocastGuard() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    if (device_ == torch::kCPU) {
      at::autocast::set_cpu_enabled(previous_enabled_);
      at::autocast::set_autocast_cpu_dtype(previous_dtype_);
    } else {
      at::autocast::set_enabled(previous_enabled_);
      at::autocast::set_autocast_gpu_dtype(previous_dtype_);
    }
  }

 private:
  torch::DeviceType device_;
  bool previous_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kFloat32;
};

}  // namespace volt::precision
