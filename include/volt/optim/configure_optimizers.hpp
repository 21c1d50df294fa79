#pragma once
// Normalizes what configure_optimizers returns into one shape the loops use, keeping the
// concrete optimizer and scheduler types (no type erasure, no virtual dispatch by volt).
// Accepted: an optimizer (by value, or in a unique_ptr / shared_ptr), or an OptimizerConfig
// made by volt::with_scheduler(optimizer, scheduler, {.interval, .frequency}).
#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/detail/meta.hpp>

namespace volt {

enum class Interval { step, epoch };

struct SchedulerOptions {
  Interval interval = Interval::epoch;  // Lightning's default
  std::int64_t frequency = 1;           // step the scheduler every `frequency` intervals
};

struct NoScheduler {};

template <class Optimizer, class Scheduler = NoScheduler>
struct OptimizerConfig {
  Optimizer optimizer;
  Scheduler scheduler;
  SchedulerOptions options{};
};

// A scheduler holds a reference to its optimizer (torch::optim::StepLR does), so hand both
// over behind pointers: with_scheduler(std::move(opt_ptr), std::make_unique<StepLR>(*opt_ptr, 10)).
template <class Optimizer, class Scheduler>
OptimizerConfig<Optimizer, Scheduler> with_scheduler(Optimizer optimizer, Scheduler scheduler,
                                                     SchedulerOptions options = {}) {
  return {std::move(optimizer), std::move(scheduler), options};
}

namespace optim {

template <class T>
concept TorchOptimizer = std::derived_from<detail::deref_t<T>, torch::optim::Optimizer>;

template <class S>
concept Scheduler = requires(detail::deref_t<S>& s) { s.step(); };

// The normalized result: one optimizer and an optional scheduler, owned here for the whole fit.
template <class Optimizer, class Sched = NoScheduler>
class Optimization {
 public:
  static constexpr bool has_scheduler = !std::same_as<Sched, NoScheduler>;

  Optimization(Optimizer optimizer, Sched scheduler, SchedulerOptions options)
      : optimizer_(std::move(optimizer)), scheduler_(std::move(scheduler)), options_(options) {
    if (options_.frequency < 1)
      throw std::invalid_argument(fmt::format(
          "volt: scheduler frequency={} is invalid; it must be >= 1 (step the scheduler every n intervals).",
          options_.frequency));
  }

  decltype(auto) optimizer() noexcept { return detail::deref(optimizer_); }
  decltype(auto) scheduler() noexcept { return detail::deref(scheduler_); }
  const SchedulerOptions& scheduler_options() const noexcept { return options_; }

  // Called by the loop after each optimizer step (Interval::step, count = global step) and at
  // each epoch end (Interval::epoch, count = epochs done).
  void step_scheduler(Interval when, std::int64_t count) {
    if constexpr (has_scheduler) {
      if (options_.interval == when && count % options_.frequency == 0) detail::deref(scheduler_).step();
    }
  }

 private:
  Optimizer optimizer_;
  [[no_unique_address]] Sched scheduler_;
  SchedulerOptions options_;
};

template <class T>
struct unsupported_configure_optimizers_result : std::false_type {};

template <class R>
auto normalize(R&& result) {
  using T = std::remove_cvref_t<R>;
  if constexpr (TorchOptimizer<T>) {
    return Optimization<T>(std::forward<R>(result), NoScheduler{}, SchedulerOptions{});
  } else if constexpr (detail::is_specialization_of_v<T, OptimizerConfig>) {
    using O = decltype(result.optimizer);
    using S = decltype(result.scheduler);
    static_assert(TorchOptimizer<O>, "volt: OptimizerConfig::optimizer must be a torch::optim optimizer "
                                     "(by value, unique_ptr or shared_ptr).");
    static_assert(std::same_as<S, NoScheduler> || Scheduler<S>,
                  "volt: OptimizerConfig::scheduler must have step() (e.g. torch::optim::StepLR in a unique_ptr).");
    return Optimization<O, S>(std::move(result.optimizer), std::move(result.scheduler), result.options);
  } else {
    static_assert(unsupported_configure_optimizers_result<T>::value,
                  "volt: configure_optimizers returned a type volt cannot use (see the note). Return a "
                  "torch::optim optimizer (by value, unique_ptr or shared_ptr) or volt::with_scheduler(optimizer, "
                  "scheduler, {.interval = volt::Interval::epoch, .frequency = 1}).");
  }
}

}  // namespace optim
}  // namespace volt
