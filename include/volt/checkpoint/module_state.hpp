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

inline void collect_state(const torch::nn::Module& module, const std::string& prefix, std::vector<StateEntry>& out) {
  for (const auto& p : module.named_parameters(/*recurse=*/false))
    if (p.value().defined()) out.push_back({prefix + p.key(), p.value(), false});
  for (const auto& b : module.named_buffers(/*recurse=*/false))
    if (b.value().defined()) out.push_back({prefix + b.key(), b.value(), true});
  for (const auto& child : module.named_children()) collect_state(*child.value(), prefix + child.key() + ".", out);
}

inline std::vector<StateEntry> module_state(const torch::nn::Module& module) {
  std::vector<StateEntry> out;
  collect_state(module, "", out);
  return out;
}

inline std::string shape_string(torch::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

}  // namespace detail

// Parameters and buffers of `module` and its descendants, in PyTorch's state_dict order.
inline NamedTensors state_dict(const torch::nn::Module& module) {
  NamedTensors out;
  for (auto& e : detail::module_state(module)) out.emplace_back(std::move(e.name), e.tensor.detach());
  return out;
}

// Copies `state` into `module`'s parameters and buffers, all or nothing. `file_for_messages`
// names the checkpoint in the CheckpointError thrown when the state does not fit the module.
inline LoadStateReport load_state_dict(torch::nn::Module& module, const NamedTensors& state,
                                       const std::filesystem::path& file_for_messages, LoadStateOptions options = {}) {
  const std::vector<detail::StateEntry> targets = detail::module_state(module);

  std::map<std::string_view, const torch::Tensor*> given;
  std::vector<std::string> problems;
  for (const auto& [name, value] : state)
    if (!given.emplace(name, &value).second) problems.push_back(fmt::format("it has two entries named \"{}\"", name));

  LoadStateReport report;
  std::map<std::string_view, bool> in_model;
  std::vector<std::pair<const detail::StateEntry*, const torch::Tensor*>> plan;
  for (const auto& target : targets) {
    in_model.emplace(target.name, true);
    const char* what = target.is_buffer ? "buffer" : "parameter";
    const auto it = given.find(target.name);
    if (it == given.end()) {
      if (options.strict)
        problems.push_back(fmt::format("{} \"{}\" is in the model but not in the checkpoint", what, target.name));
      else
        report.missing_keys.push_back(target.name);
      continue;
    }
    const torch::Tensor& value = *it->second;
    if (!value.defined()) {
      problems.push_back(fmt::format("{} \"{}\" is an undefined tensor in the checkpoint", what, target.name));
    } else if (value.sizes() != target.tensor.sizes()) {
      problems.push_back(fmt::format("{} \"{}\" has shape {} in the checkpoint but {} in the model", what, target.name,
                                     detail::shape_string(value.sizes()), detail::shape_string(target.tensor.sizes())));
    } else if (value.scalar_type() != target.tensor.scalar_type()) {
      problems.push_back(fmt::format("{} \"{}\" has dtype {} in the checkpoint but {} in the model", what, target.name,
                                     c10::toString(value.scalar_type()), c10::toString(target.tensor.scalar_type())));
    } else {
      plan.emplace_back(&target, &value);
    }
  }
  for (const auto& [name, value] : state) {
    if (in_model.count(name) != 0) continue;
    if (options.strict)
      problems.push_back(fmt::format("the checkpoint has \"{}\", which the model does not have", name));
    else
      report.unexpected_keys.push_back(name);
  }

  if (!problems.empty()) {
    std::string more;
    if (problems.size() > 1) {
      constexpr std::size_t shown = 3;
      more = fmt::format(" ({} more mismatch{}: ", problems.size() - 1, problems.size() > 2 ? "es" : "");
      for (std::size_t i = 1; i < problems.size() && i <= shown; ++i) more += (i > 1 ? "; " : "") + problems[i];
      more += problems.size() - 1 > shown ? "; ...)" : ")";
    }
    throw CheckpointError(file_for_messages,
                          fmt::format("volt: checkpoint \"{}\" does not fit the model: {}{}; nothing was loaded, the "
                                      "model is unchanged (was the checkpoint saved from a model with other "
                                      "hyperparameters?)",
                                      file_for_messages.string(), problems.front(), more));
  }

  // Stage every value on its parameter's device first: if a transfer fails (out of memory), no
  // parameter has been written yet.
  std::vector<torch::Tensor> staged;
  staged.reserve(plan.size());
  for (const auto& [target, value] : plan) staged.push_back(value->to(target->tensor.device()));
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    torch::Tensor param = plan[i].first->tensor;
    param.copy_(staged[i]);
  }
  return report;
}

}  // namespace volt::checkpoint
