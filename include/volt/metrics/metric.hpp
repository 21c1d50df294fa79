#pragma once
// Stateful metrics (torchmetrics' Metric): update(preds, target) per batch, compute() at the end,
// reset() for the next epoch. A metric's state is a few tensors, each with the reduction that
// combines two partial states: merging two metrics fed disjoint data equals one metric fed
// both, which is how DDP ranks will combine theirs (sync() with an all_reduce / all_gather).
//
// A metric type provides `states()`: the list of its state tensors with their reductions.
#include <array>
#include <concepts>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/types.h>

namespace volt::metrics {

// How two partial states combine (torchmetrics' dist_reduce_fx).
enum class StateReduction { sum, cat, min, max };

struct StateRef {
  std::string_view name;
  torch::Tensor* tensor;
  StateReduction reduction;
};

template <class M>
concept Metric = requires(M& m, const M& cm, const torch::Tensor& preds, const torch::Tensor& target) {
  m.update(preds, target);
  { cm.compute() } -> std::convertible_to<torch::Tensor>;
  m.reset();
  m.states();
};

// Combines one state with another's by its reduction.
inline void merge_state(torch::Tensor& into, const torch::Tensor& from, StateReduction reduction) {
  switch (reduction) {
    case StateReduction::sum: into = into + from.to(into.device()); break;
    case StateReduction::cat: into = torch::cat({into, from.to(into.device())}); break;
    case StateReduction::min: into = torch::minimum(into, from.to(into.device())); break;
    case StateReduction::max: into = torch::maximum(into, from.to(into.device())); break;
  }
}

// `into` becomes the metric of both data: a metric updated on one half of the data merged with
// one updated on the other half computes what one metric updated on all of it does.
template <Metric M>
void merge(M& into, M& from) {
  auto a = into.states();
  auto b = from.states();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].tensor->sizes().size() != b[i].tensor->sizes().size() ||
        (a[i].reduction != StateReduction::cat && a[i].tensor->sizes() != b[i].tensor->sizes()))
      throw std::invalid_argument(fmt::format(
          "volt::metrics::merge: state \"{}\" has shape [{}] in one metric and [{}] in the other; merge metrics "
          "built with the same options (num_classes, ...)",
          a[i].name, fmt::join(a[i].tensor->sizes(), ", "), fmt::join(b[i].tensor->sizes(), ", ")));
    merge_state(*a[i].tensor, *b[i].tensor, a[i].reduction);
  }
}

// Replaces every state with its combination across processes: `reduce(tensor, reduction)`
// returns the combined tensor (an all_reduce for sum/min/max, an all_gather + cat for cat).
// With one process, reduce is the identity. The DDP strategy passes its collectives here.
template <Metric M, class Reduce>
  requires std::invocable<Reduce&, const torch::Tensor&, StateReduction>
void sync(M& metric, Reduce&& reduce) {
  for (auto& state : metric.states()) *state.tensor = reduce(*state.tensor, state.reduction);
}

namespace detail {
// Rejects a preds/target pair whose sizes along dim 0 differ, naming the metric.
inline void check_same_length(std::string_view metric, const torch::Tensor& preds, const torch::Tensor& target) {
  if (preds.dim() == 0 || target.dim() == 0 || preds.size(0) != target.size(0))
    throw std::invalid_argument(fmt::format(
        "volt::metrics::{}::update: preds has shape [{}] and target [{}]; they must hold the same number of examples "
        "along dim 0",
        metric, fmt::join(preds.sizes(), ", "), fmt::join(target.sizes(), ", ")));
}
// The result of a metric that has seen no data: NaN, as torchmetrics warns and returns.
inline torch::Tensor nan_scalar() { return torch::tensor(std::numeric_limits<double>::quiet_NaN(), torch::kFloat64); }
}  // namespace detail

}  // namespace volt::metrics
