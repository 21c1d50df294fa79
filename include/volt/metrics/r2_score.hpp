#pragma once
// torchmetrics' R2Score for one output: 1 - SS_res / SS_tot over everything seen since reset().
// The state is four sums (of y, y^2, the squared residuals, and the count), so partial states
// add up exactly: SS_tot = sum(y^2) - sum(y)^2 / n needs no second pass over the data.
#include <array>

#include <torch/torch.h>

#include <volt/metrics/metric.hpp>

namespace volt::metrics {

class R2Score {
 public:
  R2Score() { reset(); }

  // preds and target: [N] or [N, 1] (one output per example).
  void update(const torch::Tensor& preds, const torch::Tensor& target) {
    torch::NoGradGuard no_grad;
    detail::check_same_length("R2Score", preds, target);
    if (preds.numel() != preds.size(0) || target.numel() != target.size(0))
      throw std::invalid_argument(fmt::format(
          "volt::metrics::R2Score::update: preds [{}] and target [{}] must have one value per example ([N] or [N, 1]); "
          "use one R2Score per output for several outputs",
          fmt::join(preds.sizes(), ", "), fmt::join(target.sizes(), ", ")));
    const auto p = preds.detach().to(torch::kFloat64).reshape(-1);
    const auto y = target.detach().to(torch::kFloat64).reshape(-1);
    const auto device = preds.device();
    sum_target_ = sum_target_.to(device) + y.sum();
    sum_squared_target_ = sum_squared_target_.to(device) + y.square().sum();
    residual_sum_of_squares_ = residual_sum_of_squares_.to(device) + (y - p).square().sum();
    total_ = total_.to(device) + y.numel();
  }
  // NaN before two examples have been seen (R2 is undefined), as torchmetrics.
  torch::Tensor compute() const {
    if (total_.item<double>() < 2) return detail::nan_scalar();
    const auto total_sum_of_squares = sum_squared_target_ - sum_target_.square() / total_;
    return 1 - residual_sum_of_squares_ / total_sum_of_squares;
  }
  void reset() {
    sum_target_ = torch::zeros({}, torch::kFloat64);
    sum_squared_target_ = torch::zeros({}, torch::kFloat64);
    residual_sum_of_squares_ = torch::zeros({}, torch::kFloat64);
    total_ = torch::zeros({}, torch::kFloat64);
  }
  std::array<StateRef, 4> states() {
    return {{{"sum_target", &sum_target_, StateReduction::sum},
             {"sum_squared_target", &sum_squared_target_, StateReduction::sum},
             {"residual_sum_of_squares", &residual_sum_of_squares_, StateReduction::sum},
             {"total", &total_, StateReduction::sum}}};
  }

 private:
  torch::Tensor sum_target_, sum_squared_target_, residual_sum_of_squares_, total_;
};

}  // namespace volt::metrics
