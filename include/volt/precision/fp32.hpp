#pragma once
// FP32: the default precision. Every member is a pass-through the compiler removes.
#include <torch/torch.h>

#include <volt/precision/precision.hpp>

namespace volt::precision {

struct FP32 {
  static constexpr const char* name = "32-true";
  struct NoGuard {};
  void convert_module(torch::nn::Module&) const noexcept {}
  template <class Batch>
  Batch&& convert_input(Batch&& batch) const noexcept {
    return static_cast<Batch&&>(batch);
  }
  NoGuard forward_context() const noexcept { return {}; }
  void backward(const torch::Tensor& loss) const { loss.backward(); }
  void unscale_gradients(torch::optim::Optimizer&) const noexcept {}
  template <class Optimizer>
  bool optimizer_step(Optimizer& optimizer) const {
    optimizer.step();
    return true;
  }
};

static_assert(Precision<FP32>);

}  // namespace volt::precision
