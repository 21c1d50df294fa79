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
#include <array>
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
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json_fwd.hpp>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <volt/checkpoint/checkpoint_file.hpp>
#if !defined(VOLT_SEPARATE_COMPILATION)
// volt::Checkpoint holds a JSON value: in the separately compiled mode a user TU includes
// <volt/checkpoint/checkpoint_hooks.hpp> itself where it has on_save_checkpoint / on_load_checkpoint.
#include <volt/checkpoint/checkpoint_hooks.hpp>
#endif
#include <volt/checkpoint/error.hpp>
#include <volt/checkpoint/module_state.hpp>
#include <volt/core/metrics.hpp>
#include <volt/hooks/call.hpp>
#include <volt/reflect/hparams.hpp>
#include <volt/reflect/hparams_yaml.hpp>
#include <volt/optim/optimizer_name.hpp>
#include <volt/optim/optimizer_state.hpp>
#include <volt/version.hpp>
#include <volt/detail/config.hpp>
#include <volt/detail/json_state.hpp>
#include <volt/detail/meta.hpp>

namespace volt {
struct Checkpoint;  // checkpoint/checkpoint_hooks.hpp
}  // namespace volt

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
// The type-independent parts of save_trainer_checkpoint and load_trainer_checkpoint, compiled
// once in the separately compiled mode (impl/trainer_checkpoint.ipp).

// The "meta" section: volt's version, the loop counters, whether the file holds weights only.
VOLT_INLINE nlohmann::json trainer_checkpoint_meta(const ResumePoint& counters, bool epoch_complete, bool weights_only);
VOLT_INLINE void add_trainer_checkpoint_meta(CheckpointWriter& writer, const ResumePoint& counters, bool epoch_complete,
                                             bool weights_only);
// The "hparams" (JSON) and "hparams.yaml" sections.
VOLT_INLINE void add_hparams_sections(CheckpointWriter& writer, const reflect::HParamDict& hparams);
// The "metrics" section: logged values and the running epoch aggregates.
VOLT_INLINE void add_metrics_section(CheckpointWriter& writer, const MetricStore& metrics);
// The states of the default generators: "cpu", then "cuda:<i>" for each CUDA device.
VOLT_INLINE NamedTensors rng_states();
// The module's defined gradients (detached), by parameter name.
VOLT_INLINE NamedTensors named_grads(const torch::nn::Module& module);

// The "callbacks" section while a save builds it: its map operations compiled once (fast mode),
// not in every TU that instantiates save_trainer_checkpoint.
class CallbackStates {
 public:
  VOLT_INLINE CallbackStates();
  VOLT_INLINE ~CallbackStates();
  CallbackStates(const CallbackStates&) = delete;
  CallbackStates& operator=(const CallbackStates&) = delete;
  // The entry under `key`, null until a state is written into it.
  VOLT_INLINE nlohmann::json& slot(const std::string& key);
  VOLT_INLINE void write_to(CheckpointWriter& writer) const;

 private:
  JsonDocument states_;
};

// The state saved under `key` in a "callbacks" section, or nullptr (compiled once, fast mode).
VOLT_INLINE const nlohmann::json* callback_state(const nlohmann::json& callbacks, const std::string& key);

// A callback's key in the "callbacks" section: its state_key() (Lightning's), else its type.
template <class Callback>
std::string callback_key(const Callback& cb) {
  if constexpr (requires { cb.state_key(); }) return std::string(cb.state_key());
  else return ::volt::optim::class_name<Callback>();
}

// A callback with Lightning's state_dict() / load_state_dict(state) pair (or volt's compiled
// state_dict_into in place of state_dict()), detected without needing nlohmann::json defined.
template <class Callback>
concept stateful_callback = ::volt::detail::has_json_state<Callback> &&
                            requires(Callback& cb, const nlohmann::json& state) { cb.load_state_dict(state); };

// The indices of a run's callbacks tuple whose callback (unwrapped from std::optional) is
// stateful, in order: the visits below are instantiated for these only.
template <class Tuple>
struct stateful_slots;
template <class... C>
struct stateful_slots<std::tuple<C&...>> {
  static constexpr std::size_t count = (std::size_t{stateful_callback<::volt::detail::unwrap_optional_t<C>>} + ... + 0);
  static constexpr auto indices = [] {
    std::array<std::size_t, count> out{};
    std::size_t i = 0, n = 0;
    ((stateful_callback<::volt::detail::unwrap_optional_t<C>> ? (void)(out[n++] = i++) : (void)i++), ...);
    return out;
  }();
};

template <class Run, class F>
void for_each_stateful_callback(Run& run, F&& f) {
  using Slots = stateful_slots<std::remove_cvref_t<decltype(run.callbacks)>>;
  auto visit = [&](auto& cb) { f(cb, callback_key(cb)); };
  [&]<std::size_t... J>(std::index_sequence<J...>) {
    (hooks::detail::visit_callback(std::get<Slots::indices[J]>(run.callbacks), visit), ...);
  }(std::make_index_sequence<Slots::count>{});
}

// Whether the module or a callback of the run may have the hook (hooks/call.hpp's may_have).
template <class Hook, class Callbacks>
struct any_callback_may_have;
template <class Hook, class... Callbacks>
struct any_callback_may_have<Hook, std::tuple<Callbacks&...>>
    : std::bool_constant<(hooks::may_have<Hook, ::volt::detail::unwrap_optional_t<std::remove_const_t<Callbacks>>> ||
                          ...)> {};
template <class Hook, class Run>
inline constexpr bool run_may_have =
    hooks::may_have<Hook, std::remove_cvref_t<decltype(std::declval<Run&>().module)>> ||
    any_callback_may_have<Hook, decltype(std::declval<Run&>().callbacks)>::value;

// volt::Checkpoint, named through the run's type: needed complete only where a hook takes it.
template <class Run>
using checkpoint_for = ::volt::detail::dependent_t<::volt::Checkpoint, Run>;

// Whether the module or a callback (which may take the module first) can take `Checkpoint`:
// asked only where may_have's name probe answered yes (a final class, say) and volt::Checkpoint
// is incomplete, so that the static_assert below fires only for a real hook.
template <class Hook, class Checkpoint, class Module, class Callbacks>
struct any_takes_checkpoint;
template <class Hook, class Checkpoint, class Module, class... Callbacks>
struct any_takes_checkpoint<Hook, Checkpoint, Module, std::tuple<Callbacks&...>>
    : std::bool_constant<hooks::has<Hook, Module, Checkpoint> ||
                         ((hooks::has<Hook, ::volt::detail::unwrap_optional_t<Callbacks>, Checkpoint> ||
                           hooks::has<Hook, ::volt::detail::unwrap_optional_t<Callbacks>, Module&, Checkpoint>) ||
                          ...)> {};
template <class Hook, class Run, class Checkpoint>
inline constexpr bool run_takes_checkpoint =
    any_takes_checkpoint<Hook, Checkpoint, std::remove_cvref_t<decltype(std::declval<Run&>().module)>,
                         decltype(std::declval<Run&>().callbacks)>::value;

template <class Run>
constexpr void require_checkpoint_type() {
  static_assert(::volt::detail::complete_type<checkpoint_for<Run>>,
                "volt: the module or a callback has on_save_checkpoint / on_load_checkpoint, but volt::Checkpoint is "
                "only declared here: #include <volt/checkpoint/checkpoint_hooks.hpp> (the umbrella <volt/volt.hpp> "
                "leaves it out in the separately compiled mode, as it holds an nlohmann::json).");
}
}  // namespace detail

// Once per checkpoint, never per batch: [[gnu::cold]] lets g++ optimize it for size.
template <class Run, class Optimization>
[[gnu::cold]] void save_trainer_checkpoint(Run& run, Optimization& optimization, const std::filesystem::path& path,
                                           bool weights_only) {
  CheckpointWriter writer;
  detail::add_trainer_checkpoint_meta(writer,
                                      {.epoch = run.state.current_epoch,
                                       .global_step = run.state.global_step,
                                       .batches_stepped = run.state.batches_stepped,
                                       .batches_done = run.state.batches_done,
                                       .validated_batches = run.state.validated_batches},
                                      run.state.epoch_complete, weights_only);
  writer.add_tensors("state_dict", state_dict(run.module));
  if constexpr (requires { run.module.hp; }) detail::add_hparams_sections(writer, reflect::to_hparams(run.module.hp));
  // The DataModule's state (normalization statistics, vocabularies), in weights-only files too:
  // inference needs it as much as the weights.
  if constexpr (::volt::detail::has_json_state<std::remove_cvref_t<decltype(run.data)>>) {
    JsonDocument state;
    ::volt::detail::state_dict_into(run.data, state.get());
    writer.add_json("datamodule", state.get());
  }
  if (!weights_only) {
    auto optimizers = ::volt::optim::new_output_archive();
    optimization.save(optimizers);
    writer.add_archive("optimizers", optimizers);
    detail::CallbackStates callbacks;
    detail::for_each_stateful_callback(
        run, [&](auto& cb, const std::string& key) { ::volt::detail::state_dict_into(cb, callbacks.slot(key)); });
    callbacks.write_to(writer);
    detail::add_metrics_section(writer, run.metrics);
    writer.add_tensors("rng", detail::rng_states());
    writer.add_tensors("grads", detail::named_grads(run.module));
    if constexpr (::volt::detail::has_json_state<std::remove_cvref_t<decltype(run.precision)>>) {
      JsonDocument state;  // null: no state now (precision::Runtime)
      ::volt::detail::state_dict_into(run.precision, state.get());
      if (!state.is_null()) writer.add_json("precision", state.get());
    }
  }
  if constexpr (detail::run_may_have<hooks::on_save_checkpoint_t, Run>) {
    if constexpr (!::volt::detail::complete_type<detail::checkpoint_for<Run>>) {
      if constexpr (detail::run_takes_checkpoint<hooks::on_save_checkpoint_t, Run, detail::checkpoint_for<Run>&>)
        detail::require_checkpoint_type<Run>();  // one message naming the header, nothing else
    } else {
      write_checkpoint_hooks(run, writer, weights_only);  // after the callbacks' state_dict, as Lightning
    }
  }
  writer.write(path);
}

namespace detail {

// The loop counters of a full checkpoint, every field checked before anything is loaded.
VOLT_INLINE ResumePoint read_resume_point(const nlohmann::json& meta, const std::filesystem::path& path);

// The generator states of the "rng" section, each checked on a scratch generator first.
VOLT_INLINE NamedTensors checked_rng_states(const CheckpointReader& reader, const std::filesystem::path& path);

// The saved gradients, each naming a parameter of the module with its shape and dtype.
VOLT_INLINE NamedTensors checked_grads(const CheckpointReader& reader, const torch::nn::Module& module,
                                       const std::filesystem::path& path);

// LBFGS keeps one state per param group (under its first parameter): flat vectors over all the
// group's parameters (d, prev_flat_grad, and the history old_dirs / old_stps) and scalars (H_diag,
// ro, al). Each vector must have the group's total element count and the parameters' dtype,
// each scalar one element, and the history lists one length within history_size.
VOLT_INLINE void check_lbfgs_state(torch::optim::LBFGS& optimizer, std::size_t index);

// libtorch's Optimizer::load checks no shapes: every tensor a loaded optimizer holds for a
// parameter must have that parameter's shape and dtype (0-dim bookkeeping tensors aside), so a
// mismatch fails here instead of at the first optimizer step. LBFGS's flat vectors are checked
// against the total size of its parameters (check_lbfgs_state).
// check_optimizer_state's check for every optimizer but LBFGS, on the base class.
VOLT_INLINE void check_optimizer_tensors(torch::optim::Optimizer& optimizer, std::size_t index,
                                         const std::string& class_name);

template <class Optimizer>
void check_optimizer_state(Optimizer& optimizer, std::size_t index) {
  if constexpr (std::is_base_of_v<torch::optim::LBFGS, Optimizer>) {
    check_lbfgs_state(optimizer, index);
  } else {
    check_optimizer_tensors(optimizer, index, ::volt::optim::class_name<Optimizer>());
  }
}

VOLT_INLINE std::string archive_bytes(torch::serialize::OutputArchive& archive);

// load_trainer_checkpoint's checks and steps that do not depend on the run's types, in its order.
// The "meta" section, refused when it says weights only, and the presence of every section.
VOLT_INLINE const nlohmann::json& checked_resume_meta(const CheckpointReader& reader, const std::filesystem::path& path);
// The "callbacks" section, a JSON object.
VOLT_INLINE const nlohmann::json& checked_callbacks_section(const CheckpointReader& reader, const std::filesystem::path& path);
// The "metrics" section, decoded in full into a fresh MetricStore.
VOLT_INLINE MetricStore checked_metrics_section(const CheckpointReader& reader, const std::filesystem::path& path);
// Sets every parameter's gradient to its saved one (moved to the parameter's device), or none.
VOLT_INLINE void restore_grads(torch::nn::Module& module, const NamedTensors& grads);
// Sets the default generators' states: "cpu", and "cuda:<i>" where CUDA is available.
VOLT_INLINE void restore_rng_states(const NamedTensors& rng);
// The error for a resume that failed while loading (after the run's state was put back).
VOLT_INLINE CheckpointError resume_failed(const std::filesystem::path& path, const std::exception& e);

// Everything load_trainer_checkpoint reads before it touches the run, in its order, each section
// checked: opened, decoded and destroyed by code compiled once in the separately compiled mode.
// The JSON sections are the reader's own documents, referred to (JSON stays out of user TUs).
struct ResumeSections {
  CheckpointReader reader;  // validates every section's bounds and CRC
  const nlohmann::json* meta;
  ResumePoint point;
  NamedTensors weights;
  NamedTensors grads;
  NamedTensors rng;
  const nlohmann::json* callbacks;
  MetricStore metrics;  // decoded in full before anything is assigned
  torch::serialize::InputArchive optimizers;
  const nlohmann::json* datamodule;  // null when the file has none
  std::unique_ptr<Checkpoint> hook_checkpoint;

  VOLT_INLINE ResumeSections(const std::filesystem::path& path, const torch::nn::Module& module, torch::Device device);
  VOLT_INLINE ~ResumeSections();
};

// Everything a resume overwrites, copied, so that a load that fails half way can put it back.
// Not the callbacks: their state_dict() is a hook a user sees (Lightning calls it when saving
// only), so they are loaded last, after everything that can fail.
// The part of RunSnapshot that does not depend on the run's types (module, gradients, metrics,
// generators), compiled once in the separately compiled mode.
struct StateSnapshot {
  std::vector<torch::Tensor> module_state;
  std::vector<torch::Tensor> grads;
  JsonDocument metrics;
  NamedTensors rng;

  VOLT_INLINE StateSnapshot(const torch::nn::Module& module, const MetricStore& run_metrics);
  VOLT_INLINE ~StateSnapshot();
  // Puts everything back; called while an exception is in flight, so it must not throw.
  VOLT_INLINE void restore(torch::nn::Module& module, MetricStore& run_metrics) const noexcept;
};

template <class Run, class Optimization>
struct RunSnapshot {
  StateSnapshot state;
  std::string optimization;
  JsonDocument precision;

  RunSnapshot(Run& run, Optimization& optimization_) : state(run.module, run.metrics) {
    auto archive = ::volt::optim::new_output_archive();
    optimization_.save(archive);
    optimization = archive_bytes(archive);
    if constexpr (::volt::detail::has_json_state<std::remove_cvref_t<decltype(run.precision)>>)
      ::volt::detail::state_dict_into(run.precision, precision.get());
  }

  // Puts everything back; called while an exception is in flight, so it must not throw.
  void restore(Run& run, Optimization& optimization_) const noexcept {
    state.restore(run.module, run.metrics);
    try {
      // Optimizer::load adds state but never removes it: clear first, then load the copy.
      optimization_.for_each_optimizer(
          [](auto& opt, std::size_t) { static_cast<torch::optim::Optimizer&>(opt).state().clear(); });
      torch::serialize::InputArchive archive;
      archive.load_from(optimization.data(), optimization.size());
      optimization_.load(archive);
      if constexpr (requires { run.precision.load_state_dict(precision.get()); })
        run.precision.load_state_dict(precision.get());
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
// Once per run: [[gnu::cold]] lets g++ optimize it for size.
template <class Run, class Optimization>
[[gnu::cold]] ResumePoint load_trainer_checkpoint(Run& run, Optimization& optimization,
                                                  const std::filesystem::path& path) {
  detail::ResumeSections loaded(path, run.module, run.state.device);
  const CheckpointReader& reader = loaded.reader;
  const nlohmann::json& callbacks = *loaded.callbacks;
  constexpr bool load_hooks = detail::run_may_have<hooks::on_load_checkpoint_t, Run>;
  if constexpr (load_hooks && !::volt::detail::complete_type<detail::checkpoint_for<Run>>)
    if constexpr (detail::run_takes_checkpoint<hooks::on_load_checkpoint_t, Run, const detail::checkpoint_for<Run>&>)
      detail::require_checkpoint_type<Run>();
  const detail::RunSnapshot<Run, Optimization> snapshot(run, optimization);
  try {
    // Lightning's order: the module's on_load_checkpoint before its weights, the callbacks'
    // before their load_state_dict.
    if constexpr (load_hooks) {
      const detail::checkpoint_for<Run>& hook_checkpoint = *loaded.hook_checkpoint;
      run.call(hooks::on_load_checkpoint, hook_checkpoint);
    }
    load_state_dict(run.module, loaded.weights, path);  // checks names, shapes and dtypes before it copies
    if constexpr (load_hooks) {
      const detail::checkpoint_for<Run>& hook_checkpoint = *loaded.hook_checkpoint;
      run.emit_callbacks(hooks::on_load_checkpoint, hook_checkpoint);
    }
    optimization.load(loaded.optimizers);
    optimization.for_each_optimizer([](auto& opt, std::size_t i) { detail::check_optimizer_state(opt, i); });
    // Optional: a checkpoint saved under a stateless precision (fp32) resumes under fp16 with a
    // fresh grad scaler, as Lightning does.
    if constexpr (requires { run.precision.load_state_dict(reader.json("precision")); })
      if (reader.has("precision")) run.precision.load_state_dict(reader.json("precision"));
    run.metrics = std::move(loaded.metrics);
    detail::restore_grads(run.module, loaded.grads);
    detail::restore_rng_states(loaded.rng);
    // The user's own state_dict code comes last, after everything volt can put back.
    if constexpr (requires { run.data.load_state_dict(std::declval<const nlohmann::json&>()); })
      if (loaded.datamodule != nullptr) run.data.load_state_dict(*loaded.datamodule);
    // Last: a callback whose load_state_dict throws leaves the callbacks before it loaded.
    detail::for_each_stateful_callback(run, [&](auto& cb, const std::string& key) {
      if (const nlohmann::json* state = detail::callback_state(callbacks, key)) cb.load_state_dict(*state);
    });
  } catch (const CheckpointError&) {
    snapshot.restore(run, optimization);
    throw;
  } catch (const std::exception& e) {
    snapshot.restore(run, optimization);
    throw detail::resume_failed(path, e);
  }
  return loaded.point;
}

}  // namespace volt::checkpoint

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/checkpoint/impl/trainer_checkpoint.ipp>
#endif
