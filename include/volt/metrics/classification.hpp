#pragma once
// What the classification metrics share: the task, the averaging, and turning preds into labels
// the way torchmetrics does (binary: probabilities, or logits when any value lies outside
// [0, 1], thresholded; multiclass: [N, C] scores or [N] labels).
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

namespace volt::metrics {

enum class Task { binary, multiclass };
// micro: count over all examples; macro: the unweighted mean of the per-class values.
enum class Average { micro, macro };

namespace detail {

inline bool is_integral(const torch::Tensor& t) {
  return !t.is_floating_point() && !t.is_complex();
}

// Binary preds -> {0, 1} labels, as int64 [N].
inline torch::Tensor binary_labels(std::string_view metric, const torch::Tensor& preds, double threshold) {
  if (preds.numel() != preds.size(0))
    throw std::invalid_argument(fmt::format(
        "volt::metrics::{}::update: binary preds must be [N] or [N, 1], got [{}]; for several classes use "
        "task = Task::multiclass",
        metric, fmt::join(preds.sizes(), ", ")));
  auto p = preds.detach().reshape(-1);
  if (is_integral(p)) return p.to(torch::kLong);
  p = p.to(torch::kFloat64);
  if (p.numel() > 0 && (p.min().item<double>() < 0 || p.max().item<double>() > 1)) p = p.sigmoid();
  return (p >= threshold).to(torch::kLong);
}

// Binary or class-index targets -> int64 [N], checked to lie in [0, num_classes).
inline torch::Tensor class_targets(std::string_view metric, const torch::Tensor& target, std::int64_t num_classes) {
  if (target.numel() != target.size(0) || !is_integral(target))
    throw std::invalid_argument(fmt::format(
        "volt::metrics::{}::update: target must be integer class indices of shape [N], got {} [{}]", metric,
        std::string(c10::toString(target.scalar_type())), fmt::join(target.sizes(), ", ")));
  auto t = target.detach().reshape(-1).to(torch::kLong);
  if (t.numel() > 0) {
    const auto lo = t.min().item<std::int64_t>(), hi = t.max().item<std::int64_t>();
    if (lo < 0 || hi >= num_classes)
      throw std::invalid_argument(fmt::format(
          "volt::metrics::{}::update: target holds class {} but num_classes = {}; classes must lie in [0, {})", metric,
          lo < 0 ? lo : hi, num_classes, num_classes));
  }
  return t;
}

inline void check_num_classes(std::string_view metric, std::int64_t num_classes) {
  if (num_classes < 2)
    throw std::invalid_argument(fmt::format(
        "volt::metrics::{}: task = Task::multiclass needs num_classes >= 2, got {}; set Options::num_classes", metric,
        num_classes));
}

}  // namespace detail
}  // namespace volt::metrics
