#pragma once
// The Precision concept (Lightning's Precision plugin): how the module and inputs are typed,
// what autocast context wraps forward, and how backward and the optimizer step are done
// (a grad scaler for fp16 fits here). Held by value by the Trainer.
#include <concepts>

#include <torch/torch.h>

namespace volt {

template <class P>
concept Precision = requires(P& p, torch::nn::Module& module, torch::Tensor loss, torch::optim::Optimizer& opt) {
  p.convert_module(module);
  { p.convert_input(torch::Tensor{}) } -> std::convertible_to<torch::Tensor>;  // and every batch type
  p.forward_context();  // an RAII guard that lives across the step
  p.backward(loss);
  p.unscale_gradients(opt);
  { p.optimizer_step(opt) } -> std::convertible_to<bool>;  // false: step skipped (inf/NaN grads)
};

}  // namespace volt
