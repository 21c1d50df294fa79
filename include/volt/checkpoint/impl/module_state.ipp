#pragma once
// Definitions of <volt/checkpoint/module_state.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/checkpoint/module_state.hpp>

namespace volt::checkpoint {

namespace detail {

VOLT_INLINE std::string shape_string(torch::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }


VOLT_INLINE void collect_state(const torch::nn::Module& module, const std::string& prefix, std::vector<StateEntry>& out) {
  for (const auto& p : module.named_parameters(/*recurse=*/false))
    if (p.value().defined()) out.push_back({prefix + p.key(), p.value(), false});
  for (const auto& b : module.named_buffers(/*recurse=*/false))
    if (b.value().defined()) out.push_back({prefix + b.key(), b.value(), true});
  for (const auto& child : module.named_children()) collect_state(*child.value(), prefix + child.key() + ".", out);
}

VOLT_INLINE std::vector<StateEntry> module_state(const torch::nn::Module& module) {
  std::vector<StateEntry> out;
  collect_state(module, "", out);
  return out;
}

}  // namespace detail

VOLT_INLINE NamedTensors state_dict(const torch::nn::Module& module) {
  NamedTensors out;
  for (auto& e : detail::module_state(module)) out.emplace_back(std::move(e.name), e.tensor.detach());
  return out;
}

VOLT_INLINE LoadStateReport load_state_dict(torch::nn::Module& module, const NamedTensors& state,
                                       const std::filesystem::path& file_for_messages, LoadStateOptions options) {
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
