#pragma once
// torchmetrics' MeanAbsoluteError: mean of |preds - target| over every element seen since reset().
#include <array>

#include <torch/torch.h>

#include <volt/metrics/metric.hpp>

namespace volt::metrics {

class MeanAbsoluteError {
 public:
  MeanAbsoluteError() { reset(); }

  void update(const torch::Tensor& preds, const torch::Tensor& target) {
    torch::NoGradGuard no_grad;
    detail::check_same_length("MeanAbsoluteError", preds, target);
    const auto diff = preds.detach().to(torch::kFloat64).reshape(-1) - target.detach().to(torch::kFloat64).reshape(-1);
    sum_absolute_error_ = sum_absolute_error_.to(preds.device()) + diff.abs().sum();
    total_ = total_.to(preds.device()) + diff.numel();
  }
  torch::Tensor compute() const {
    if (total_.item<double>() == 0) return detail::nan_scalar();
    return sum_absolute_error_ / total_;
  }
  void reset() {
    sum_absolute_error_ = torch::zeros({}, torch::kFloat64);
    total_ = torch::zeros({}, torch::kFloat64);
  }
  std::array<StateRef, 2> states() {
    return {{{"sum_absolute_error", &sum_absolute_error_, StateReduction::sum}, {"total", &total_, StateReduction::sum}}};
  }

 private:
  torch::Tensor sum_absolute_error_, total_;
};

}  // namespace volt::metrics
