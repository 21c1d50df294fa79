#pragma once
// volt::Context: what a hook sees of the run (Lightning's `self.log`, `self.current_epoch`,
// `self.global_step`, `self.device`, `self.trainer.should_stop`, ...). One concrete class,
// so user hooks can name it in their signatures; it only points at state the Trainer owns.
#include <algorithm>
#include <array>
#include <initializer_list>
#include <typeinfo>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <torch/torch.h>

#include <volt/core/example_input.hpp>
#include <volt/core/hook_family.hpp>
#include <volt/core/logger_refs.hpp>
#include <volt/core/metrics.hpp>
#include <volt/core/run_facade.hpp>
#include <volt/core/stage.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/detail/config.hpp>

namespace volt {

// The Trainer's run state that hooks may read.
struct RunState {
  // Declared here, defaulted in the .ipp: in the separately compiled mode a user TU calls them
  // instead of compiling its paths, strings, vectors and std::functions' members again.
  VOLT_INLINE RunState();
  VOLT_INLINE RunState(const RunState&);
  VOLT_INLINE RunState(RunState&&) noexcept;
  VOLT_INLINE RunState& operator=(const RunState&);
  VOLT_INLINE RunState& operator=(RunState&&) noexcept;
  VOLT_INLINE ~RunState();

  std::int64_t current_epoch = 0;
  std::int64_t global_step = 0;  // optimizer steps taken, as in Lightning
  // Training batches that ended an accumulation window (Lightning's _batches_that_stepped): the
  // loggers' step and log_every_n_steps count these, once per batch whatever the number of
  // optimizers (a two-optimizer GAN logs at the same steps as a classifier).
  std::int64_t batches_stepped = 0;
  Stage stage = Stage::fit;
  HookFamily family = HookFamily::none;
  std::string_view hook{};  // the hook running now, for messages (e.g. logging where it is not allowed)
  bool sanity_checking = false;
  bool should_stop = false;
  std::int64_t batch_size = 1;  // of the batch in flight: the weight of logged epoch means
  torch::Device device{torch::kCPU};
  std::int64_t global_rank = 0;
  std::int64_t local_rank = 0;
  std::int64_t world_size = 1;
  // Current accumulation factor (Lightning's GradientAccumulationScheduler changes it per epoch).
  std::int64_t accumulate_grad_batches = 1;
  // Training batches per epoch after limits (-1: unknown until the loader ends).
  std::int64_t num_training_batches = -1;
  std::filesystem::path default_root_dir = ".";
  // The first logger's <save_dir>/<name>/version_<N> (empty: the run has no logger); ModelCheckpoint's default dirpath is its checkpoints/.
  std::filesystem::path first_logger_dir{};
  const TrainerOptions* options = nullptr;  // the effective options of the run
  std::int64_t num_val_batches = -1;        // validation batches per run in fit (-1: unknown, 0: none)
  // Batches of the evaluation or predict loop now running (-1: the loader cannot tell), for the
  // progress bar's total.
  std::int64_t num_eval_batches = -1;
  // Metrics a callback monitors (ModelCheckpoint, EarlyStopping): the progress bar shows them first.
  std::vector<std::string> monitored_metrics{};
  // Why fit ended (EarlyStopping, max_time, max_steps, max_epochs), one line for the person watching.
  std::string stop_reason{};
  // Loop progress, saved in checkpoints: batches of the current epoch done, and whether the
  // epoch's end (epoch-end hooks) has been reached, so a resume starts at the right batch.
  // batches_done counts a batch once its optimizer step is in the weights, before the hooks that
  // may save run; validated_batches is batches_done when the epoch's latest validation started,
  // so a checkpoint saved between a batch and its due validation resumes into that validation.
  std::int64_t batches_done = 0;
  std::int64_t validated_batches = 0;
  bool epoch_complete = false;
  std::int64_t resume_skip = 0;  // batches of the first epoch a resumed fit skips
  bool preempted = false;        // a SIGTERM / SIGUSR1 ended the fit at a batch boundary
  bool exception_reported = false;  // on_exception already ran for the error in flight
  RunFacade facade{};  // what hooks may ask of the running Trainer (core/run_facade.hpp)
  LoggerRefs loggers{};  // the run's loggers, for ctx.loggers() (filled when a run starts)
  // The module's example_input_array sizes, for ModelSummary (set when the module has one).
  std::function<std::string()> example_input_sizes{};
  // Each layer's sizes, for a module that is a torch::nn::Sequential (core/example_input.hpp).
  std::function<std::vector<LayerSizes>()> example_layer_sizes{};
  // Parameters toggle_optimizer switched off, restored by untoggle_optimizer.
  std::vector<torch::Tensor> toggled_off{};
};

class Context;

// Lightning's LightningOptimizer, what ctx.optimizers() hands out: step() goes through the step
// seam (the strategy and precision, on_before_optimizer_step, global_step, max_steps, step
// logging), as self.optimizers() does in Lightning. The torch optimizer is reachable only
// explicitly, through optimizer(): stepping it directly would bypass all of that.
class ManualOptimizer {
 public:
  ManualOptimizer(RunState& state, torch::optim::Optimizer& optimizer, std::size_t index) noexcept
      : state_(&state), optimizer_(&optimizer), index_(index) {}
  // Through the strategy and precision; a closure (for LBFGS) is run by the optimizer's step.
  // Under automatic optimization this is an error naming the fix (Lightning's rule).
  void step(const torch::optim::Optimizer::LossClosure& closure = nullptr) const {
    state_->facade.optimizer_step(index_, closure);
  }
  void zero_grad() const { optimizer_->zero_grad(); }
  // Reading the learning rate and other options needs no stepping: forwarded.
  std::vector<torch::optim::OptimizerParamGroup>& param_groups() const noexcept { return optimizer_->param_groups(); }
  // The torch optimizer itself (Lightning's `opt.optimizer`): stepping it bypasses volt.
  torch::optim::Optimizer& optimizer() const noexcept { return *optimizer_; }
  std::size_t index() const noexcept { return index_; }

 private:
  RunState* state_;
  torch::optim::Optimizer* optimizer_;
  std::size_t index_;
};

// One of a RunContext's optimizers (below), knowing its type: optimizer() is the torch optimizer
// as configure_optimizers returned it (torch::optim::Adam&, not torch::optim::Optimizer&).
template <class Optimizer>
class ManualOptimizerOf : public ManualOptimizer {
 public:
  explicit ManualOptimizerOf(const ManualOptimizer& wrapped) noexcept : ManualOptimizer(wrapped) {}
  Optimizer& optimizer() const noexcept { return static_cast<Optimizer&>(ManualOptimizer::optimizer()); }
};

// What volt::Context::optimizers() returns: the fit's optimizers in configure_optimizers' order,
// wrapped. A range (size, [i], for), and, with the count as a template argument, an array for
// structured bindings: `auto [opt_g, opt_d] = ctx.optimizers<2>();` (the plain Context does not
// know the module's optimizer types; a hook taking `auto& ctx` gets a RunContext, which does).
class ManualOptimizers {
 public:
  ManualOptimizers() = default;
  explicit ManualOptimizers(std::vector<ManualOptimizer> all) : all_(std::move(all)) {}
  std::size_t size() const noexcept { return all_.size(); }
  bool empty() const noexcept { return all_.empty(); }
  const ManualOptimizer& operator[](std::size_t i) const { return all_.at(i); }
  const ManualOptimizer& at(std::size_t i) const { return all_.at(i); }
  auto begin() const noexcept { return all_.begin(); }
  auto end() const noexcept { return all_.end(); }

 private:
  std::vector<ManualOptimizer> all_;
};

// What a RunContext's optimizers() returns when configure_optimizers returns a fixed number of
// optimizers (one, a std::tuple, a std::pair, configs): tuple-like, so that
// `auto [opt_g, opt_d] = ctx.optimizers();` unpacks them, each as a ManualOptimizerOf<its type>
// (unpacking another count is the compiler's error naming both numbers); and a range of
// ManualOptimizer, as the plain Context's.
template <class... Optimizers>
class ManualOptimizerTuple {
 public:
  static constexpr std::size_t count = sizeof...(Optimizers);
  explicit ManualOptimizerTuple(const std::array<ManualOptimizer, count>& all) noexcept : all_(all) {}
  // For structured bindings (the tuple protocol's member get).
  template <std::size_t I>
  auto get() const noexcept {
    return ManualOptimizerOf<std::tuple_element_t<I, std::tuple<Optimizers...>>>(all_[I]);
  }
  static constexpr std::size_t size() noexcept { return count; }
  static constexpr bool empty() noexcept { return count == 0; }
  const ManualOptimizer& operator[](std::size_t i) const { return all_.at(i); }
  const ManualOptimizer& at(std::size_t i) const { return all_.at(i); }
  auto begin() const noexcept { return all_.begin(); }
  auto end() const noexcept { return all_.end(); }

 private:
  std::array<ManualOptimizer, count> all_;
};

}  // namespace volt

template <class... Optimizers>
struct std::tuple_size<volt::ManualOptimizerTuple<Optimizers...>>
    : std::integral_constant<std::size_t, sizeof...(Optimizers)> {};
template <std::size_t I, class... Optimizers>
struct std::tuple_element<I, volt::ManualOptimizerTuple<Optimizers...>> {
  using type = volt::ManualOptimizerOf<std::tuple_element_t<I, std::tuple<Optimizers...>>>;
};

namespace volt {

class Context {
 public:
  Context(RunState& state, MetricStore& metrics, torch::nn::Module& module) noexcept
      : state_(&state), metrics_(&metrics), module_(&module) {}

  void log(std::string_view name, const torch::Tensor& value, const LogOptions& opts = {}) {
    if (state_->options && state_->options->barebones) throw_log_in_barebones(name);
    metrics_->log(name, value, opts, state_->family, state_->batch_size, state_->hook);
  }
  void log(std::string_view name, double value, const LogOptions& opts = {}) {
    log(name, torch::tensor(value, torch::kFloat64), opts);
  }
  // A stateful metric (volt::metrics, or any type with compute() and reset()): computed at the
  // end of the epoch of the hook that logs it, then reset, as Lightning logs torchmetrics objects.
  template <class M>
    requires requires(M& m) {
      { m.compute() } -> std::convertible_to<torch::Tensor>;
      m.reset();
    }
  void log(std::string_view name, M& metric, const LogOptions& opts = {}) {
    if (state_->options && state_->options->barebones) throw_log_in_barebones(name);
    metrics_->log_metric(
        name,
        [&metric](bool compute) {
          torch::Tensor value = compute ? torch::Tensor(metric.compute()) : torch::Tensor{};
          metric.reset();
          return value;
        },
        opts, state_->family, state_->hook);
  }
  template <class Map>
  void log_dict(const Map& values, const LogOptions& opts = {}) {
    for (const auto& [name, value] : values) log(name, value, opts);
  }
  // Lightning's self.log_dict({"d_loss": d, "g_loss": g}): log_dict({{"d_loss", d}, {"g_loss", g}}).
  void log_dict(std::initializer_list<std::pair<std::string_view, torch::Tensor>> values, const LogOptions& opts = {}) {
    for (const auto& [name, value] : values) log(name, value, opts);
  }
  void log_dict(std::initializer_list<std::pair<std::string_view, double>> values, const LogOptions& opts = {}) {
    for (const auto& [name, value] : values) log(name, value, opts);
  }

  std::int64_t current_epoch() const noexcept { return state_->current_epoch; }
  std::int64_t global_step() const noexcept { return state_->global_step; }
  Stage stage() const noexcept { return state_->stage; }
  bool sanity_checking() const noexcept { return state_->sanity_checking; }
  torch::Device device() const noexcept { return state_->device; }
  std::int64_t global_rank() const noexcept { return state_->global_rank; }
  std::int64_t local_rank() const noexcept { return state_->local_rank; }
  std::int64_t world_size() const noexcept { return state_->world_size; }
  bool is_global_zero() const noexcept { return state_->global_rank == 0; }

  // Lightning's `trainer.should_stop = True`: fit ends after the current batch
  // (once min_epochs / min_steps are met).
  // `reason`, when given, is the line the progress bar prints when fit ends.
  void request_stop(std::string_view reason = {}) {
    state_->should_stop = true;
    if (!reason.empty()) state_->stop_reason = reason;
  }
  bool should_stop() const noexcept { return state_->should_stop; }

  std::map<std::string, double> callback_metrics() const { return metrics_->callback_metrics(); }
  std::map<std::string, double> progress_bar_metrics() const { return metrics_->progress_bar_metrics(); }
  std::optional<double> metric(const std::string& name) const { return metrics_->metric(name); }

  // Writes a checkpoint of the fit in progress (Lightning's trainer.save_checkpoint): atomic,
  // so a crash mid-write leaves an earlier file at `path` intact.
  void save_checkpoint(const std::filesystem::path& path, bool weights_only = false) const {
    if (!can_save_checkpoint())
      throw std::logic_error("volt: ctx.save_checkpoint() is only available while trainer.fit() runs.");
    state_->facade.save_checkpoint(path, weights_only);
  }
  bool can_save_checkpoint() const noexcept { return static_cast<bool>(state_->facade.save_checkpoint); }
  // Each optimizer's learning rate, named as Lightning's LearningRateMonitor names them.
  std::vector<std::pair<std::string, double>> learning_rates() const {
    if (!state_->facade.learning_rates) return {};
    return state_->facade.learning_rates();
  }
  // Lightning's self.optimizers(): the optimizers configure_optimizers returned, wrapped so that
  // stepping them goes through volt (empty outside fit). For structured bindings give the count:
  // `auto [opt_g, opt_d] = ctx.optimizers<2>();` (a different count is an error naming both), or
  // take the context as `auto& ctx`: the module's RunContext unpacks without one.
  ManualOptimizers optimizers() const {
    std::vector<ManualOptimizer> all;
    const auto& raw = state_->facade.optimizers;
    all.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) all.emplace_back(*state_, *raw[i], i);
    return ManualOptimizers(std::move(all));
  }
  template <std::size_t N>
  std::array<ManualOptimizer, N> optimizers() const {
    const auto& raw = state_->facade.optimizers;
    if (raw.size() != N) throw_optimizer_count(N, raw.size());
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<ManualOptimizer, N>{ManualOptimizer(*state_, *raw[I], I)...};
    }(std::make_index_sequence<N>{});
  }
  // The torch optimizers themselves (Lightning's self.optimizers(use_pl_optimizer=False)), for
  // reading their state; stepping them bypasses volt.
  const std::vector<torch::optim::Optimizer*>& raw_optimizers() const noexcept { return state_->facade.optimizers; }
  // One of ctx.optimizers(), by index.
  ManualOptimizer optimizer(std::size_t index = 0) const {
    const auto& all = state_->facade.optimizers;
    if (index >= all.size())
      throw std::out_of_range("volt: ctx.optimizer(" + std::to_string(index) + "): configure_optimizers returned " +
                              std::to_string(all.size()) + " optimizer(s).");
    return ManualOptimizer(*state_, *all[index], index);
  }
  // Through the strategy and precision, with on_before_backward / the module's backward /
  // on_after_backward, as automatic optimization does.
  void manual_backward(const torch::Tensor& loss) const {
    if (!state_->facade.manual_backward)
      throw std::logic_error("volt: ctx.manual_backward() is only available while trainer.fit() runs.");
    state_->facade.manual_backward(loss);
  }
  // Steps the scheduler configure_optimizers paired with optimizer `index` (manual optimization).
  void lr_scheduler_step(std::size_t index = 0) const {
    if (!state_->facade.lr_scheduler_step)
      throw std::logic_error("volt: ctx.lr_scheduler_step() is only available while trainer.fit() runs.");
    state_->facade.lr_scheduler_step(index);
  }
  // The strategy's collectives (Lightning's self.all_gather, trainer.strategy.reduce / broadcast /
  // barrier): the identity on one process; available from setup to teardown of every stage.
  torch::Tensor reduce(const torch::Tensor& tensor, ReduceOp op = ReduceOp::mean) const {
    return collective(state_->facade.reduce, "reduce")(tensor, op);
  }
  torch::Tensor all_gather(const torch::Tensor& tensor) const {
    return collective(state_->facade.all_gather, "all_gather")(tensor);
  }
  torch::Tensor broadcast(const torch::Tensor& tensor, std::int64_t src = 0) const {
    return collective(state_->facade.broadcast, "broadcast")(tensor, src);
  }
  void barrier() const { collective(state_->facade.barrier, "barrier")(); }
  // Lightning's toggle_optimizer(opt): only that optimizer's parameters require grad until
  // untoggle_optimizer(opt) (for GAN-style alternating updates).
  void toggle_optimizer(const ManualOptimizer& optimizer) const { toggle_optimizer(optimizer.optimizer()); }
  void toggle_optimizer(torch::optim::Optimizer& optimizer) const {
    restore_toggled();
    std::vector<const c10::TensorImpl*> mine;
    for (auto& group : optimizer.param_groups())
      for (auto& p : group.params()) mine.push_back(p.unsafeGetTensorImpl());
    for (auto& p : module_->parameters()) {
      if (p.requires_grad() && std::find(mine.begin(), mine.end(), p.unsafeGetTensorImpl()) == mine.end()) {
        p.set_requires_grad(false);
        state_->toggled_off.push_back(p);
      }
    }
  }
  // By position in configure_optimizers' order (the 1.x loop toggles this way).
  void toggle_optimizer(std::size_t index) const { toggle_optimizer(*raw_optimizers().at(index)); }
  void untoggle_optimizer(const ManualOptimizer&) const { restore_toggled(); }
  void untoggle_optimizer(torch::optim::Optimizer&) const { restore_toggled(); }
  void untoggle_optimizer() const { restore_toggled(); }
  // Lightning's clip_gradients (for manual optimization or configure_gradient_clipping).
  VOLT_INLINE static void clip_gradients(torch::optim::Optimizer& optimizer, double clip_val, bool by_norm = true);

 protected:
  // The errors of the members above and below, compiled once (fast mode) instead of a checked fmt::format
  // per hook TU and per template argument.
  [[noreturn]] VOLT_INLINE static void throw_log_in_barebones(std::string_view name);
  [[noreturn]] VOLT_INLINE static void throw_wrong_module(const std::type_info& wanted, const std::type_info& actual);
  [[noreturn]] VOLT_INLINE static void throw_no_collective(const char* name);
  [[noreturn]] VOLT_INLINE static void throw_optimizer_count(std::size_t wanted, std::size_t configured);
  [[noreturn]] VOLT_INLINE static void throw_optimizers_not_set_up(std::size_t wanted);

 public:
  std::int64_t accumulate_grad_batches() const noexcept { return state_->accumulate_grad_batches; }
  void set_accumulate_grad_batches(std::int64_t n) {
    if (n < 1) throw std::invalid_argument("volt: accumulate_grad_batches must be >= 1, got " + std::to_string(n));
    state_->accumulate_grad_batches = n;
  }
  std::int64_t num_training_batches() const noexcept { return state_->num_training_batches; }
  const std::filesystem::path& default_root_dir() const noexcept { return state_->default_root_dir; }
  const std::filesystem::path& first_logger_dir() const noexcept { return state_->first_logger_dir; }
  const RunState& state() const noexcept { return *state_; }

  // The Trainer's loggers, by type (Lightning's self.loggers): ctx.loggers().find<TensorBoardLogger>().
  const LoggerRefs& loggers() const noexcept { return state_->loggers; }

  // The module being trained, for callbacks (Lightning passes `pl_module` to every callback hook).
  torch::nn::Module& module() const noexcept { return *module_; }
  // The module as its own type (Lightning's `pl_module`, typed): ctx.module<GAN>().generator.
  // A type the module is not (nor derives from) is an error naming both types.
  template <class M>
    requires std::derived_from<M, torch::nn::Module>
  M& module() const {
    if (auto* typed = dynamic_cast<M*>(module_)) return *typed;
    throw_wrong_module(typeid(M), typeid(*module_));
  }

 protected:
  // The run state as the Trainer owns it, for the typed RunContext's wrapped optimizers.
  RunState& run_state() const noexcept { return *state_; }

 private:
  template <class Operation>
  static const Operation& collective(const Operation& operation, const char* name) {
    if (!operation) throw_no_collective(name);
    return operation;
  }

  void restore_toggled() const {
    for (auto& p : state_->toggled_off) p.set_requires_grad(true);
    state_->toggled_off.clear();
  }

  RunState* state_;
  MetricStore* metrics_;
  torch::nn::Module* module_;
};

// The types of the optimizers Module's configure_optimizers returns, normalized: `type` is
// std::tuple<Optimizer...>, or void when their number is known only at run time (a std::vector).
// Defined in loops/run_facade.hpp (normalizing needs optim/); used only when a hook calls
// RunContext::optimizers().
template <class Module>
struct configured_optimizers;

namespace diagnostic {
// Never true: the note under the static_assert prints both counts.
template <std::size_t Unpacked, std::size_t Returned>
struct unpacked_optimizer_count_differs {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
}  // namespace diagnostic

// The context a Module's hooks get: a volt::Context that also knows the module's type, so it
// knows the number and types of the optimizers configure_optimizers returns. A hook taking
// `auto& ctx` (or `volt::RunContext<MyModule>& ctx`) gets it, and
// `auto [opt_g, opt_d] = ctx.optimizers();` unpacks without a count; a hook taking
// `volt::Context&` gets the same object as its base. Callbacks and DataModules get the base.
// Not copyable: a generic hook parameter taken by value (`auto batch_idx`) never binds to it.
template <class Module>
class RunContext : public Context {
 public:
  using Context::Context;
  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;

  // Lightning's `opt_g, opt_d = self.optimizers()`: a ManualOptimizerTuple of the wrapped
  // optimizers; with a std::vector from configure_optimizers, the plain Context's range.
  auto optimizers() const {
    using Types = typename configured_optimizers<Module>::type;
    if constexpr (std::is_void_v<Types>) return Context::optimizers();
    else return typed_optimizers(static_cast<Types*>(nullptr));
  }
  // The count spelled out: checked at compile time when configure_optimizers' count is fixed.
  template <std::size_t N>
  auto optimizers() const {
    using Types = typename configured_optimizers<Module>::type;
    if constexpr (std::is_void_v<Types>) {
      return Context::optimizers<N>();
    } else {
      constexpr std::size_t returned = std::tuple_size_v<Types>;
      static_assert(N == returned || diagnostic::unpacked_optimizer_count_differs<N, returned>::value,
                    "volt: ctx.optimizers<N>() unpacks another number of optimizers than configure_optimizers returns "
                    "(the note names both: <unpacked, returned>); unpack as many as it returns, or write "
                    "`auto [...] = ctx.optimizers();` without a count.");
      return typed_optimizers(static_cast<Types*>(nullptr));
    }
  }

 private:
  template <class... Optimizers>
  ManualOptimizerTuple<Optimizers...> typed_optimizers(std::tuple<Optimizers...>*) const {
    const auto& raw = raw_optimizers();
    if (raw.size() != sizeof...(Optimizers)) throw_optimizers_not_set_up(sizeof...(Optimizers));
    RunState& state = run_state();
    return ManualOptimizerTuple<Optimizers...>([&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<ManualOptimizer, sizeof...(Optimizers)>{ManualOptimizer(state, *raw[I], I)...};
    }(std::index_sequence_for<Optimizers...>{}));
  }
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/core/impl/context.ipp>
#endif
