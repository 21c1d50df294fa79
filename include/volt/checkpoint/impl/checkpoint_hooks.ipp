#pragma once
// Definitions of <volt/checkpoint/checkpoint_hooks.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/checkpoint/checkpoint_hooks.hpp>

namespace volt {

VOLT_INLINE bool Checkpoint::has_tensor(std::string_view name) const {
  return std::any_of(tensors.begin(), tensors.end(), [&](const auto& e) { return e.first == name; });
}

VOLT_INLINE void Checkpoint::set_tensor(const std::string& name, const torch::Tensor& value) {
  for (auto& [n, t] : tensors)
    if (n == name) {
      t = value.detach();
      return;
    }
  tensors.emplace_back(name, value.detach());
}

VOLT_INLINE const torch::Tensor& Checkpoint::tensor(std::string_view name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  std::string names;
  for (const auto& e : tensors) names += (names.empty() ? "" : ", ") + e.first;
  throw std::out_of_range(fmt::format("volt: the checkpoint has no hook tensor \"{}\" (it has: {}); "
                                      "on_save_checkpoint adds them with checkpoint.set_tensor(name, tensor).",
                                      name, names.empty() ? "none" : names));
}

namespace checkpoint {

VOLT_INLINE Checkpoint read_checkpoint_hooks(const CheckpointReader& reader, const nlohmann::json& meta) {
  Checkpoint ckpt;
  ckpt.epoch = meta.value("epoch", std::int64_t{0});
  ckpt.global_step = meta.value("global_step", std::int64_t{0});
  ckpt.weights_only = meta.value("weights_only", false);
  if (reader.has("hooks")) ckpt.json = reader.json("hooks");
  if (reader.has("hook_tensors")) ckpt.tensors = reader.tensors("hook_tensors");
  return ckpt;
}

}  // namespace checkpoint

}  // namespace volt
