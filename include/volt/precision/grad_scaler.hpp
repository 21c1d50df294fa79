#pragma once
// GradScaler: torch.cuda.amp.GradScaler (torch/cuda/amp/grad_scaler.py, v1.13.1) for C++,
// which libtorch 1.13 does not ship. Same state, same stages per optimizer, same errors, same
// state_dict keys. scale(loss) multiplies by the scale; unscale_(optimizer) divides the
// gradients by it and records whether any is inf/NaN; step(optimizer) skips optimizer.step()
// when one was; update() halves the scale after a skipped step (backoff_factor) and doubles it
// (growth_factor) after growth_interval good steps in a row.
//
// The two kernels torch uses (_amp_foreach_non_finite_check_and_unscale_, _amp_update_scale_)
// are CUDA-only in 1.13. Tensors on CUDA go through them when this libtorch has CUDA; all other
// tensors go through plain ATen ops that compute the same values (the update rule below is the
// CUDA kernel's, in float), so the scaler's logic runs, and is tested, on CPU too.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>
#include <volt/detail/config.hpp>

#if __has_include(<ATen/cuda/CUDAConfig.h>)
#define VOLT_TORCH_HAS_CUDA 1
#else
#define VOLT_TORCH_HAS_CUDA 0
#endif

namespace volt::precision {

// torch.cuda.amp.GradScaler's constructor arguments, with its defaults.
struct GradScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  std::int64_t growth_interval = 2000;
};

namespace detail {

// _amp_foreach_non_finite_check_and_unscale_: found_inf = 1 if any gradient has an inf/NaN;
// every gradient is multiplied by inv_scale (also the non-finite ones, as the kernel does).
VOLT_INLINE void non_finite_check_and_unscale(std::vector<torch::Tensor>& grads, torch::Tensor& found_inf,
                                         const torch::Tensor& inv_scale);

// _amp_update_scale_, as its CUDA kernel computes it (in float).
VOLT_INLINE void update_scale(torch::Tensor& scale, torch::Tensor& growth_tracker, const torch::Tensor& found_inf,
                         double growth_factor, double backoff_factor, std::int64_t growth_interval);

}  // namespace detail

class GradScaler {
 public:
  GradScaler() : GradScaler(GradScalerOptions{}) {}
  VOLT_INLINE explicit GradScaler(GradScalerOptions options);

  // outputs * scale; the scale lives on the device of the first loss it scales.
  VOLT_INLINE torch::Tensor scale(const torch::Tensor& outputs);

  // Divides the optimizer's gradients by the scale (in place) and records inf/NaN; once per
  // optimizer between update()s, before step(), as torch requires.
  template <class Optimizer>
  void unscale_(Optimizer& optimizer) {
    unscale_optimizer(optimizer);
  }

  // optimizer.step() unless unscale_ found an inf/NaN; true when the step was taken.
  template <class Optimizer>
  bool step(Optimizer& optimizer) {
    if (!prepare_step(optimizer)) return false;
    optimizer.step();
    return true;
  }

  // The new scale from every optimizer's inf checks since the last update (torch's update()).
  VOLT_INLINE void update();

  // The current scale (init_scale before the first scale()).
  double get_scale() const { return scale_.defined() ? static_cast<double>(scale_.item<float>()) : options_.init_scale; }
  VOLT_INLINE std::int64_t growth_tracker() const;
  const GradScalerOptions& options() const noexcept { return options_; }

  // torch's GradScaler.state_dict() keys.
  VOLT_INLINE nlohmann::json state_dict() const;
  // The same, written into `out`: what the Trainer calls (compiled; no JSON in a user TU).
  VOLT_INLINE void state_dict_into(nlohmann::json& out) const;
  VOLT_INLINE void load_state_dict(const nlohmann::json& state);

 private:
  enum class Stage { ready, unscaled, stepped };
  struct OptimizerState {
    Stage stage = Stage::ready;
    std::map<std::string, torch::Tensor> found_inf_per_device;
  };
  // Keyed by the optimizer object, as torch keys by id(optimizer); `ptr` is the address of the
  // torch optimizer, so the same optimizer seen by its concrete type or its base shares a state.
  template <class Optimizer>
  OptimizerState& state_of(Optimizer& optimizer) {
    const torch::optim::Optimizer& base = optimizer;
    return per_optimizer_[&base];
  }
  VOLT_INLINE void require_scale(const char* what) const;
  // The type-independent parts of unscale_ and step, on the torch optimizer the templates are given.
  VOLT_INLINE void unscale_optimizer(torch::optim::Optimizer& optimizer);
  // unscale_ when not done yet, then whether the step may be taken (no inf/NaN found).
  VOLT_INLINE bool prepare_step(torch::optim::Optimizer& optimizer);

  GradScalerOptions options_;
  std::int32_t growth_tracker_init_ = 0;
  torch::Tensor scale_;           // float32, shape {1}, on the loss's device
  torch::Tensor growth_tracker_;  // int32, shape {1}
  std::map<const torch::optim::Optimizer*, OptimizerState> per_optimizer_;
};

}  // namespace volt::precision

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/precision/impl/grad_scaler.ipp>
#endif
