#pragma once
// Preemption: a cluster (SLURM, Kubernetes) sends SIGTERM or SIGUSR1 before it kills a job.
// While fit runs, those signals only set a flag; the training loop sees it at the next batch
// boundary, writes a checkpoint and returns FitStatus::preempted, so the job can requeue and
// resume exactly. The previous handlers come back when fit ends.
#include <atomic>
#include <concepts>
#include <csignal>
#include <optional>
#include <type_traits>
#include <utility>

namespace volt::loops {

inline std::atomic<int>& preemption_signal() noexcept {
  static std::atomic<int> signal{0};
  return signal;
}

// Whether to stop for preemption now: under several processes, one decision for all of them
// (any rank signalled), so every rank stops at the same batch and the checkpoint is consistent.
template <class Run>
bool preemption_requested(Run& run) {
  const bool local = preemption_signal().load() != 0;
  if (run.state.world_size <= 1) return local;
  return run.strategy.reduce_boolean_decision(local, /*all=*/false);
}

// The decision at the end of a step, under several processes started before the step where the
// strategy can (DDP's start_boolean_decision): its collective then runs while the step computes
// instead of adding a synchronization point to every step. A signal that arrives during a step is
// therefore acted on at the end of the next synchronized step, on every rank alike. One process,
// or a strategy without the split: preemption_requested at the end of the step.
template <class Strategy>
concept StartsBooleanDecisions = requires(Strategy& s) {
  { s.start_boolean_decision(true, false).get() } -> std::same_as<bool>;
};

template <class Run>
class PreemptionDecision {
  using Strategy = std::remove_reference_t<decltype(std::declval<Run&>().strategy)>;
  struct Nothing {};
  template <class S>
  static auto pending_type() {
    if constexpr (StartsBooleanDecisions<S>) return std::optional<decltype(std::declval<S&>().start_boolean_decision(true, false))>{};
    else return Nothing{};
  }

 public:
  // ends_in_sync: whether this step ends with gradients in sync (where ranks may stop).
  PreemptionDecision(Run& run, bool ends_in_sync) : run_(run) {
    if constexpr (StartsBooleanDecisions<Strategy>)
      if (run.state.world_size > 1 && ends_in_sync)
        pending_.emplace(run.strategy.start_boolean_decision(preemption_signal().load() != 0, /*all=*/false));
  }
  bool requested() {
    if constexpr (StartsBooleanDecisions<Strategy>)
      if (pending_) return std::exchange(pending_, std::nullopt)->get();
    return preemption_requested(run_);
  }

 private:
  Run& run_;
  [[no_unique_address]] decltype(pending_type<Strategy>()) pending_;
};

extern "C" inline void volt_preemption_handler(int signal) { preemption_signal().store(signal); }

class PreemptionGuard {
 public:
  PreemptionGuard() {
    preemption_signal().store(0);
    struct sigaction action {};
    action.sa_handler = &volt_preemption_handler;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, &previous_term_);
    sigaction(SIGUSR1, &action, &previous_usr1_);
  }
  PreemptionGuard(const PreemptionGuard&) = delete;
  PreemptionGuard& operator=(const PreemptionGuard&) = delete;
  ~PreemptionGuard() {
    sigaction(SIGTERM, &previous_term_, nullptr);
    sigaction(SIGUSR1, &previous_usr1_, nullptr);
  }

 private:
  struct sigaction previous_term_ {};
  struct sigaction previous_usr1_ {};
};

}  // namespace volt::loops
