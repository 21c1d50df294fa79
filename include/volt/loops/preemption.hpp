#pragma once
// Preemption: a cluster (SLURM, Kubernetes) sends SIGTERM or SIGUSR1 before it kills a job.
// While fit runs, those signals only set a flag; the training loop sees it at the next batch
// boundary, writes a checkpoint and returns FitStatus::preempted, so the job can requeue and
// resume exactly. The previous handlers come back when fit ends.
#include <atomic>
#include <csignal>

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
