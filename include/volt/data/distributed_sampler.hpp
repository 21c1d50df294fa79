#pragma once
// DistributedSampler: one rank's share of a dataset, index for index what torch 1.13's
// torch.utils.data.DistributedSampler yields (tests/data/distributed_sampler_test.cpp checks
// it against Python's over a grid):
//   order     shuffle: randperm(n) from a CPU generator seeded with seed + epoch; else 0..n-1
//   padding   without drop_last, repeat the order's start until it divides by num_replicas;
//             with drop_last, cut the tail instead
//   share     positions rank, rank + num_replicas, rank + 2 num_replicas, ...
// So every rank runs the same number of batches (no rank waits in an allreduce another never
// joins), and the epoch's shares cover the dataset exactly once (plus the padding).
// volt::DDP gives it to the loaders automatically (their set_distributed), and the fit loop's
// set_epoch reshuffles it each epoch, as Lightning's use_distributed_sampler does.
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/types.h>
#include <volt/detail/config.hpp>

namespace volt::data {

struct DistributedSampler {
  std::int64_t num_replicas = 1;
  std::int64_t rank = 0;
  bool shuffle = true;
  std::uint64_t seed = 0;
  bool drop_last = false;

  VOLT_INLINE void validate() const;

  // torch's num_samples: ceil(n / R), or ceil((n - R) / R) with drop_last when R does not divide n.
  VOLT_INLINE std::int64_t num_samples(std::int64_t n) const;

  VOLT_INLINE std::vector<std::int64_t> indices(std::int64_t n, std::int64_t epoch) const;
};

}  // namespace volt::data

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/data/impl/distributed_sampler.ipp>
#endif
