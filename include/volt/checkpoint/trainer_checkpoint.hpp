#pragma once
// A Trainer checkpoint: everything a fit needs to continue exactly where it stopped.
// Sections (checkpoint_file.hpp's container, written atomically):
//   meta        JSON: volt version, epoch, global step, batches done in the epoch, epoch complete
//   state_dict  the module's parameters and buffers
//   optimizers  every optimizer's and scheduler's state (torch archive)
//   callbacks   JSON: each stateful callback's state_dict(), by state_key()
//   metrics     JSON: logged values and the running epoch aggregates
//   rng         torch's CPU (and CUDA) generator states; loaders shuffle from (seed, epoch)
//   grads       gradients accumulated so far, when stopped inside an accumulation window
//   precision   JSON: the precision policy's state_dict() (fp16's grad scaler), when it has one
//   hooks, hook_tensors  JSON and tensors that on_save_checkpoint hooks added (checkpoint_hooks.hpp)
//   hparams       JSON: the module's hyper-parameters (its member `hp`), when it has them
//   hparams.yaml  the same, as Lightning's hparams.yaml; both also in weights-only checkpoints,
//                 so load_from_checkpoint can rebuild the module from either
// Loading checks the whole file before touching anything, and restores the module if a later
// section (e.g. an optimizer of another shape) fails, so nothing is ever half-loaded.
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <volt/checkpoint/checkpoint_file.hpp>
#include <volt/checkpoint/checkpoint_hooks.hpp>
#include <volt/checkpoint/error.hpp>
#include <volt/checkpoint/module_state.hpp>
#include <volt/hooks/call.hpp>
#include <volt/reflect/hparams.hpp>
#include <volt/reflect/hparams_yaml.hpp>
#include <volt/optim/optimizer_name.hpp>
#include <volt/version.hpp>

namespace volt::checkpoint {

// Where a loaded checkpoint resumes.
struct ResumePoint {
  std::int64_t epoch = 0;
  std::int64_t global_step = 0;
  std::int64_t batches_done = 0;  // batches of `epoch` to skip
};

namespace detail {
// A callback's key in the "callbacks" section: its state_key() (Lightning's), else its type.
template <class Callback>
std::string callback_key(const Callback& cb) {
  if constexpr (requires { cb.state_key(); }) return std::string(cb.state_key());
  else return ::volt::optim::class_name<Callback>();
}

template <class Run, class F>
void for_each_stateful_callback(Run& run, F&& f) {
  hooks::for_each_callback(run.callbacks, [&](auto& cb) {
    if constexpr (requires { cb.state_dict(); cb.load_state_dict(cb.state_dict()); }) f(cb, callback_key(cb));
  });
}
}  // namespace detail

template <class Run, class Optimization>
void save_trainer_checkpoint(Run& run, Optimization& optimization, const std::filesystem::path& path,
                             bool weights_only) {
  CheckpointWriter writer;
  writer.add_json("meta", {{"volt_version", ::volt::version},
                           {"epoch", run.state.current_epoch},
                           {"global_step", run.state.global_step},
                           {"batches_done", run.state.batches_done},
                           {"epoch_complete", run.state.epoch_complete},
                           {"weights_only", weights_only}});
  writer.add_tensors("state_dict", state_dict(run.module));
  if constexpr (requires { run.module.hp; }) {
    const reflect::HParamDict hparams = reflect::to_hparams(run.module.hp);
    writer.add_json("hparams", reflect::hparams_to_json(hparams));
    writer.add_bytes("hparams.yaml", reflect::hparams_yaml(hparams));
  }
  if (!weights_only) {
    torch::serialize::OutputArchive optimizers;
    optimization.save(optimizers);
    writer.add_archive("optimizers", optimizers);
    nlohmann::json callbacks = nlohmann::json::object();
    detail::for_each_stateful_callback(run, [&](auto& cb, const std::string& key) { callbacks[key] = cb.state_dict(); });
    writer.add_json("callbacks", callbacks);
    writer.add_json("metrics", run.metrics.state());
    NamedTensors rng{{"cpu", at::detail::getDefaultCPUGenerator().get_state()}};
    if (torch::cuda::is_available())
      for (std::int64_t i = 0; i < static_cast<std::int64_t>(torch::cuda::device_count()); ++i)
        rng.emplace_back(fmt::format("cuda:{}", i), at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, i)).get_state());
    writer.add_tensors("rng", rng);
    NamedTensors grads;
    for (const auto& p : run.module.named_parameters())
      if (p.value().grad().defined()) grads.emplace_back(p.key(), p.value().grad().detach());
    writer.add_tensors("grads", grads);
    if constexpr (requires { run.precision.state_dict(); })
      writer.add_json("precision", run.precision.state_dict());
  }
  write_checkpoint_hooks(run, writer, weights_only);  // after the callbacks' state_dict, as Lightning
  writer.write(path);
}

// Restores a fit from `path`. Throws CheckpointError naming the file and the first problem.
template <class Run, class Optimization>
ResumePoint load_trainer_checkpoint(Run& run, Optimization& optimization, const std::filesystem::path& path) {
  const CheckpointReader reader = CheckpointReader::open(path);  // validates every section's bounds and CRC
  const nlohmann::json meta = reader.json("meta");
  if (meta.value("weights_only", false))
    throw CheckpointError(path, fmt::format("volt: checkpoint \"{}\" holds weights only (save_weights_only): there is "
                                            "no optimizer or loop state to resume from. Resume from a full checkpoint, "
                                            "or load its weights with volt::checkpoint::load_state_dict.",
                                            path.string()));
  for (const char* section : {"optimizers", "callbacks", "metrics", "rng", "grads"})
    if (!reader.has(section))
      throw CheckpointError(path, fmt::format("volt: checkpoint \"{}\" has no \"{}\" section; it was not written by "
                                              "volt's Trainer or is damaged.",
                                              path.string(), section));

  // The module first (checked in full before any copy), then the rest; on failure the module's
  // previous weights come back.
  const NamedTensors previous = state_dict(run.module);
  std::vector<torch::Tensor> previous_copies;
  for (const auto& [name, t] : previous) previous_copies.push_back(t.clone());
  // Lightning's order: the module's on_load_checkpoint before its weights, the callbacks'
  // before their load_state_dict.
  const Checkpoint hook_checkpoint = read_checkpoint_hooks(reader, meta);
  run.call(hooks::on_load_checkpoint, hook_checkpoint);
  load_state_dict(run.module, reader.tensors("state_dict"), path);
  try {
    run.emit_callbacks(hooks::on_load_checkpoint, hook_checkpoint);
    auto optimizers = reader.archive("optimizers", run.state.device);
    optimization.load(optimizers);
    const nlohmann::json callbacks = reader.json("callbacks");
    detail::for_each_stateful_callback(run, [&](auto& cb, const std::string& key) {
      if (callbacks.contains(key)) cb.load_state_dict(callbacks.at(key));
    });
    run.metrics.load_state(reader.json("metrics"));
    // Optional: a checkpoint saved under a stateless precision (fp32) resumes under fp16 with a
    // fresh grad scaler, as Lightning does.
    if constexpr (requires { run.precision.load_state_dict(reader.json("precision")); })
      if (reader.has("precision")) run.precision.load_state_dict(reader.json("precision"));
    for (const auto& [name, state] : reader.tensors("rng")) {
      if (name == "cpu") {
        at::Generator gen = at::detail::getDefaultCPUGenerator();
        gen.set_state(state);
      } else if (torch::cuda::is_available() && name.rfind("cuda:", 0) == 0) {
        at::Generator gen = at::globalContext().defaultGenerator(c10::Device(name));
        gen.set_state(state);
      }
    }
    const NamedTensors grads = reader.tensors("grads");
    for (auto& p : run.module.named_parameters()) {
      auto& param = p.value();
      param.mutable_grad() = torch::Tensor{};
      for (const auto& [name, g] : grads)
        if (name == p.key()) param.mutable_grad() = g.to(param.device()).clone();
    }
  } catch (const std::exception& e) {
    torch::NoGradGuard no_grad;
    auto current = state_dict(run.module);
    for (std::size_t i = 0; i < current.size() && i < previous_copies.size(); ++i) current[i].second.copy_(previous_copies[i]);
    throw CheckpointError(path, fmt::format("volt: cannot resume from checkpoint \"{}\": {} The model was left as it "
                                            "was; check that configure_optimizers returns the optimizers the "
                                            "checkpoint was saved with.",
                                            path.string(), e.what()));
  }
  ResumePoint point;
  point.global_step = meta.at("global_step").get<std::int64_t>();
  point.epoch = meta.at("epoch").get<std::int64_t>();
  point.batches_done = meta.at("batches_done").get<std::int64_t>();
  if (meta.at("epoch_complete").get<bool>()) {
    point.epoch += 1;
    point.batches_done = 0;
  }
  return point;
}

}  // namespace volt::checkpoint
