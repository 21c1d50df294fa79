#pragma once
// volt::RunFacade: what a hook may ask of the running Trainer beyond its state (Lightning's
// self.all_gather, self.optimizers(), self.manual_backward, trainer.save_checkpoint, ...), as
// typed operations. The loops fill it with the Trainer's concrete types behind each operation
// (loops/run_facade.hpp): the collectives when a stage is set up, the rest when fit has its
// optimizers; they empty it at tear-down. volt::Context reaches it through RunState, so user
// hooks keep naming one concrete Context. An empty operation means "not available now".
// The typed RunContext<Module> (core/context.hpp) goes through the same operations: its types
// are in what optimizers() hands out, while stepping runs this one path (called once per step,
// never per hook call), whichever context type a hook takes.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <volt/core/step_seam.hpp>
#include <volt/detail/config.hpp>

namespace volt {

struct RunFacade {
  // Declared here, defaulted in the .ipp: in the separately compiled mode a user TU calls them
  // instead of compiling ten std::function destructors and moves again.
  VOLT_INLINE RunFacade();
  VOLT_INLINE RunFacade(const RunFacade&);
  VOLT_INLINE RunFacade(RunFacade&&) noexcept;
  VOLT_INLINE RunFacade& operator=(const RunFacade&);
  VOLT_INLINE RunFacade& operator=(RunFacade&&) noexcept;
  VOLT_INLINE ~RunFacade();

  // The strategy's collectives (the identity on one process).
  std::function<torch::Tensor(const torch::Tensor&, ReduceOp)> reduce;
  std::function<torch::Tensor(const torch::Tensor&)> all_gather;
  std::function<torch::Tensor(const torch::Tensor&, std::int64_t)> broadcast;
  std::function<void()> barrier;
  // The fit's optimizers, in configure_optimizers' order, and what steps them.
  std::vector<torch::optim::Optimizer*> optimizers;
  std::function<std::vector<std::pair<std::string, double>>()> learning_rates;
  std::function<void(const torch::Tensor&)> manual_backward;
  std::function<void(std::size_t, const torch::optim::Optimizer::LossClosure&)> optimizer_step;
  std::function<void(std::size_t)> lr_scheduler_step;
  std::function<void(const std::filesystem::path&, bool weights_only)> save_checkpoint;
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/core/impl/run_facade.ipp>
#endif
