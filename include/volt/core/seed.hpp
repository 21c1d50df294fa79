#pragma once
// volt::seed_everything: seeds torch's CPU and CUDA generators and sets the seed volt's loaders
// shuffle with (unless given their own). Loaders draw from private generators seeded from
// (seed, epoch), so data order does not depend on what else drew random numbers.
#include <cstdint>

#include <torch/torch.h>

namespace volt {

namespace detail {
inline std::uint64_t& global_seed_storage() noexcept {
  static std::uint64_t seed = 0;
  return seed;
}
}  // namespace detail

// The seed last given to seed_everything (0 until then): loaders built without a seed use it.
inline std::uint64_t global_seed() noexcept { return detail::global_seed_storage(); }

inline void seed_everything(std::uint64_t seed) {
  detail::global_seed_storage() = seed;
  torch::manual_seed(seed);
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(seed);
}

}  // namespace volt
