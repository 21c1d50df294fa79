#pragma once
// volt::ModelSummary: Lightning's ModelSummary callback. At on_fit_start it prints, on global
// rank 0, a table of the module's submodules down to max_depth, with their parameter counts,
// then the totals, in Lightning 2.0's layout (pytorch_lightning/utilities/model_summary):
//
//     | Name | Type       | Params
//   --------------------------------------
//   0 | conv | Conv2d     | 320
//   1 | net  | Sequential | 18.5 K
//   --------------------------------------
//   18.8 K    Trainable params
//   0         Non-trainable params
//   18.8 K    Total params
//   0.075     Total estimated model params size (MB)
//
// The size counts each parameter at its dtype's size (8 bytes under FP64, 2 under BF16True or
// FP16True, 4 otherwise): the summary is printed after the precision converted the module.
//
// With an `example_input_array` member on the module, a line follows with the model's in and out
// sizes from a forward pass on it (core/example_input.hpp): "In sizes: [64, 100]; Out sizes: [64, 10] ...".
// A module that is a torch::nn::Sequential also gets Lightning's "In sizes" / "Out sizes" columns.
//
// volt::summarize(module, max_depth) returns that text, so it can be used (and tested) without
// a Trainer. Columns are left-aligned and padded to their widest cell, as Lightning pads them.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <volt/core/example_input.hpp>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/detail/terminal.hpp>
#include <volt/detail/config.hpp>

namespace volt {

// Lightning's get_human_readable_count: "0  ", "320  ", "18.5 K", "123 K", "1.2 M", "7.0 B".
// (The unit of plain counts is a space, hence the trailing spaces Lightning prints too.)
VOLT_INLINE std::string human_readable_count(std::int64_t number);

// The class name Lightning shows (Python's __class__.__name__): torch's demangled type name
// without namespaces and without libtorch's "Impl" suffix ("torch::nn::Conv2dImpl" -> "Conv2d").
VOLT_INLINE std::string module_type_name(const torch::nn::Module& module);

namespace detail {
// Parameters counted once each, even when a module is registered under two names (PyTorch's
// parameters() removes duplicates; libtorch's does not). Undefined slots (Linear without bias)
// are skipped.
template <class Keep, class Measure>
std::int64_t sum_over_parameters(const torch::nn::Module& module, Keep keep, Measure measure) {
  std::unordered_set<const void*> seen;
  std::int64_t total = 0;
  for (const auto& p : module.parameters(/*recurse=*/true))
    if (p.defined() && keep(p) && seen.insert(p.unsafeGetTensorImpl()).second) total += measure(p);
  return total;
}
template <class Keep>
std::int64_t count_parameters(const torch::nn::Module& module, Keep keep) {
  return sum_over_parameters(module, keep, [](const torch::Tensor& p) { return p.numel(); });
}
}  // namespace detail

// The bytes of the module's parameters, each at its own dtype's size: float64 8, float32 4,
// bfloat16 and float16 2 (what FP64 / BF16True / FP16True make of a module; the mixed
// policies keep float32 parameters, so 4). Shared parameters count once.
VOLT_INLINE std::int64_t parameter_bytes(const torch::nn::Module& module);

// Lightning's ModelSummary text for `module`. max_depth: 1 shows the direct children, k > 1
// also their descendants down to depth k (named "parent.child"), -1 every submodule, 0 none
// (the totals only).
// `layer_sizes` (example_layer_sizes): Lightning's "In sizes" / "Out sizes" columns, "?" for the
// rows without sizes; no columns when empty.
VOLT_INLINE std::string summarize(const torch::nn::Module& module, int max_depth = 1,
                                  const std::vector<LayerSizes>& layer_sizes = {});

struct ModelSummaryOptions {
  int max_depth = 1;  // Lightning's default; 0 prints nothing
  std::ostream* out = &std::cout;
};

class ModelSummary {
 public:
  explicit ModelSummary(ModelSummaryOptions options = {}) : options_(options) {}

  VOLT_INLINE static std::string summarize(const torch::nn::Module& module, int max_depth = 1);

  // Printed once the module is on its device and the optimizers exist, as Lightning does.
  VOLT_INLINE void on_fit_start(Context& ctx) const;

  const ModelSummaryOptions& options() const noexcept { return options_; }

 private:
  ModelSummaryOptions options_;
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/model_summary.ipp>
#endif
