#pragma once
// torchmetrics' F1Score: 2 tp / (2 tp + fp + fn). Binary: of the positive class. Multiclass
// (top-1 predictions): macro by default, the mean of the per-class F1 over the classes that
// occur in targets or predictions (torchmetrics leaves the others out); micro pools the counts.
// A class with tp + fp + fn = 0 has no F1; a zero denominator elsewhere gives 0, as torchmetrics;
// NaN before any example.
#include <array>
#include <cstdint>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/metrics/classification.hpp>
#include <volt/metrics/metric.hpp>

namespace volt::metrics {

class F1Score {
 public:
  struct Options {
    Task task = Task::binary;
    std::int64_t num_classes = 2;  // multiclass only
    double threshold = 0.5;        // binary only
    Average average = Average::macro;  // multiclass only
  };
  F1Score() : F1Score(Options{}) {}
  explicit F1Score(Options options) : options_(options) {
    if (options_.task == Task::multiclass) detail::check_num_classes("F1Score", options_.num_classes);
    reset();
  }

  // binary: preds [N] probabilities or logits (or labels), target [N] in {0, 1};
  // multiclass: preds [N, C] scores or [N] class indices, target [N] class indices.
  void update(const torch::Tensor& preds, const torch::Tensor& target) {
    torch::NoGradGuard no_grad;
    detail::check_same_length("F1Score", preds, target);
    const auto device = preds.device();
    tp_ = tp_.to(device);
    fp_ = fp_.to(device);
    fn_ = fn_.to(device);
    seen_ = seen_.to(device) + target.size(0);
    if (options_.task == Task::binary) {
      const auto y = detail::class_targets("F1Score", target, 2).to(device);
      const auto p = detail::binary_labels("F1Score", preds, options_.threshold);
      tp_ += ((p == 1) & (y == 1)).sum().to(torch::kFloat64);
      fp_ += ((p == 1) & (y == 0)).sum().to(torch::kFloat64);
      fn_ += ((p == 0) & (y == 1)).sum().to(torch::kFloat64);
      return;
    }
    const auto c = options_.num_classes;
    const auto y = detail::class_targets("F1Score", target, c).to(device);
    torch::Tensor p;
    if (preds.dim() == 2 && preds.size(1) == c) p = preds.detach().argmax(1);
    else if (preds.dim() == 1 && detail::is_integral(preds)) p = detail::class_targets("F1Score", preds, c);
    else
      throw std::invalid_argument(fmt::format(
          "volt::metrics::F1Score::update: multiclass preds must be [N, {}] scores or [N] class indices, got {} [{}]", c,
          std::string(c10::toString(preds.scalar_type())), fmt::join(preds.sizes(), ", ")));
    const auto hit = (p == y).to(torch::kFloat64);
    const auto miss = 1 - hit;
    tp_.index_add_(0, y, hit);
    fn_.index_add_(0, y, miss);
    fp_.index_add_(0, p, miss);
  }

  torch::Tensor compute() const {
    const auto f1 = [](const torch::Tensor& tp, const torch::Tensor& fp, const torch::Tensor& fn) {
      const auto denominator = 2 * tp + fp + fn;
      return torch::where(denominator > 0, 2 * tp / denominator.clamp_min(1e-300), torch::zeros_like(tp));
    };
    if (seen_.item<double>() == 0) return detail::nan_scalar();
    if (options_.task == Task::binary || options_.average == Average::micro)
      return f1(tp_.sum(), fp_.sum(), fn_.sum());
    const auto seen = (tp_ + fp_ + fn_) > 0;
    return f1(tp_, fp_, fn_).index({seen}).mean();
  }
  void reset() {
    const std::int64_t slots = options_.task == Task::binary ? 1 : options_.num_classes;
    tp_ = torch::zeros({slots}, torch::kFloat64);
    fp_ = torch::zeros({slots}, torch::kFloat64);
    fn_ = torch::zeros({slots}, torch::kFloat64);
    seen_ = torch::zeros({}, torch::kFloat64);
  }
  std::array<StateRef, 4> states() {
    return {{{"tp", &tp_, StateReduction::sum},
             {"fp", &fp_, StateReduction::sum},
             {"fn", &fn_, StateReduction::sum},
             {"examples", &seen_, StateReduction::sum}}};
  }

 private:
  Options options_;
  torch::Tensor tp_, fp_, fn_;
  torch::Tensor seen_;  // examples seen: no F1 before the first
};

}  // namespace volt::metrics
