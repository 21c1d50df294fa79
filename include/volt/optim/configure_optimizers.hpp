#pragma once
// Normalizes what configure_optimizers returns into one shape the loops use, keeping every
// optimizer's and scheduler's concrete type (std::tuple; no type erasure, no dynamic dispatch).
// Lightning's return variants, in C++:
//   (a) an optimizer: by value, or in a unique_ptr / shared_ptr (a raw `new` pointer, here or in any
//       form below, is a compile error: volt does not guess who owns it)
//   (b) several: std::tuple{opt1, opt2}, std::pair{opt1, opt2}, or std::vector<Opt>
//   (c) optimizers and schedulers: std::pair{std::tuple{opt1, opt2}, std::tuple{sched1}} (the i-th
//       scheduler drives the i-th optimizer; each scheduler may be an LRSchedulerConfig), or
//       std::pair{std::vector<Opt>, std::vector<Sched>}
//   (d) a config: volt::OptimizerConfig{.optimizer = ..., .lr_scheduler = volt::LRSchedulerConfig{
//           .scheduler = ..., .interval = volt::Interval::step, .frequency = 1, .monitor = "val_loss",
//           .strict = true, .name = "lr-adam"}}   (or volt::with_scheduler(opt, sched, {...}))
//   (e) several configs: std::tuple{config1, config2} or std::vector<Config>
// volt's schedulers (volt::optim::CosineAnnealingLR, ...) are built from options only and attached
// here, once the optimizer has its final address. torch's schedulers (torch::optim::StepLR) hold an
// Optimizer&: hand their optimizer over in a unique_ptr / shared_ptr.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <volt/detail/meta.hpp>
#include <volt/optim/optimizer_name.hpp>
#include <volt/optim/optimizer_state.hpp>
#include <volt/optim/scheduler.hpp>
#include <volt/detail/config.hpp>
#include <volt/optim/schedulers.hpp>  // so that <volt/volt.hpp> offers every scheduler

namespace volt {

enum class Interval { step, epoch };

// Which schedulers a step_schedulers call steps: Lightning steps the ones that need a monitored
// metric (ReduceLROnPlateau) after validation, the others right after the optimizer step.
enum class SchedulerFilter { all, monitored, unmonitored };

// Lightning's lr scheduler config (the dict with "scheduler", "interval", ...).
template <class Scheduler>
struct LRSchedulerConfig {
  Scheduler scheduler;
  Interval interval = Interval::epoch;  // Lightning's default
  std::int64_t frequency = 1;           // step every `frequency` intervals
  std::string monitor{};                // metric a ReduceLROnPlateau steps on (callback_metrics key)
  bool strict = true;                   // a missing monitored metric: error (true) or skip (false)
  std::string name{};                   // LearningRateMonitor's name; default "lr-<Optimizer>"
};

struct NoScheduler {};

// Lightning's optimizer config (the dict with "optimizer", "lr_scheduler", "monitor").
// lr_scheduler: NoScheduler, an LRSchedulerConfig, or a bare scheduler (default settings).
template <class Optimizer, class LRScheduler = NoScheduler>
struct OptimizerConfig {
  Optimizer optimizer;
  LRScheduler lr_scheduler{};
  std::string monitor{};  // used when lr_scheduler sets no monitor of its own
};

// volt::with_scheduler's settings: LRSchedulerConfig less the scheduler.
struct SchedulerOptions {
  Interval interval = Interval::epoch;
  std::int64_t frequency = 1;
  std::string monitor{};
  bool strict = true;
  std::string name{};
};

// with_scheduler(std::move(opt_ptr), std::make_unique<torch::optim::StepLR>(*opt_ptr, 10), {.interval = ...})
// with_scheduler(torch::optim::Adam(...), volt::optim::CosineAnnealingLR{{.T_max = 10}})
template <class Optimizer, class Scheduler>
auto with_scheduler(Optimizer optimizer, Scheduler scheduler, SchedulerOptions options = {}) {
  if constexpr (std::is_same_v<Scheduler, NoScheduler>) {
    return OptimizerConfig<Optimizer, NoScheduler>{std::move(optimizer), NoScheduler{}, std::move(options.monitor)};
  } else {
    return OptimizerConfig<Optimizer, LRSchedulerConfig<Scheduler>>{
        std::move(optimizer),
        LRSchedulerConfig<Scheduler>{std::move(scheduler), options.interval, options.frequency,
                                     std::move(options.monitor), options.strict, std::move(options.name)},
        std::string{}};
  }
}

namespace optim {

// Optimization::size for a std::vector of optimizers (known only at run time: num_optimizers()).
inline constexpr std::size_t dynamic_size = std::dynamic_extent;

template <class T>
concept TorchOptimizer = std::derived_from<detail::deref_t<T>, torch::optim::Optimizer>;

// The metrics a monitored scheduler reads (volt::MetricStore is one).
template <class M>
concept SchedulerMetrics = requires(const M& m, const std::string& key) {
  { m.metric(key) } -> std::convertible_to<std::optional<double>>;
  { m.callback_metrics() } -> std::convertible_to<std::map<std::string, double>>;
};

// What Lightning's default LightningModule.lr_scheduler_step does: step(), or step(metric) for a
// scheduler that steps on a metric.
struct DefaultSchedulerStep {
  template <class S>
  void operator()(S& scheduler, std::optional<double> metric) const {
    if constexpr (requires { scheduler.step(); }) scheduler.step();
    else scheduler.step(metric.value());
  }
};

// For callers without metrics (e.g. a manual-optimization loop stepping plain schedulers).
struct NoMetrics {
  std::optional<double> metric(const std::string&) const { return std::nullopt; }
  std::map<std::string, double> callback_metrics() const { return {}; }
};

// One optimizer and its scheduler config: NoScheduler, LRSchedulerConfig<S>, or (in a
// std::vector with fewer schedulers than optimizers) std::optional<LRSchedulerConfig<S>>.
template <class Optimizer, class SchedulerConfig = NoScheduler>
struct OptimizerEntry {
  Optimizer optimizer;
  SchedulerConfig lr_scheduler{};
  std::int64_t last_count = 0;  // the count the scheduler last stepped at: it steps once per count
};

template <class T>
inline constexpr bool is_tuple_v = volt::detail::is_specialization_of_v<T, std::tuple>;
template <class T>
inline constexpr bool is_vector_v = volt::detail::is_specialization_of_v<T, std::vector>;
template <class T>
inline constexpr bool is_pair_v = volt::detail::is_specialization_of_v<T, std::pair>;
template <class T>
inline constexpr bool is_optional_v = volt::detail::is_specialization_of_v<T, std::optional>;

template <class C>
inline constexpr bool has_scheduler_v = !std::is_same_v<C, NoScheduler>;

// The LRSchedulerConfig inside an entry's scheduler slot, or nullptr.
template <class C>
auto* scheduler_config(C& slot) noexcept {
  if constexpr (is_optional_v<C>) return slot ? &*slot : nullptr;
  else return &slot;
}

// Its own `value` (not std::false_type's), so g++'s note under the static_assert names the
// returned type: `unsupported_configure_optimizers_result<int>::value evaluates to false`.
template <class T>
struct unsupported_configure_optimizers_result {
  static constexpr bool value = false;
};

namespace impl {

// The type-independent halves of Optimization's learning_rates, save and load (compiled once
// in the separately compiled mode, optim/impl/configure_optimizers.ipp).

// Lightning's LearningRateMonitor names: "lr-Adam", a second Adam "lr-Adam-1", "/pg<k>" suffixes.
class LearningRateNames {
 public:
  VOLT_INLINE LearningRateNames();
  VOLT_INLINE ~LearningRateNames();
  // Appends one (name, lr) per param group of `optimizer`; `counted`: the name is a generated
  // "lr-<class>" one, numbered per optimizer type.
  VOLT_INLINE void add(const torch::optim::Optimizer& optimizer, std::string name, std::type_index type, bool counted);
  VOLT_INLINE std::vector<std::pair<std::string, double>> take();

 private:
  std::vector<std::pair<std::string, double>> out_;
  std::map<std::type_index, std::int64_t> seen_;
};

// "<prefix><index>", the archive keys of optimizer / scheduler `index`.
VOLT_INLINE std::string indexed_key(std::string_view prefix, std::size_t index);
VOLT_INLINE void write_optimizer(torch::serialize::OutputArchive& archive, std::size_t index,
                                 const torch::optim::Optimizer& optimizer);
VOLT_INLINE void read_optimizer(torch::serialize::InputArchive& archive, std::size_t index,
                                torch::optim::Optimizer& optimizer);
// Throws unless the archive holds `configured` optimizers.
VOLT_INLINE void check_saved_optimizer_count(torch::serialize::InputArchive& archive, std::size_t configured);

// The optimizers' types of a normalized Storage: std::tuple<Optimizer...>, or void for a
// std::vector (their number is known at run time only).
template <class Storage>
struct optimizer_types {
  using type = void;
};
template <class... Entries>
struct optimizer_types<std::tuple<Entries...>> {
  using type = std::tuple<detail::deref_t<decltype(std::declval<Entries&>().optimizer)>...>;
};

template <class Storage, class F>
void for_each_entry(Storage& entries, F&& f) {
  if constexpr (is_tuple_v<Storage>) {
    std::size_t i = 0;
    std::apply([&](auto&... e) { (f(e, i++), ...); }, entries);
  } else {
    for (std::size_t i = 0; i < entries.size(); ++i) f(entries[i], i);
  }
}

VOLT_INLINE std::string join_keys(const std::map<std::string, double>& m);

// The errors of Optimization's templates, compiled once (fast mode): a checked fmt::format in
// a template instantiates its format-string checker in every TU that instantiates the template.
[[noreturn]] VOLT_INLINE void throw_no_lr_scheduler(std::size_t optimizer_index);
[[noreturn]] VOLT_INLINE void throw_no_lr_scheduler(std::size_t optimizer_index, std::size_t num_optimizers);
[[noreturn]] VOLT_INLINE void throw_monitored_metric_missing(const std::string& scheduler, std::size_t optimizer_index,
                                                             const std::string& monitor,
                                                             const std::map<std::string, double>& available);
[[noreturn]] VOLT_INLINE void throw_metric_not_passed(std::size_t optimizer_index, const std::string& scheduler);
[[noreturn]] VOLT_INLINE void throw_bad_frequency(std::size_t optimizer_index, std::int64_t frequency);
[[noreturn]] VOLT_INLINE void throw_no_monitor(const std::string& scheduler, std::size_t optimizer_index);
[[noreturn]] VOLT_INLINE void throw_more_schedulers(std::size_t schedulers, std::size_t optimizers);

}  // namespace impl

// The normalized result of configure_optimizers: a std::tuple (or a std::vector) of entries,
// owned here for the whole fit. Moving it re-points volt's schedulers at the moved optimizers.
template <class Storage>
class Optimization {
  static constexpr bool is_static = is_tuple_v<Storage>;

 public:
  using storage_type = Storage;
  // std::tuple<Optimizer...> (each unwrapped from any smart pointer), or void for a std::vector.
  using optimizer_types = typename impl::optimizer_types<Storage>::type;
  // Number of optimizers; dynamic_size when configure_optimizers returned a std::vector.
  static constexpr std::size_t size = [] {
    if constexpr (is_static) return std::tuple_size_v<Storage>;
    else return dynamic_size;
  }();

  explicit Optimization(Storage entries) : entries_(std::move(entries)) {
    validate();
    bind_schedulers(/*fresh=*/true);
  }
  Optimization(Optimization&& other) : entries_(std::move(other.entries_)) { bind_schedulers(/*fresh=*/false); }
  Optimization(const Optimization&) = delete;
  Optimization& operator=(const Optimization&) = delete;
  Optimization& operator=(Optimization&&) = delete;

  std::size_t num_optimizers() const noexcept {
    if constexpr (is_static) return size;
    else return entries_.size();
  }

  // The I-th optimizer (its concrete type, unwrapped from any smart pointer).
  template <std::size_t I>
  auto& optimizer() {
    if constexpr (is_static) {
      static_assert(I < size, "volt: optimizer<I>(): I is past the optimizers configure_optimizers returned.");
      return detail::deref(std::get<I>(entries_).optimizer);
    } else {
      return detail::deref(entries_.at(I).optimizer);
    }
  }
  // The first optimizer: the one automatic optimization steps.
  auto& optimizer() { return optimizer<0>(); }

  // The I-th optimizer's LRSchedulerConfig, and its scheduler (unwrapped).
  template <std::size_t I>
  auto& lr_scheduler_config() {
    auto& slot = entry<I>().lr_scheduler;
    static_assert(has_scheduler_v<std::remove_reference_t<decltype(slot)>>,
                  "volt: lr_scheduler<I>(): optimizer I has no lr scheduler.");
    auto* config = scheduler_config(slot);
    if (config == nullptr)
      impl::throw_no_lr_scheduler(I);
    return *config;
  }
  template <std::size_t I>
  auto& lr_scheduler() {
    return detail::deref(lr_scheduler_config<I>().scheduler);
  }

  Storage& entries() noexcept { return entries_; }
  const Storage& entries() const noexcept { return entries_; }

  // f(optimizer, index) for each optimizer, in configure_optimizers' order.
  template <class F>
  void for_each_optimizer(F&& f) {
    impl::for_each_entry(entries_, [&](auto& e, std::size_t i) { f(detail::deref(e.optimizer), i); });
  }
  // f(scheduler, config, optimizer index) for each scheduler.
  template <class F>
  void for_each_lr_scheduler(F&& f) {
    impl::for_each_entry(entries_, [&](auto& e, std::size_t i) {
      if constexpr (has_scheduler_v<decltype(e.lr_scheduler)>) {
        if (auto* config = scheduler_config(e.lr_scheduler)) f(detail::deref(config->scheduler), *config, i);
      }
    });
  }

  // Steps each scheduler whose interval is `when` and whose frequency divides `count` (the
  // global step for Interval::step, the number of finished epochs for Interval::epoch; counts
  // start at 1), at most once per count. A scheduler that steps on a metric (ReduceLROnPlateau)
  // reads its `monitor` from `metrics`; when the metric is missing, strict throws
  // std::runtime_error naming it and the metrics there are, and non-strict skips the step.
  // `step(scheduler, metric)` does the step: default_scheduler_step, or the loops' call of the
  // module's lr_scheduler_step override (metric: the monitored value, std::nullopt without a monitor).
  template <class Metrics, class Step = DefaultSchedulerStep>
  void step_schedulers(Interval when, std::int64_t count, const Metrics& metrics,
                       SchedulerFilter which = SchedulerFilter::all, Step&& step = {}) {
    static_assert(SchedulerMetrics<Metrics>,
                  "volt: step_schedulers needs metrics with `std::optional<double> metric(const std::string&) const` "
                  "and `std::map<std::string, double> callback_metrics() const` (volt::MetricStore has both).");
    if (count < 1) return;
    impl::for_each_entry(entries_, [&](auto& e, std::size_t index) {
      if constexpr (has_scheduler_v<decltype(e.lr_scheduler)>) {
        auto* config = scheduler_config(e.lr_scheduler);
        if (config == nullptr) return;
        using S = detail::deref_t<decltype(config->scheduler)>;
        constexpr bool monitored = MetricScheduler<S>;
        if ((which == SchedulerFilter::monitored && !monitored) || (which == SchedulerFilter::unmonitored && monitored))
          return;
        if (config->interval != when || count % config->frequency != 0 || e.last_count == count) return;
        if constexpr (monitored) {
          const std::optional<double> value = metrics.metric(config->monitor);
          if (!value) {
            if (!config->strict) return;
            impl::throw_monitored_metric_missing(class_name<S>(), index, config->monitor, metrics.callback_metrics());
          }
          step(detail::deref(config->scheduler), std::optional<double>(*value));
        } else {
          step(detail::deref(config->scheduler), std::optional<double>{});
        }
        e.last_count = count;
      }
    });
  }

  // Before step_schedulers: steps the schedulers that need no metric.
  void step_scheduler(Interval when, std::int64_t count) {
    step_schedulers(when, count, NoMetrics{}, SchedulerFilter::unmonitored);
  }

  // Manual optimization (Lightning's `self.lr_schedulers()[i].step()`): steps the scheduler paired
  // with optimizer `optimizer_index` now, whatever its interval and frequency. A scheduler that
  // steps on a metric takes it as `metric`.
  void step_lr_scheduler(std::size_t optimizer_index, std::optional<double> metric = std::nullopt) {
    bool found = false;
    impl::for_each_entry(entries_, [&](auto& e, std::size_t i) {
      if (i != optimizer_index) return;
      if constexpr (has_scheduler_v<decltype(e.lr_scheduler)>) {
        auto* config = scheduler_config(e.lr_scheduler);
        if (config == nullptr) return;
        found = true;
        using S = detail::deref_t<decltype(config->scheduler)>;
        if constexpr (MetricScheduler<S>) {
          if (!metric)
            impl::throw_metric_not_passed(i, class_name<S>());
          detail::deref(config->scheduler).step(*metric);
        } else {
          detail::deref(config->scheduler).step();
        }
      }
    });
    if (!found)
      impl::throw_no_lr_scheduler(optimizer_index, num_optimizers());
  }

  // Each optimizer's current lr per param group, named as Lightning's LearningRateMonitor names
  // them: optimizers with a scheduler first ("lr-Adam", a second Adam "lr-Adam-1", or the config's
  // name), then those without; "/pg1", "/pg2", ... when an optimizer has several param groups.
  std::vector<std::pair<std::string, double>> learning_rates() const {
    impl::LearningRateNames names;
    auto add = [&](const torch::optim::Optimizer& opt, std::string name, std::type_index type, bool counted) {
      names.add(opt, std::move(name), type, counted);
    };
    impl::for_each_entry(entries_, [&](const auto& e, std::size_t) {
      using O = detail::deref_t<decltype(e.optimizer)>;
      if constexpr (has_scheduler_v<std::remove_const_t<decltype(e.lr_scheduler)>>) {
        if (const auto* config = scheduler_config(e.lr_scheduler)) {
          const bool unnamed = config->name.empty();
          add(detail::deref(e.optimizer), unnamed ? "lr-" + class_name<O>() : config->name, typeid(O), unnamed);
        }
      }
    });
    impl::for_each_entry(entries_, [&](const auto& e, std::size_t) {
      using O = detail::deref_t<decltype(e.optimizer)>;
      bool without = true;
      if constexpr (has_scheduler_v<std::remove_const_t<decltype(e.lr_scheduler)>>)
        without = scheduler_config(e.lr_scheduler) == nullptr;
      if (without) add(detail::deref(e.optimizer), "lr-" + class_name<O>(), typeid(O), true);
    });
    return names.take();
  }

  // Every optimizer's state (with its param groups' lrs and other options, which libtorch's
  // Optimizer::load leaves alone) and every scheduler's, for exact resume: load into an
  // Optimization normalized from the same configure_optimizers.
  void save(torch::serialize::OutputArchive& archive) const {
    detail::sched::write(archive, "num_optimizers", static_cast<std::int64_t>(num_optimizers()));
    impl::for_each_entry(entries_, [&](const auto& e, std::size_t i) {
      impl::write_optimizer(archive, i, detail::deref(e.optimizer));
      if constexpr (has_scheduler_v<std::remove_const_t<decltype(e.lr_scheduler)>>) {
        if (const auto* config = scheduler_config(e.lr_scheduler)) {
          torch::serialize::OutputArchive sched(archive.compilation_unit());
          save_scheduler(detail::deref(config->scheduler), sched);
          archive.write(impl::indexed_key("lr_scheduler/", i), sched);
          detail::sched::write(archive, impl::indexed_key("lr_scheduler_count/", i), e.last_count);
        }
      }
    });
  }
  void load(torch::serialize::InputArchive& archive) {
    impl::check_saved_optimizer_count(archive, num_optimizers());
    impl::for_each_entry(entries_, [&](auto& e, std::size_t i) { impl::read_optimizer(archive, i, detail::deref(e.optimizer)); });
    impl::for_each_entry(entries_, [&](auto& e, std::size_t i) {
      if constexpr (has_scheduler_v<decltype(e.lr_scheduler)>) {
        if (auto* config = scheduler_config(e.lr_scheduler)) {
          torch::serialize::InputArchive sched;
          archive.read(impl::indexed_key("lr_scheduler/", i), sched);
          load_scheduler(detail::deref(config->scheduler), sched);
          e.last_count = detail::sched::read_int(archive, impl::indexed_key("lr_scheduler_count/", i));
        }
      }
    });
  }

 private:
  template <std::size_t I>
  auto& entry() {
    if constexpr (is_static) return std::get<I>(entries_);
    else return entries_.at(I);
  }

  void validate() const {
    impl::for_each_entry(entries_, [&](const auto& e, std::size_t i) {
      if constexpr (has_scheduler_v<std::remove_const_t<decltype(e.lr_scheduler)>>) {
        const auto* config = scheduler_config(e.lr_scheduler);
        if (config == nullptr) return;
        using S = detail::deref_t<decltype(config->scheduler)>;
        if (config->frequency < 1)
          impl::throw_bad_frequency(i, config->frequency);
        if constexpr (MetricScheduler<S>) {
          if (config->monitor.empty())
            impl::throw_no_monitor(class_name<S>(), i);
        }
      }
    });
  }

  // fresh: attach volt's schedulers (recording base lrs); otherwise (after a move) re-point them.
  void bind_schedulers(bool fresh) {
    impl::for_each_entry(entries_, [&](auto& e, std::size_t) {
      if constexpr (has_scheduler_v<decltype(e.lr_scheduler)>) {
        auto* config = scheduler_config(e.lr_scheduler);
        if (config == nullptr) return;
        auto& s = detail::deref(config->scheduler);
        auto& opt = detail::deref(e.optimizer);
        if constexpr (AttachableScheduler<std::remove_reference_t<decltype(s)>>) {
          if (fresh && !s.attached()) s.attach(opt);
          else s.rebind(opt);
        }
      }
    });
  }

  Storage entries_;
};

namespace impl {

template <class T>
inline constexpr bool is_optimizer_config_v = detail::is_specialization_of_v<T, OptimizerConfig>;
template <class T>
inline constexpr bool is_scheduler_config_v = detail::is_specialization_of_v<T, LRSchedulerConfig>;

// The scheduler type a slot holds: S for a bare S or an LRSchedulerConfig<S>.
template <class X>
struct scheduler_of {
  using type = X;
};
template <class S>
struct scheduler_of<LRSchedulerConfig<S>> {
  using type = S;
};
template <class X>
using scheduler_of_t = typename scheduler_of<X>::type;

template <class X>
using config_of_t = std::conditional_t<std::is_same_v<X, NoScheduler>, NoScheduler, LRSchedulerConfig<scheduler_of_t<X>>>;

// Python's `return Adam(...)` is not C++'s `return new Adam(...)`: volt does not guess who owns
// an optimizer behind a raw pointer, alone, in a tuple, a pair, a vector or a config alike.
template <class O>
constexpr bool check_owned() {
  static_assert(!std::is_pointer_v<O> || unsupported_configure_optimizers_result<O>::value,
                "volt: configure_optimizers returned a raw pointer to an optimizer (`new ...`), which volt will not "
                "own or free. Return the optimizer by value (`return torch::optim::Adam(parameters(), ...);`) or "
                "owned (`return std::make_unique<torch::optim::Adam>(parameters(), ...);`).");
  return !std::is_pointer_v<O>;
}

// One static_assert per mistake, in order; true when O is usable.
template <class O>
constexpr bool check_optimizer() {
  static_assert(TorchOptimizer<O>,
                "volt: OptimizerConfig::optimizer must be a torch::optim optimizer (by value, unique_ptr or "
                "shared_ptr), e.g. std::make_unique<torch::optim::Adam>(parameters(), torch::optim::AdamOptions(1e-3)).");
  if constexpr (TorchOptimizer<O>) return check_owned<O>();
  else return false;
}

template <class O, class X>
constexpr bool check_scheduler() {
  if constexpr (std::is_same_v<X, NoScheduler>) {
    return true;
  } else {
    using S = scheduler_of_t<X>;
    static_assert(Scheduler<S>,
                  "volt: OptimizerConfig::scheduler must have step() (or step(double metric), as ReduceLROnPlateau): "
                  "a volt::optim scheduler such as volt::optim::CosineAnnealingLR{{.T_max = 10}}, or "
                  "torch::optim::StepLR in a unique_ptr.");
    if constexpr (Scheduler<S>) {
      static_assert(!TorchLRScheduler<S> || detail::is_smart_pointer_v<O>,
                    "volt: torch's schedulers (torch::optim::StepLR, ...) hold a reference to their optimizer, so "
                    "the optimizer must keep its address: hand it over in a std::unique_ptr or std::shared_ptr "
                    "(auto opt = std::make_unique<torch::optim::Adam>(...); auto sched = "
                    "std::make_unique<torch::optim::StepLR>(*opt, 10);), or use volt::optim::StepLR{{.step_size = 10}}.");
      return !TorchLRScheduler<S> || detail::is_smart_pointer_v<O>;
    } else {
      return false;
    }
  }
}

// A slot's content as an LRSchedulerConfig (or NoScheduler); `monitor` fills an unset monitor.
template <class X>
auto to_config(X&& x, std::string monitor = {}) {
  using T = std::remove_cvref_t<X>;
  if constexpr (std::is_same_v<T, NoScheduler>) {
    return NoScheduler{};
  } else if constexpr (is_scheduler_config_v<T>) {
    T config = std::forward<X>(x);
    if (config.monitor.empty()) config.monitor = std::move(monitor);
    return config;
  } else {
    return LRSchedulerConfig<T>{.scheduler = std::forward<X>(x), .monitor = std::move(monitor)};
  }
}

template <class O, class L>
auto entry_from(OptimizerConfig<O, L>&& config) {
  return OptimizerEntry<O, config_of_t<L>>{std::move(config.optimizer),
                                           to_config(std::move(config.lr_scheduler), std::move(config.monitor))};
}

template <class T>
struct config_entry;
template <class O, class L>
struct config_entry<OptimizerConfig<O, L>> {
  using type = OptimizerEntry<O, config_of_t<L>>;
  static constexpr bool ok = check_optimizer<O>() && check_scheduler<O, L>();
};

template <class T>
constexpr std::size_t count_of() {
  if constexpr (is_tuple_v<T>) return std::tuple_size_v<T>;
  else return 1;
}

// A single optimizer / scheduler as a 1-tuple; tuples and vectors as they are.
template <class T>
auto as_sequence(T&& t) {
  using U = std::remove_cvref_t<T>;
  if constexpr (is_tuple_v<U> || is_vector_v<U>) return U(std::forward<T>(t));
  else return std::tuple<U>(std::forward<T>(t));
}

template <class Opts, class Scheds, std::size_t... I>
auto zip_entries(Opts&& opts, Scheds&& scheds, std::index_sequence<I...>) {
  constexpr std::size_t n_sched = std::tuple_size_v<std::remove_cvref_t<Scheds>>;
  auto make = [&]<std::size_t K>(std::integral_constant<std::size_t, K>) {
    using O = std::tuple_element_t<K, std::remove_cvref_t<Opts>>;
    if constexpr (K < n_sched) {
      using X = std::tuple_element_t<K, std::remove_cvref_t<Scheds>>;
      return OptimizerEntry<O, config_of_t<X>>{std::move(std::get<K>(opts)), to_config(std::move(std::get<K>(scheds)))};
    } else {
      return OptimizerEntry<O>{std::move(std::get<K>(opts))};
    }
  };
  return std::tuple{make(std::integral_constant<std::size_t, I>{})...};
}

template <class Opts, class Scheds>
auto pair_entries(Opts opts, Scheds scheds) {
  if constexpr (is_tuple_v<Opts> && is_tuple_v<Scheds>) {
    constexpr std::size_t n_opt = std::tuple_size_v<Opts>, n_sched = std::tuple_size_v<Scheds>;
    static_assert(n_sched <= n_opt,
                  "volt: configure_optimizers returned more schedulers than optimizers; the i-th scheduler drives "
                  "the i-th optimizer.");
    constexpr bool ok = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (check_optimizer<std::tuple_element_t<I, Opts>>() && ...) &&
             (check_scheduler<std::tuple_element_t<I, Opts>, std::tuple_element_t<I, Scheds>>() && ...);
    }(std::make_index_sequence<std::min(n_sched, n_opt)>{}) && [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (check_optimizer<std::tuple_element_t<I, Opts>>() && ...);
    }(std::make_index_sequence<n_opt>{});
    if constexpr (ok && n_sched <= n_opt)
      return zip_entries(std::move(opts), std::move(scheds), std::make_index_sequence<n_opt>{});
  } else if constexpr (is_vector_v<Opts> && is_vector_v<Scheds>) {
    using O = typename Opts::value_type;
    using X = typename Scheds::value_type;
    if constexpr (check_optimizer<O>() && check_scheduler<O, X>()) {
      if (scheds.size() > opts.size())
        impl::throw_more_schedulers(scheds.size(), opts.size());
      using Entry = OptimizerEntry<O, std::optional<config_of_t<X>>>;
      std::vector<Entry> entries;
      entries.reserve(opts.size());
      for (std::size_t i = 0; i < opts.size(); ++i) {
        entries.push_back(Entry{std::move(opts[i]), std::nullopt});
        if (i < scheds.size()) entries.back().lr_scheduler.emplace(to_config(std::move(scheds[i])));
      }
      return entries;
    }
  } else {
    static_assert(detail::dependent_false<Opts, Scheds>,
                  "volt: configure_optimizers returned a pair of (optimizers, schedulers) whose sides do not match: "
                  "use std::tuple on both sides, or std::vector on both sides.");
  }
}

}  // namespace impl

// configure_optimizers' result -> Optimization<std::tuple<OptimizerEntry...>> (or a std::vector).
template <class T>
auto normalize(T result) {
  auto finish = [](auto entries) {
    using Storage = decltype(entries);
    if constexpr (is_vector_v<Storage>)
      if (entries.empty())
        throw std::invalid_argument("volt: configure_optimizers returned an empty std::vector; return at least one "
                                    "optimizer.");
    return Optimization<Storage>(std::move(entries));
  };

  if constexpr (std::is_pointer_v<T> && TorchOptimizer<T>) {
    impl::check_owned<T>();
  } else if constexpr (TorchOptimizer<T>) {
    return finish(std::tuple<OptimizerEntry<T>>{OptimizerEntry<T>{std::move(result)}});
  } else if constexpr (impl::is_optimizer_config_v<T>) {
    if constexpr (impl::config_entry<T>::ok) return finish(std::tuple{impl::entry_from(std::move(result))});
  } else if constexpr (is_tuple_v<T>) {
    return [&]<class... X>(std::tuple<X...>*) {
      if constexpr ((TorchOptimizer<X> && ...)) {
        if constexpr ((impl::check_owned<X>() && ...))
          return finish(std::apply([](auto&&... o) { return std::tuple{OptimizerEntry<std::remove_cvref_t<decltype(o)>>{
                                                       std::move(o)}...}; },
                                 std::move(result)));
      } else if constexpr ((impl::is_optimizer_config_v<X> && ...)) {
        if constexpr ((impl::config_entry<X>::ok && ...))
          return finish(std::apply([](auto&&... c) { return std::tuple{impl::entry_from(std::move(c))...}; },
                                   std::move(result)));
      } else {
        static_assert(unsupported_configure_optimizers_result<T>::value,
                      "volt: configure_optimizers returned a std::tuple that mixes optimizers with other things: a "
                      "tuple holds optimizers only, or volt::OptimizerConfigs only. For optimizers with schedulers "
                      "return std::pair{std::tuple{optimizers...}, std::tuple{schedulers...}}.");
      }
    }(static_cast<T*>(nullptr));
  } else if constexpr (is_vector_v<T>) {
    using X = typename T::value_type;
    if constexpr (TorchOptimizer<X>) {
      if constexpr (impl::check_owned<X>()) {
        std::vector<OptimizerEntry<X>> entries;
        entries.reserve(result.size());
        for (auto& o : result) entries.push_back(OptimizerEntry<X>{std::move(o)});
        return finish(std::move(entries));
      }
    } else if constexpr (impl::is_optimizer_config_v<X>) {
      if constexpr (impl::config_entry<X>::ok) {
        std::vector<typename impl::config_entry<X>::type> entries;
        entries.reserve(result.size());
        for (auto& c : result) entries.push_back(impl::entry_from(std::move(c)));
        return finish(std::move(entries));
      }
    } else {
      static_assert(unsupported_configure_optimizers_result<T>::value,
                    "volt: configure_optimizers returned a std::vector of something volt cannot use: a vector holds "
                    "optimizers of one type, or volt::OptimizerConfigs of one type.");
    }
  } else if constexpr (is_pair_v<T>) {
    using A = typename T::first_type;
    using B = typename T::second_type;
    if constexpr (TorchOptimizer<A> && TorchOptimizer<B>) {
      if constexpr (impl::check_owned<A>() && impl::check_owned<B>())
        return finish(std::tuple<OptimizerEntry<A>, OptimizerEntry<B>>{OptimizerEntry<A>{std::move(result.first)},
                                                                     OptimizerEntry<B>{std::move(result.second)}});
    } else {
      return finish(impl::pair_entries(impl::as_sequence(std::move(result.first)),
                                       impl::as_sequence(std::move(result.second))));
    }
  } else {
    static_assert(unsupported_configure_optimizers_result<T>::value,
                  "volt: configure_optimizers returned a type volt cannot use (see the note). Return a "
                  "torch::optim optimizer (by value, unique_ptr or shared_ptr), several (std::tuple / std::vector), "
                  "optimizers with schedulers (std::pair{std::tuple{opts...}, std::tuple{scheds...}}), or "
                  "volt::OptimizerConfig{.optimizer = ..., .lr_scheduler = volt::LRSchedulerConfig{...}} (one, or a "
                  "std::tuple / std::vector of them).");
  }
}

// The Optimization type a configure_optimizers result normalizes to.
template <class Result>
using optimization_t = decltype(normalize(std::declval<Result>()));

}  // namespace optim
}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/optim/impl/configure_optimizers.ipp>
#endif
