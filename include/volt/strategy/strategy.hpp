#pragma once
// The Strategy concept (Lightning's strategies/strategy.py): where the model runs, how processes
// cooperate, and the owner of the step. The loops call strategy.backward and
// strategy.optimizer_step only; the strategy calls the precision (a DDP strategy prepares its
// Reducer for backward there, or wraps the closure). Held by value by the Trainer;
// SingleDevice is the first, DDP fits the same shape. Optional: check_precision(precision),
// called before setup_module, rejects a precision the strategy's run-time backend cannot
// reduce (DDP on Gloo and bf16-true) with an error before any step.
#include <concepts>
#include <cstdint>

#include <torch/torch.h>

#include <volt/core/step_seam.hpp>

namespace volt {

template <class S>
concept Strategy = requires(S& s, const S& cs, torch::nn::Module& module, torch::Tensor tensor,
                            seam::PrecisionArchetype& precision, seam::BackwardHooksArchetype& backward_hooks,
                            seam::StepHooksArchetype& step_hooks, seam::ClosureArchetype& closure,
                            torch::optim::SGD& optimizer, seam::LoaderArchetype& loader) {
  { cs.root_device() } -> std::convertible_to<torch::Device>;
  { cs.global_rank() } -> std::convertible_to<std::int64_t>;
  { cs.local_rank() } -> std::convertible_to<std::int64_t>;
  { cs.world_size() } -> std::convertible_to<std::int64_t>;
  { cs.is_global_zero() } -> std::convertible_to<bool>;
  s.setup_module(module);  // move to the device (and wrap, for data parallel)
  // The step: backward -> precision.backward; optimizer_step(closure) -> precision.optimizer_step.
  s.backward(precision, tensor, backward_hooks);
  { s.optimizer_step(precision, optimizer, closure, step_hooks) } -> std::convertible_to<bool>;
  // A guard that holds gradient synchronization off while gradients accumulate (DDP's no_sync).
  s.no_backward_sync();
  // Sampler injection for the loaders the DataModule returns (returns the loader to use).
  s.process_dataloader(loader);
  // Collectives (Lightning's reduce, all_gather, broadcast, barrier, reduce_boolean_decision).
  { s.reduce(tensor, ReduceOp::mean) } -> std::convertible_to<torch::Tensor>;
  { s.all_gather(tensor) } -> std::convertible_to<torch::Tensor>;
  { s.broadcast(tensor, std::int64_t{0}) } -> std::convertible_to<torch::Tensor>;
  { s.reduce_boolean_decision(bool{}, bool{}) } -> std::convertible_to<bool>;
  s.barrier();  // all processes meet (Lightning's strategy.barrier at setup / teardown)
};

}  // namespace volt
