#pragma once
// Lightning's on_save_checkpoint(checkpoint) / on_load_checkpoint(checkpoint), on the module and
// on callbacks. Lightning hands them the checkpoint dict; volt's file has typed sections, so the
// hooks get a volt::Checkpoint: a JSON object and a list of named tensors that are theirs to fill
// (written as the "hooks" JSON section and the "hook_tensors" tensors section) and come back
// unchanged in on_load_checkpoint, plus where the checkpoint was taken (read-only by intent).
//
//   void on_save_checkpoint(volt::Checkpoint& ckpt) { ckpt.json["calls"] = calls; ckpt.set_tensor("ema", ema); }
//   void on_load_checkpoint(const volt::Checkpoint& ckpt) { calls = ckpt.json.at("calls"); ema = ckpt.tensor("ema"); }
//
// Module and callbacks share the one Checkpoint (as they share Lightning's dict): pick distinct keys.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <volt/checkpoint/checkpoint_file.hpp>
#include <volt/checkpoint/named_tensors.hpp>
#include <volt/hooks/tags.hpp>

namespace volt {

struct Checkpoint {
  nlohmann::json json = nlohmann::json::object();  // the hooks' own entries
  checkpoint::NamedTensors tensors{};              // the hooks' own tensors, by unique name
  // Where the checkpoint was taken (set by volt; changing them changes nothing).
  std::int64_t epoch = 0;
  std::int64_t global_step = 0;
  bool weights_only = false;

  bool has_tensor(std::string_view name) const {
    return std::any_of(tensors.begin(), tensors.end(), [&](const auto& e) { return e.first == name; });
  }
  // Adds or replaces `name`; the tensor is detached (saved as its values, on the CPU when loaded back).
  void set_tensor(const std::string& name, const torch::Tensor& value) {
    for (auto& [n, t] : tensors)
      if (n == name) {
        t = value.detach();
        return;
      }
    tensors.emplace_back(name, value.detach());
  }
  // The tensor saved under `name`; std::out_of_range names it and the names there are.
  const torch::Tensor& tensor(std::string_view name) const {
    for (const auto& [n, t] : tensors)
      if (n == name) return t;
    std::string names;
    for (const auto& e : tensors) names += (names.empty() ? "" : ", ") + e.first;
    throw std::out_of_range(fmt::format("volt: the checkpoint has no hook tensor \"{}\" (it has: {}); "
                                        "on_save_checkpoint adds them with checkpoint.set_tensor(name, tensor).",
                                        name, names.empty() ? "none" : names));
  }
};

namespace checkpoint {

// Saving: callbacks' on_save_checkpoint, then the module's (Lightning's order); a weights-only
// checkpoint calls the module's alone, as Lightning does. Sections are written only when a hook
// put something in them, so checkpoints of runs without these hooks do not change.
template <class Run>
void write_checkpoint_hooks(Run& run, CheckpointWriter& writer, bool weights_only) {
  Checkpoint ckpt;
  ckpt.epoch = run.state.current_epoch;
  ckpt.global_step = run.state.global_step;
  ckpt.weights_only = weights_only;
  if (weights_only) run.call(hooks::on_save_checkpoint, ckpt);
  else run.emit(hooks::on_save_checkpoint, ckpt);
  if (!ckpt.json.empty()) writer.add_json("hooks", ckpt.json);
  if (!ckpt.tensors.empty()) writer.add_tensors("hook_tensors", ckpt.tensors);
}

// What on_load_checkpoint gets from a checkpoint (empty sections where none were written).
inline Checkpoint read_checkpoint_hooks(const CheckpointReader& reader, const nlohmann::json& meta) {
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
