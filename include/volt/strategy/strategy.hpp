#pragma once
// The Strategy concept: where the model runs and how processes cooperate (Lightning's Strategy).
// Held by value by the Trainer; SingleDevice is the first, DDP fits the same shape.
#include <concepts>
#include <cstdint>

#include <torch/torch.h>

namespace volt {

template <class S>
concept Strategy = requires(S& s, const S& cs, torch::nn::Module& module) {
  { cs.root_device() } -> std::convertible_to<torch::Device>;
  { cs.global_rank() } -> std::convertible_to<std::int64_t>;
  { cs.local_rank() } -> std::convertible_to<std::int64_t>;
  { cs.world_size() } -> std::convertible_to<std::int64_t>;
  s.setup_module(module);           // move to the device (and wrap, for data parallel)
  s.before_optimizer_step(module);  // e.g. all-reduce gradients across processes
  s.barrier();                      // all processes meet (Lightning's strategy.barrier at setup / teardown)
};

}  // namespace volt
