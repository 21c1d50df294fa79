#pragma once
// volt::seed_everything: seeds torch's CPU and CUDA generators. volt's loaders take their own
// seed (TensorLoaderOptions::seed), so data order does not depend on what else drew numbers.
#include <cstdint>

#include <torch/torch.h>

namespace volt {

inline void seed_everything(std::uint64_t seed) {
  torch::manual_seed(seed);
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(seed);
}

}  // namespace volt
