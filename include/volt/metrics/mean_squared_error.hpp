#pragma once
// torchmetrics' MeanSquaredError: mean of (preds - target)^2 over every element seen since reset().
#include <array>

#include <torch/torch.h>

#include <volt/metrics/metric.hpp>

namespace volt::metrics {

class MeanSquaredError {
 public:
  struct Options {
    bool squared = true;  // false: the root mean squared error
  };
  MeanSquaredError() : MeanSquaredError(Options{}) {}
  explicit MeanSquaredError(Options options) : options_(options) { reset(); }

  void update(const torch::Tensor& preds, const torch::Tensor& target) {
    torch::NoGradGuard no_grad;
    detail::check_same_length("MeanSquaredError", preds, target);
    const auto diff = preds.detach().to(torch::kFloat64).reshape(-1) - target.detach().to(torch::kFloat64).reshape(-1);
    sum_squared_error_ = sum_squared_error_.to(preds.device()) + diff.square().sum();
    total_ = total_.to(preds.device()) + diff.numel();
  }
  torch::Tensor compute() const {
    if (total_.item<double>() == 0) return detail::nan_scalar();
    const auto mse = sum_squared_error_ / total_;
    return options_.squared ? mse : mse.sqrt();
  }
  void reset() {
    sum_squared_error_ = torch::zeros({}, torch::kFloat64);
    total_ = torch::zeros({}, torch::kFloat64);
  }
  std::array<StateRef, 2> states() {
    return {{{"sum_squared_error", &sum_squared_error_, StateReduction::sum}, {"total", &total_, StateReduction::sum}}};
  }

 private:
  Options options_;
  torch::Tensor sum_squared_error_, total_;
};

}  // namespace volt::metrics
