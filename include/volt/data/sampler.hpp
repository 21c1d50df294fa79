#pragma once
// Samplers: which dataset indices an epoch visits, in which order. A sampler is a value with
//   std::vector<int64_t> indices(int64_t dataset_size, int64_t epoch) const
//   int64_t num_samples(int64_t dataset_size) const     // = indices(...).size()
// The order is a pure function of (seed, epoch), as TensorLoader's, so every process and every
// worker count sees the same order. A distributed sampler (each rank's share of the indices)
// is one more type of this shape, given to DataLoader in place of the default.
#include <concepts>
#include <cstdint>
#include <numeric>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include <volt/data/distributed_sampler.hpp>
#include <volt/data/tensor_loader.hpp>

namespace volt::data {

template <class S>
concept Sampler = requires(const S& s, std::int64_t n, std::int64_t epoch) {
  { s.indices(n, epoch) } -> std::same_as<std::vector<std::int64_t>>;
  { s.num_samples(n) } -> std::convertible_to<std::int64_t>;
};

// epoch_permutation(seed, epoch, n), the order of RandomSampler, is TensorLoader's (data/tensor_loader.hpp).

struct SequentialSampler {
  std::vector<std::int64_t> indices(std::int64_t n, std::int64_t /*epoch*/) const {
    std::vector<std::int64_t> out(static_cast<std::size_t>(n));
    std::iota(out.begin(), out.end(), std::int64_t{0});
    return out;
  }
  std::int64_t num_samples(std::int64_t n) const noexcept { return n; }
};

struct RandomSampler {
  std::uint64_t seed = 0;
  std::vector<std::int64_t> indices(std::int64_t n, std::int64_t epoch) const {
    const torch::Tensor perm = epoch_permutation(seed, epoch, n);
    return {perm.data_ptr<std::int64_t>(), perm.data_ptr<std::int64_t>() + n};
  }
  std::int64_t num_samples(std::int64_t n) const noexcept { return n; }
};

// What DataLoaderOptions::shuffle picks (PyTorch's DataLoader does the same): sequential or
// random, switchable, as overfit_batches needs; with num_replicas > 1 (set by volt::DDP), the
// DistributedSampler with the same shuffle and seed (Lightning's use_distributed_sampler).
struct DefaultSampler {
  bool shuffle = false;
  std::uint64_t seed = 0;
  std::int64_t num_replicas = 1;
  std::int64_t rank = 0;
  DistributedSampler distributed() const { return {num_replicas, rank, shuffle, seed, false}; }
  std::vector<std::int64_t> indices(std::int64_t n, std::int64_t epoch) const {
    if (num_replicas > 1) return distributed().indices(n, epoch);
    return shuffle ? RandomSampler{seed}.indices(n, epoch) : SequentialSampler{}.indices(n, epoch);
  }
  std::int64_t num_samples(std::int64_t n) const { return num_replicas > 1 ? distributed().num_samples(n) : n; }
};

}  // namespace volt::data
