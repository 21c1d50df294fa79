#pragma once
// Definitions of <volt/checkpoint/trainer_checkpoint.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/checkpoint/trainer_checkpoint.hpp>

#include <nlohmann/json.hpp>

#include <volt/checkpoint/checkpoint_hooks.hpp>

namespace volt::checkpoint {

namespace detail {

VOLT_INLINE CallbackStates::CallbackStates() { states_.get() = nlohmann::json::object(); }
VOLT_INLINE CallbackStates::~CallbackStates() = default;

VOLT_INLINE nlohmann::json& CallbackStates::slot(const std::string& key) { return states_.get()[key]; }

VOLT_INLINE void CallbackStates::write_to(CheckpointWriter& writer) const { writer.add_json("callbacks", states_.get()); }

VOLT_INLINE const nlohmann::json* callback_state(const nlohmann::json& callbacks, const std::string& key) {
  const auto it = callbacks.find(key);
  return it == callbacks.end() ? nullptr : &*it;
}

VOLT_INLINE ResumePoint read_resume_point(const nlohmann::json& meta, const std::filesystem::path& path) {
  const auto bad = [&](std::string_view problem) {
    return CheckpointError(path, fmt::format("volt: checkpoint \"{}\" cannot be resumed from: its \"meta\" section {}; "
                                             "it was not written by volt's Trainer or is damaged. Use another "
                                             "checkpoint.",
                                             path.string(), problem));
  };
  if (!meta.is_object()) throw bad("is not a JSON object");
  const auto count = [&](const char* key) {
    const auto it = meta.find(key);
    if (it == meta.end()) throw bad(fmt::format("has no \"{}\"", key));
    if (!it->is_number_integer()) throw bad(fmt::format("gives \"{}\" as {}, not an integer", key, it->type_name()));
    if (it->is_number_unsigned() ? it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)
                                 : it->get<std::int64_t>() < 0)
      throw bad(fmt::format("gives \"{}\" = {}, outside 0..2^63-1", key, it->dump()));
    return it->get<std::int64_t>();
  };
  ResumePoint point;
  point.global_step = count("global_step");
  // Absent in checkpoints of earlier volt versions, which counted logging steps in global_step.
  point.batches_stepped = meta.contains("batches_stepped") ? count("batches_stepped") : point.global_step;
  point.epoch = count("epoch");
  point.batches_done = count("batches_done");
  // Absent in checkpoints of earlier volt versions: nothing pending.
  point.validated_batches = meta.contains("validated_batches") ? count("validated_batches") : point.batches_done;
  if (point.validated_batches > point.batches_done)
    throw bad(fmt::format("gives \"validated_batches\" = {}, more than \"batches_done\" = {}", point.validated_batches,
                          point.batches_done));
  const auto complete = meta.find("epoch_complete");
  if (complete == meta.end()) throw bad("has no \"epoch_complete\"");
  if (!complete->is_boolean()) throw bad(fmt::format("gives \"epoch_complete\" as {}, not a boolean", complete->type_name()));
  if (const auto w = meta.find("weights_only"); w != meta.end() && !w->is_boolean())
    throw bad(fmt::format("gives \"weights_only\" as {}, not a boolean", w->type_name()));
  if (complete->get<bool>()) {
    if (point.epoch == INT64_MAX) throw bad("gives an epoch with no successor");
    point.epoch += 1;
    point.batches_done = 0;
    point.validated_batches = 0;
  }
  return point;
}

VOLT_INLINE NamedTensors checked_rng_states(const CheckpointReader& reader, const std::filesystem::path& path) {
  NamedTensors states = reader.tensors("rng");
  const auto bad = [&](std::string_view problem) {
    return CheckpointError(path, fmt::format("volt: checkpoint \"{}\" cannot be resumed from: its \"rng\" section {}; "
                                             "without the generators' states the resumed run would not be the one "
                                             "that was interrupted. Use another checkpoint.",
                                             path.string(), problem));
  };
  bool has_cpu = false;
  for (const auto& [name, state] : states) {
    if (name == "cpu") {
      has_cpu = true;
      if (state.scalar_type() != torch::kUInt8 || state.dim() != 1)
        throw bad(fmt::format("holds a CPU generator state of dtype {} and {} dimensions, not a uint8 vector",
                              c10::toString(state.scalar_type()), state.dim()));
      try {
        at::Generator scratch = at::make_generator<at::CPUGeneratorImpl>();
        scratch.set_state(state);
      } catch (const c10::Error& e) {
        throw bad(fmt::format("holds a CPU generator state torch rejects ({})", e.what_without_backtrace()));
      }
    } else if (name.rfind("cuda:", 0) != 0) {
      throw bad(fmt::format("holds a state for \"{}\", which is no generator volt saves", name));
    }
  }
  if (!has_cpu) throw bad("has no CPU generator state");
  return states;
}

VOLT_INLINE void check_lbfgs_state(torch::optim::LBFGS& optimizer, std::size_t index) {
  for (const auto& group : optimizer.param_groups()) {
    if (group.params().empty()) continue;
    const auto it = optimizer.state().find(c10::guts::to_string(group.params().front().unsafeGetTensorImpl()));
    if (it == optimizer.state().end()) continue;
    const auto& state = static_cast<const torch::optim::LBFGSParamState&>(*it->second);
    std::int64_t numel = 0;
    for (const auto& p : group.params()) numel += p.numel();
    const auto dtype = group.params().front().scalar_type();
    const auto bad = [&](const std::string& what, const torch::Tensor& t, const std::string& expected) {
      return std::runtime_error(fmt::format("optimizer {} (LBFGS) holds \"{}\" of shape {} and dtype {}, but {}.", index,
                                            what, shape_string(t.sizes()), c10::toString(t.scalar_type()), expected));
    };
    const auto flat = [&](const std::string& what, const torch::Tensor& t) {
      if (!t.defined()) return;
      if (t.dim() != 1 || t.size(0) != numel || t.scalar_type() != dtype)
        throw bad(what, t,
                  fmt::format("its parameters ({} elements of {}) need a vector of that length and dtype", numel,
                              c10::toString(dtype)));
    };
    const auto scalar = [&](const std::string& what, const torch::Tensor& t) {
      if (t.defined() && t.numel() != 1) throw bad(what, t, "it is a single number");
    };
    flat("d", state.d());
    flat("prev_flat_grad", state.prev_flat_grad());
    scalar("H_diag", state.H_diag());
    for (std::size_t i = 0; i < state.old_dirs().size(); ++i) flat(fmt::format("old_dirs[{}]", i), state.old_dirs()[i]);
    for (std::size_t i = 0; i < state.old_stps().size(); ++i) flat(fmt::format("old_stps[{}]", i), state.old_stps()[i]);
    for (std::size_t i = 0; i < state.ro().size(); ++i) scalar(fmt::format("ro[{}]", i), state.ro()[i]);
    if (state.al())
      for (std::size_t i = 0; i < state.al()->size(); ++i) scalar(fmt::format("al[{}]", i), (*state.al())[i]);
    const auto history = static_cast<const torch::optim::LBFGSOptions&>(group.options()).history_size();
    if (state.old_dirs().size() != state.old_stps().size() || state.old_dirs().size() != state.ro().size() ||
        static_cast<std::int64_t>(state.old_dirs().size()) > history)
      throw std::runtime_error(fmt::format(
          "optimizer {} (LBFGS) holds a history of {} directions, {} steps and {} ro values; they must be equal and at "
          "most history_size={}.",
          index, state.old_dirs().size(), state.old_stps().size(), state.ro().size(), history));
  }
}

VOLT_INLINE std::string archive_bytes(torch::serialize::OutputArchive& archive) {
  std::ostringstream bytes;
  archive.save_to(bytes);
  return std::move(bytes).str();
}

VOLT_INLINE nlohmann::json trainer_checkpoint_meta(const ResumePoint& counters, bool epoch_complete, bool weights_only) {
  return {{"volt_version", ::volt::version},
          {"epoch", counters.epoch},
          {"global_step", counters.global_step},
          {"batches_stepped", counters.batches_stepped},
          {"batches_done", counters.batches_done},
          {"validated_batches", counters.validated_batches},
          {"epoch_complete", epoch_complete},
          {"weights_only", weights_only}};
}

VOLT_INLINE void add_trainer_checkpoint_meta(CheckpointWriter& writer, const ResumePoint& counters, bool epoch_complete,
                                             bool weights_only) {
  writer.add_json("meta", trainer_checkpoint_meta(counters, epoch_complete, weights_only));
}

VOLT_INLINE void add_hparams_sections(CheckpointWriter& writer, const reflect::HParamDict& hparams) {
  writer.add_json("hparams", reflect::hparams_to_json(hparams));
  writer.add_bytes("hparams.yaml", reflect::hparams_yaml(hparams));
}

VOLT_INLINE void add_metrics_section(CheckpointWriter& writer, const MetricStore& metrics) {
  writer.add_json("metrics", metrics.state());
}

VOLT_INLINE NamedTensors rng_states() {
  NamedTensors rng{{"cpu", at::detail::getDefaultCPUGenerator().get_state()}};
  if (torch::cuda::is_available())
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(torch::cuda::device_count()); ++i)
      rng.emplace_back(fmt::format("cuda:{}", i), at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, i)).get_state());
  return rng;
}

VOLT_INLINE NamedTensors named_grads(const torch::nn::Module& module) {
  NamedTensors grads;
  for (const auto& p : module.named_parameters())
    if (p.value().grad().defined()) grads.emplace_back(p.key(), p.value().grad().detach());
  return grads;
}

VOLT_INLINE void check_optimizer_tensors(torch::optim::Optimizer& optimizer, std::size_t index,
                                         const std::string& class_name) {
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
              index, class_name, key, shape_string(t.sizes()),
              c10::toString(t.scalar_type()), shape_string(p.sizes()), c10::toString(p.scalar_type())));
      }
    }
}

VOLT_INLINE const nlohmann::json& checked_resume_meta(const CheckpointReader& reader, const std::filesystem::path& path) {
  const nlohmann::json& meta = reader.json("meta");
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
  return meta;
}

VOLT_INLINE const nlohmann::json& checked_callbacks_section(const CheckpointReader& reader,
                                                           const std::filesystem::path& path) {
  const nlohmann::json& callbacks = reader.json("callbacks");
  if (!callbacks.is_object())
    throw CheckpointError(path, fmt::format("volt: checkpoint \"{}\" cannot be resumed from: its \"callbacks\" section "
                                            "is {}, not a JSON object; it is damaged. Use another checkpoint.",
                                            path.string(), callbacks.type_name()));
  return callbacks;
}

VOLT_INLINE MetricStore checked_metrics_section(const CheckpointReader& reader, const std::filesystem::path& path) {
  const nlohmann::json& metrics = reader.json("metrics");
  MetricStore loaded_metrics;
  try {
    loaded_metrics.load_state(metrics);
  } catch (const std::exception& e) {
    throw CheckpointError(path, fmt::format("volt: checkpoint \"{}\" cannot be resumed from: its \"metrics\" section "
                                            "is not what volt writes ({}). Use another checkpoint.",
                                            path.string(), e.what()));
  }
  return loaded_metrics;
}

VOLT_INLINE void restore_grads(torch::nn::Module& module, const NamedTensors& grads) {
  for (auto& p : module.named_parameters()) {
    auto& param = p.value();
    param.mutable_grad() = torch::Tensor{};
    for (const auto& [name, g] : grads)
      if (name == p.key()) param.mutable_grad() = g.to(param.device()).clone();
  }
}

VOLT_INLINE void restore_rng_states(const NamedTensors& rng) {
  for (const auto& [name, state] : rng) {
    if (name == "cpu") {
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      gen.set_state(state);
    } else if (torch::cuda::is_available()) {
      at::Generator gen = at::globalContext().defaultGenerator(c10::Device(name));
      gen.set_state(state);
    }
  }
}

VOLT_INLINE CheckpointError resume_failed(const std::filesystem::path& path, const std::exception& e) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
  return CheckpointError(path, fmt::format("volt: cannot resume from checkpoint \"{}\": {} Nothing was loaded: the "
                                           "model was left as it was, and so were its optimizers, callbacks and the "
                                           "random generators; check that configure_optimizers returns the "
                                           "optimizers the checkpoint was saved with.",
                                           path.string(), torch_error ? torch_error->what_without_backtrace() : e.what()));
}

// The saved gradients, each naming a parameter of the module with its shape and dtype.
VOLT_INLINE NamedTensors checked_grads(const CheckpointReader& reader, const torch::nn::Module& module,
                                       const std::filesystem::path& path) {
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

VOLT_INLINE StateSnapshot::StateSnapshot(const torch::nn::Module& module, const MetricStore& run_metrics) {
  for (const auto& [name, t] : state_dict(module)) module_state.push_back(t.clone());
  for (const auto& p : module.parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor{});
  metrics.get() = run_metrics.state();
  rng = rng_states();
}

VOLT_INLINE StateSnapshot::~StateSnapshot() = default;

VOLT_INLINE void StateSnapshot::restore(torch::nn::Module& module, MetricStore& run_metrics) const noexcept {
  try {
    torch::NoGradGuard no_grad;
    auto current = state_dict(module);
    for (std::size_t i = 0; i < current.size() && i < module_state.size(); ++i) current[i].second.copy_(module_state[i]);
    std::size_t i = 0;
    for (auto& p : module.parameters()) p.mutable_grad() = i < grads.size() ? grads[i++] : torch::Tensor{};
    run_metrics.load_state(metrics.get());
    for (const auto& [name, state] : rng) {
      at::Generator gen = name == "cpu" ? at::detail::getDefaultCPUGenerator()
                                        : at::globalContext().defaultGenerator(c10::Device(name));
      gen.set_state(state);
    }
  } catch (...) {  // state taken from this very run: restoring it does not fail in practice
  }
}


VOLT_INLINE ResumeSections::ResumeSections(const std::filesystem::path& path, const torch::nn::Module& module,
                                           torch::Device device)
    : reader(CheckpointReader::open(path)),
      meta(&checked_resume_meta(reader, path)),
      point(read_resume_point(*meta, path)),
      weights(reader.tensors("state_dict")),
      grads(checked_grads(reader, module, path)),
      rng(checked_rng_states(reader, path)),
      callbacks(&checked_callbacks_section(reader, path)),
      metrics(checked_metrics_section(reader, path)),
      optimizers(reader.archive("optimizers", device)),
      datamodule(reader.has("datamodule") ? &reader.json("datamodule") : nullptr),
      hook_checkpoint(std::make_unique<Checkpoint>(read_checkpoint_hooks(reader, *meta))) {}

VOLT_INLINE ResumeSections::~ResumeSections() = default;

}  // namespace detail

}  // namespace volt::checkpoint
