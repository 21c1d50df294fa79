#pragma once
// A module's state dict, and loading one all-or-nothing.
//
// state_dict(module) lists parameters and buffers in PyTorch's order: a module's own parameters,
// then its own buffers, then each child's, depth first, with dotted names ("net.0.weight"), so a
// volt checkpoint lines up with the state_dict of the same model in Python. Undefined tensors
// (libtorch registers e.g. a bias-free Linear's bias as undefined) are skipped, as libtorch's
// named_parameters() does. The tensors are detached and share memory with the module.
//
// load_state_dict(module, state, file) first checks everything (duplicate, missing and unexpected
// keys, shapes, dtypes) and throws CheckpointError naming the file and the first mismatch before it
// copies anything; then it moves every value to its parameter's device, and only then copies, under
// NoGradGuard. A checkpoint that does not fit therefore leaves the model exactly as it was: no
// half-loaded model that trains on from a mix of old and new weights.
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <volt/checkpoint/error.hpp>
#include <volt/checkpoint/named_tensors.hpp>
#include <volt/detail/config.hpp>

namespace volt::checkpoint {

struct LoadStateOptions {
  // Lightning's `strict`: when false, missing and unexpected keys are reported, not errors
  // (a shape or dtype mismatch always is one, as in PyTorch).
  bool strict = true;
};

// What a non-strict load skipped (PyTorch's _IncompatibleKeys); both empty after a strict load.
struct LoadStateReport {
  std::vector<std::string> missing_keys;     // in the model, not in the checkpoint
  std::vector<std::string> unexpected_keys;  // in the checkpoint, not in the model
};

namespace detail {

struct StateEntry {
  std::string name;
  torch::Tensor tensor;  // shares memory with the module
  bool is_buffer = false;
};

VOLT_INLINE void collect_state(const torch::nn::Module& module, const std::string& prefix, std::vector<StateEntry>& out);

VOLT_INLINE std::vector<StateEntry> module_state(const torch::nn::Module& module);

// "[2, 3]". Compiled once in the separately compiled mode: fmt's join_view is not instantiated
// in every TU whose templates report a shape.
VOLT_INLINE std::string shape_string(torch::IntArrayRef sizes);

}  // namespace detail

// Parameters and buffers of `module` and its descendants, in PyTorch's state_dict order.
VOLT_INLINE NamedTensors state_dict(const torch::nn::Module& module);

// Copies `state` into `module`'s parameters and buffers, all or nothing. `file_for_messages`
// names the checkpoint in the CheckpointError thrown when the state does not fit the module.
VOLT_INLINE LoadStateReport load_state_dict(torch::nn::Module& module, const NamedTensors& state,
                                       const std::filesystem::path& file_for_messages, LoadStateOptions options = {});

}  // namespace volt::checkpoint

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/checkpoint/impl/module_state.ipp>
#endif
