#pragma once
// torchmetrics' Accuracy (binary, or multiclass with top-k): the fraction of examples whose
// target is among the k best-scored classes. As torchmetrics' MulticlassAccuracy, the
// multiclass default is the macro average (the mean of the per-class accuracies, over the
// classes present in the targets seen); Average::micro gives the plain fraction correct.
#include <array>
#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/metrics/classification.hpp>
#include <volt/metrics/metric.hpp>

namespace volt::metrics {

class Accuracy {
 public:
  struct Options {
    Task task = Task::binary;
    std::int64_t num_classes = 2;  // multiclass only
    std::int64_t top_k = 1;        // multiclass only
    double threshold = 0.5;        // binary only
    Average average = Average::macro;  // multiclass only
  };
  Accuracy() : Accuracy(Options{}) {}
  explicit Accuracy(Options options) : options_(options) {
    if (options_.task == Task::multiclass) {
      detail::check_num_classes("Accuracy", options_.num_classes);
      if (options_.top_k < 1 || options_.top_k > options_.num_classes)
        throw std::invalid_argument(fmt::format("volt::metrics::Accuracy: top_k = {} is invalid; allowed: 1 <= top_k "
                                                "<= num_classes ({})",
                                                options_.top_k, options_.num_classes));
    }
    reset();
  }

  // binary: preds [N] probabilities or logits (or {0, 1} labels), target [N] in {0, 1};
  // multiclass: preds [N, C] scores (or [N] labels when top_k = 1), target [N] class indices.
  void update(const torch::Tensor& preds, const torch::Tensor& target) {
    torch::NoGradGuard no_grad;
    detail::check_same_length("Accuracy", preds, target);
    const auto device = preds.device();
    correct_ = correct_.to(device);
    support_ = support_.to(device);
    if (options_.task == Task::binary) {
      const auto y = detail::class_targets("Accuracy", target, 2).to(device);
      const auto p = detail::binary_labels("Accuracy", preds, options_.threshold);
      correct_ += (p == y).sum().to(torch::kFloat64);
      support_ += static_cast<double>(y.numel());
      return;
    }
    const auto y = detail::class_targets("Accuracy", target, options_.num_classes).to(device);
    torch::Tensor hit;  // [N] bool: the target is among the top_k
    if (preds.dim() == 2 && preds.size(1) == options_.num_classes) {
      const auto top = std::get<1>(preds.detach().topk(options_.top_k, 1));
      hit = (top == y.unsqueeze(1)).any(1);
    } else if (preds.dim() == 1 && detail::is_integral(preds) && options_.top_k == 1) {
      hit = preds.to(torch::kLong) == y;
    } else {
      throw std::invalid_argument(fmt::format(
          "volt::metrics::Accuracy::update: multiclass preds must be [N, {}] scores{}, got {} [{}]",
          options_.num_classes, options_.top_k == 1 ? " or [N] class indices" : "",
          std::string(c10::toString(preds.scalar_type())), fmt::join(preds.sizes(), ", ")));
    }
    const auto ones = torch::ones_like(y, torch::kFloat64);
    support_.index_add_(0, y, ones);
    correct_.index_add_(0, y, hit.to(torch::kFloat64));
  }

  torch::Tensor compute() const {
    if (support_.sum().item<double>() == 0) return detail::nan_scalar();
    if (options_.task == Task::binary || options_.average == Average::micro) return correct_.sum() / support_.sum();
    const auto present = support_ > 0;
    return (correct_.index({present}) / support_.index({present})).mean();
  }
  void reset() {
    const std::int64_t slots = options_.task == Task::binary ? 1 : options_.num_classes;
    correct_ = torch::zeros({slots}, torch::kFloat64);
    support_ = torch::zeros({slots}, torch::kFloat64);
  }
  // Per class (one slot for binary): examples of the class counted correct, and examples seen.
  std::array<StateRef, 2> states() {
    return {{{"correct", &correct_, StateReduction::sum}, {"support", &support_, StateReduction::sum}}};
  }
  const Options& options() const noexcept { return options_; }

 private:
  Options options_;
  torch::Tensor correct_, support_;
};

}  // namespace volt::metrics
