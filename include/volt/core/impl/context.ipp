#pragma once
// Definitions of <volt/core/context.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/core/context.hpp>

namespace volt {

VOLT_INLINE void Context::clip_gradients(torch::optim::Optimizer& optimizer, double clip_val, bool by_norm) {
  std::vector<torch::Tensor> params;
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) params.push_back(p);
  if (by_norm) torch::nn::utils::clip_grad_norm_(params, clip_val, 2.0);
  else torch::nn::utils::clip_grad_value_(params, clip_val);
}

}  // namespace volt
