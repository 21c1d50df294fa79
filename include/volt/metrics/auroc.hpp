#pragma once
// torchmetrics' BinaryAUROC: the area under the ROC curve of scores against {0, 1} targets.
// It needs every score seen, so its state is the concatenated scores and targets (merged across
// ranks by concatenation). Computed as the Mann-Whitney statistic with average ranks for ties,
// which equals the trapezoidal area under the ROC curve, ties included.
#include <array>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/metrics/classification.hpp>
#include <volt/metrics/metric.hpp>

namespace volt::metrics {

class AUROC {
 public:
  AUROC() { reset(); }

  // preds: [N] scores (probabilities or logits: the AUROC depends only on their order);
  // target: [N] in {0, 1}.
  void update(const torch::Tensor& preds, const torch::Tensor& target) {
    torch::NoGradGuard no_grad;
    detail::check_same_length("AUROC", preds, target);
    if (preds.numel() != preds.size(0) || !preds.is_floating_point())
      throw std::invalid_argument(fmt::format(
          "volt::metrics::AUROC::update: preds must be floating-point scores of shape [N], got {} [{}]",
          std::string(c10::toString(preds.scalar_type())), fmt::join(preds.sizes(), ", ")));
    pending_preds_.push_back(preds.detach().reshape(-1).to(torch::kFloat64));
    pending_target_.push_back(detail::class_targets("AUROC", target, 2).to(preds.device()));
  }

  // NaN when the data hold only one class (the curve is undefined), as torchmetrics warns.
  torch::Tensor compute() const {
    const auto [scores, target] = gathered();
    const auto n = scores.numel();
    const auto positives = target.sum().item<double>();
    const auto negatives = static_cast<double>(n) - positives;
    if (positives == 0 || negatives == 0) return detail::nan_scalar();
    // Average ranks (1-based) of the sorted scores, ties sharing the mean of their ranks.
    const auto [sorted, order] = scores.sort();
    const auto [unique, inverse, counts] = torch::unique_consecutive(sorted, /*return_inverse=*/true,
                                                                      /*return_counts=*/true);
    const auto ends = counts.to(torch::kFloat64).cumsum(0);
    const auto average_rank = ends - (counts.to(torch::kFloat64) - 1) / 2;  // mean of ranks end-count+1 .. end
    const auto ranks = average_rank.index({inverse});
    const auto positive_rank_sum = (ranks * target.index({order}).to(torch::kFloat64)).sum();
    return (positive_rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
  }
  void reset() {
    pending_preds_.assign(1, torch::zeros({0}, torch::kFloat64));
    pending_target_.assign(1, torch::zeros({0}, torch::kLong));
  }
  // The scores and targets seen, concatenated into one tensor each (reduction: cat).
  std::array<StateRef, 2> states() {
    compact();
    return {{{"preds", &pending_preds_.front(), StateReduction::cat},
             {"target", &pending_target_.front(), StateReduction::cat}}};
  }

 private:
  std::pair<torch::Tensor, torch::Tensor> gathered() const {
    return {torch::cat(pending_preds_), torch::cat(pending_target_)};
  }
  void compact() {
    auto [p, t] = gathered();
    pending_preds_.assign(1, std::move(p));
    pending_target_.assign(1, std::move(t));
  }
  // One tensor per update until states() concatenates them (updates stay O(batch)).
  std::vector<torch::Tensor> pending_preds_, pending_target_;
};

}  // namespace volt::metrics
