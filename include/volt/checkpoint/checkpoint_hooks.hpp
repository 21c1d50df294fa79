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
#include <volt/detail/config.hpp>

namespace volt {

struct Checkpoint {
  nlohmann::json json = nlohmann::json::object();  // the hooks' own entries
  checkpoint::NamedTensors tensors{};              // the hooks' own tensors, by unique name
  // Where the checkpoint was taken (set by volt; changing them changes nothing).
  std::int64_t epoch = 0;
  std::int64_t global_step = 0;
  bool weights_only = false;

  VOLT_INLINE bool has_tensor(std::string_view name) const;
  // Adds or replaces `name`; the tensor is detached (saved as its values, on the CPU when loaded back).
  VOLT_INLINE void set_tensor(const std::string& name, const torch::Tensor& value);
  // The tensor saved under `name`; std::out_of_range names it and the names there are.
  VOLT_INLINE const torch::Tensor& tensor(std::string_view name) const;
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
VOLT_INLINE Checkpoint read_checkpoint_hooks(const CheckpointReader& reader, const nlohmann::json& meta);

}  // namespace checkpoint
}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/checkpoint/impl/checkpoint_hooks.ipp>
#endif
