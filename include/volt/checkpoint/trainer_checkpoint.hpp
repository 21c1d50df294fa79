#pragma once
// A Trainer checkpoint: everything a fit needs to continue exactly where it stopped.
// Sections (checkpoint_file.hpp's container, written atomically):
//   meta        JSON: volt version, epoch, global step, batches done in the epoch, batches done
//               when its latest validation started, epoch complete
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
//   datamodule    JSON: the DataModule's state_dict(), when it has one (also in weights-only ones)
// Loading checks the whole file before touching anything, and puts the whole run back if a
// section that can only be checked by loading it (e.g. an optimizer of another shape) fails, so
// nothing is ever half-loaded (load_trainer_checkpoint below).
#include <climits>
#include <cstddef>
#include <cstdint>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <filesystem>
#include <string>
#include <optional>
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
#include <volt/core/metrics.hpp>
#include <volt/hooks/call.hpp>
#include <volt/reflect/hparams.hpp>
#include <volt/reflect/hparams_yaml.hpp>
#include <volt/optim/optimizer_name.hpp>
#include <volt/version.hpp>
#include <volt/detail/config.hpp>

namespace volt::checkpoint {

// Where a loaded checkpoint resumes.
struct ResumePoint {
  std::int64_t epoch = 0;
  std::int64_t global_step = 0;
  std::int64_t batches_stepped = 0;  // the loggers' step counter (RunState::batches_stepped)
  std::int64_t batches_done = 0;  // batches of `epoch` to skip
  // batches_done when validation last started in `epoch`: less than batches_done when the
  // checkpoint was saved after a batch whose validation had not run yet.
  std::int64_t validated_batches = 0;
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
                           {"batches_stepped", run.state.batches_stepped},
                           {"batches_done", run.state.batches_done},
                           {"validated_batches", run.state.validated_batches},
                           {"epoch_complete", run.state.epoch_complete},
                           {"weights_only", weights_only}});
  writer.add_tensors("state_dict", state_dict(run.module));
  if constexpr (requires { run.module.hp; }) {
    const reflect::HParamDict hparams = reflect::to_hparams(run.module.hp);
    writer.add_json("hparams", reflect::hparams_to_json(hparams));
    writer.add_bytes("hparams.yaml", reflect::hparams_yaml(hparams));
  }
  // The DataModule's state (normalization statistics, vocabularies), in weights-only files too:
  // inference needs it as much as the weights.
  if constexpr (requires { nlohmann::json(run.data.state_dict()); }) writer.add_json("datamodule", run.data.state_dict());
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
    if constexpr (requires { run.precision.state_dict(); })  // null: no state now (precision::Runtime)
      if (nlohmann::json state = run.precision.state_dict(); !state.is_null()) writer.add_json("precision", state);
  }
  write_checkpoint_hooks(run, writer, weights_only);  // after the callbacks' state_dict, as Lightning
  writer.write(path);
}

namespace detail {

// The loop counters of a full checkpoint, every field checked before anything is loaded.
VOLT_INLINE ResumePoint read_resume_point(const nlohmann::json& meta, const std::filesystem::path& path);

// The generator states of the "rng" section, each checked on a scratch generator first.
VOLT_INLINE NamedTensors checked_rng_states(const CheckpointReader& reader, const std::filesystem::path& path);

// The saved gradients, each naming a parameter of the module with its shape and dtype.
template <class Module>
NamedTensors checked_grads(const CheckpointReader& reader, Module& module, const std::filesystem::path& path) {
  NamedTensors grads = reader.tensors("grads");
  const auto params = module.named_parameters();
  std::set<std::string> seen;
  for (const auto& [name, g] : grads) {
    const auto bad = [&](std::string_view problem) {
      return CheckpointError(path, fmt::format("volt: checkpoint \"{}\" cannot be resumed from: the gradient of "
                                               "\"{}\" {}; nothing was loaded. Use a checkpoint of this model.",
                                               path.string(), name, problem));
    };
    if (!seen.insert(name).second) throw bad("is stored twice");
    const torch::Tensor* param = params.find(name);
    if (param == nullptr) throw bad("is for a parameter the model does not have");
    if (g.sizes() != param->sizes())
      throw bad(fmt::format("has shape {} but the parameter has {}", shape_string(g.sizes()),
                            shape_string(param->sizes())));
    if (g.scalar_type() != param->scalar_type())
      throw bad(fmt::format("has dtype {} but the parameter has {}", c10::toString(g.scalar_type()),
                            c10::toString(param->scalar_type())));
  }
  return grads;
}

// LBFGS keeps one state per param group (under its first parameter): flat vectors over all the
// group's parameters (d, prev_flat_grad, and the history old_dirs / old_stps) and scalars (H_diag,
// ro, al). Each vector must have the group's total element count and the parameters' dtype,
// each scalar one element, and the history lists one length within history_size.
VOLT_INLINE void check_lbfgs_state(torch::optim::LBFGS& optimizer, std::size_t index);

// libtorch's Optimizer::load checks no shapes: every tensor a loaded optimizer holds for a
// parameter must have that parameter's shape and dtype (0-dim bookkeeping tensors aside), so a
// mismatch fails here instead of at the first optimizer step. LBFGS's flat vectors are checked
// against the total size of its parameters (check_lbfgs_state).
template <class Optimizer>
void check_optimizer_state(Optimizer& optimizer, std::size_t index) {
  if constexpr (std::is_base_of_v<torch::optim::LBFGS, Optimizer>) {
    check_lbfgs_state(optimizer, index);
  } else {
    torch::optim::Optimizer& base = optimizer;
    for (const auto& group : base.param_groups())
      for (const auto& p : group.params()) {
        const auto it = base.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
        if (it == base.state().end()) continue;
        torch::serialize::OutputArchive out;
        it->second->serialize(out);
        std::ostringstream bytes;
        out.save_to(bytes);
        const std::string image = std::move(bytes).str();
        torch::serialize::InputArchive in;
        in.load_from(image.data(), image.size());
        for (const auto& key : in.keys()) {
          c10::IValue value;
          if (!in.try_read(key, value) || !value.isTensor()) continue;
          const torch::Tensor t = value.toTensor();
          if (!t.defined() || t.dim() == 0) continue;
          if (t.sizes() != p.sizes() || t.scalar_type() != p.scalar_type())
            throw std::runtime_error(fmt::format(
                "optimizer {} ({}) holds \"{}\" of shape {} and dtype {} for a parameter of shape {} and dtype {}.",
                index, ::volt::optim::class_name<Optimizer>(), key, shape_string(t.sizes()),
                c10::toString(t.scalar_type()), shape_string(p.sizes()), c10::toString(p.scalar_type())));
        }
      }
  }
}

VOLT_INLINE std::string archive_bytes(torch::serialize::OutputArchive& archive);

// Everything a resume overwrites, copied, so that a load that fails half way can put it back.
// Not the callbacks: their state_dict() is a hook a user sees (Lightning calls it when saving
// only), so they are loaded last, after everything that can fail.
template <class Run, class Optimization>
struct RunSnapshot {
  std::vector<torch::Tensor> module_state;
  std::vector<torch::Tensor> grads;
  std::string optimization;
  nlohmann::json metrics;
  nlohmann::json precision;
  NamedTensors rng;

  RunSnapshot(Run& run, Optimization& optimization_) {
    for (const auto& [name, t] : state_dict(run.module)) module_state.push_back(t.clone());
    for (const auto& p : run.module.parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor{});
    torch::serialize::OutputArchive archive;
    optimization_.save(archive);
    optimization = archive_bytes(archive);
    metrics = run.metrics.state();
    if constexpr (requires { run.precision.state_dict(); }) precision = run.precision.state_dict();
    rng.emplace_back("cpu", at::detail::getDefaultCPUGenerator().get_state());
    if (torch::cuda::is_available())
      for (std::int64_t i = 0; i < static_cast<std::int64_t>(torch::cuda::device_count()); ++i)
        rng.emplace_back(fmt::format("cuda:{}", i), at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, i)).get_state());
  }

  // Puts everything back; called while an exception is in flight, so it must not throw.
  void restore(Run& run, Optimization& optimization_) const noexcept {
    try {
      torch::NoGradGuard no_grad;
      auto current = state_dict(run.module);
      for (std::size_t i = 0; i < current.size() && i < module_state.size(); ++i) current[i].second.copy_(module_state[i]);
      std::size_t i = 0;
      for (auto& p : run.module.parameters()) p.mutable_grad() = i < grads.size() ? grads[i++] : torch::Tensor{};
      // Optimizer::load adds state but never removes it: clear first, then load the copy.
      optimization_.for_each_optimizer(
          [](auto& opt, std::size_t) { static_cast<torch::optim::Optimizer&>(opt).state().clear(); });
      torch::serialize::InputArchive archive;
      archive.load_from(optimization.data(), optimization.size());
      optimization_.load(archive);
      run.metrics.load_state(metrics);
      if constexpr (requires { run.precision.load_state_dict(precision); }) run.precision.load_state_dict(precision);
      for (const auto& [name, state] : rng) {
        at::Generator gen = name == "cpu" ? at::detail::getDefaultCPUGenerator()
                                          : at::globalContext().defaultGenerator(c10::Device(name));
        gen.set_state(state);
      }
    } catch (...) {  // state taken from this very run: restoring it does not fail in practice
    }
  }
};

}  // namespace detail

// Restores a fit from `path`, all or nothing. Throws CheckpointError naming the file and the
// first problem. Everything that can be checked without touching the run is checked first
// (every section's CRC and format, the loop counters, the module's tensors' names, shapes and
// dtypes, gradients, generator states); what can only be checked by loading (optimizer and
// scheduler state, the precision policy's and callbacks' state) is loaded after a copy of the
// run's state was taken, and a failure puts that copy back: module, gradients, optimizers,
// schedulers, metrics, precision and generators are then as they were. Callbacks load last, so
// only an exception from a callback's own load_state_dict can leave callbacks partly loaded.
template <class Run, class Optimization>
ResumePoint load_trainer_checkpoint(Run& run, Optimization& optimization, const std::filesystem::path& path) {
  const CheckpointReader reader = CheckpointReader::open(path);  // validates every section's bounds and CRC
  const nlohmann::json meta = reader.json("meta");
  if (meta.is_object() && meta.contains("weights_only") && meta["weights_only"].is_boolean() &&
      meta["weights_only"].get<bool>())
    throw CheckpointError(path, fmt::format("volt: checkpoint \"{}\" holds weights only (save_weights_only): there is "
                                            "no optimizer or loop state to resume from. Resume from a full checkpoint, "
                                            "or load its weights with volt::checkpoint::load_state_dict.",
                                            path.string()));
  for (const char* section : {"state_dict", "optimizers", "callbacks", "metrics", "rng", "grads"})
    if (!reader.has(section))
      throw CheckpointError(path, fmt::format("volt: checkpoint \"{}\" has no \"{}\" section; it was not written by "
                                              "volt's Trainer or is damaged.",
                                              path.string(), section));
  const ResumePoint point = detail::read_resume_point(meta, path);
  const NamedTensors weights = reader.tensors("state_dict");
  const NamedTensors grads = detail::checked_grads(reader, run.module, path);
  const NamedTensors rng = detail::checked_rng_states(reader, path);
  const nlohmann::json callbacks = reader.json("callbacks");
  if (!callbacks.is_object())
    throw CheckpointError(path, fmt::format("volt: checkpoint \"{}\" cannot be resumed from: its \"callbacks\" section "
                                            "is {}, not a JSON object; it is damaged. Use another checkpoint.",
                                            path.string(), callbacks.type_name()));
  const nlohmann::json metrics = reader.json("metrics");
  MetricStore loaded_metrics;  // decoded in full before anything is assigned
  try {
    loaded_metrics.load_state(metrics);
  } catch (const std::exception& e) {
    throw CheckpointError(path, fmt::format("volt: checkpoint \"{}\" cannot be resumed from: its \"metrics\" section "
                                            "is not what volt writes ({}). Use another checkpoint.",
                                            path.string(), e.what()));
  }
  auto optimizers = reader.archive("optimizers", run.state.device);
  std::optional<nlohmann::json> datamodule_state;
  if (reader.has("datamodule")) datamodule_state = reader.json("datamodule");
  // Lightning's order: the module's on_load_checkpoint before its weights, the callbacks'
  // before their load_state_dict.
  const Checkpoint hook_checkpoint = read_checkpoint_hooks(reader, meta);
  const detail::RunSnapshot<Run, Optimization> snapshot(run, optimization);
  try {
    run.call(hooks::on_load_checkpoint, hook_checkpoint);
    load_state_dict(run.module, weights, path);  // checks names, shapes and dtypes before it copies
    run.emit_callbacks(hooks::on_load_checkpoint, hook_checkpoint);
    optimization.load(optimizers);
    optimization.for_each_optimizer([](auto& opt, std::size_t i) { detail::check_optimizer_state(opt, i); });
    // Optional: a checkpoint saved under a stateless precision (fp32) resumes under fp16 with a
    // fresh grad scaler, as Lightning does.
    if constexpr (requires { run.precision.load_state_dict(reader.json("precision")); })
      if (reader.has("precision")) run.precision.load_state_dict(reader.json("precision"));
    run.metrics = std::move(loaded_metrics);
    for (auto& p : run.module.named_parameters()) {
      auto& param = p.value();
      param.mutable_grad() = torch::Tensor{};
      for (const auto& [name, g] : grads)
        if (name == p.key()) param.mutable_grad() = g.to(param.device()).clone();
    }
    for (const auto& [name, state] : rng) {
      if (name == "cpu") {
        at::Generator gen = at::detail::getDefaultCPUGenerator();
        gen.set_state(state);
      } else if (torch::cuda::is_available()) {
        at::Generator gen = at::globalContext().defaultGenerator(c10::Device(name));
        gen.set_state(state);
      }
    }
    // The user's own state_dict code comes last, after everything volt can put back.
    if constexpr (requires { run.data.load_state_dict(std::declval<const nlohmann::json&>()); })
      if (datamodule_state) run.data.load_state_dict(*datamodule_state);
    // Last: a callback whose load_state_dict throws leaves the callbacks before it loaded.
    detail::for_each_stateful_callback(run, [&](auto& cb, const std::string& key) {
      if (callbacks.contains(key)) cb.load_state_dict(callbacks.at(key));
    });
  } catch (const CheckpointError&) {
    snapshot.restore(run, optimization);
    throw;
  } catch (const std::exception& e) {
    snapshot.restore(run, optimization);
    const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
    throw CheckpointError(path, fmt::format("volt: cannot resume from checkpoint \"{}\": {} Nothing was loaded: the "
                                            "model was left as it was, and so were its optimizers, callbacks and the "
                                            "random generators; check that configure_optimizers returns the "
                                            "optimizers the checkpoint was saved with.",
                                            path.string(), torch_error ? torch_error->what_without_backtrace() : e.what()));
  }
  return point;
}

}  // namespace volt::checkpoint

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/checkpoint/impl/trainer_checkpoint.ipp>
#endif
