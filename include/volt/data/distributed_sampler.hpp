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

namespace volt::data {

struct DistributedSampler {
  std::int64_t num_replicas = 1;
  std::int64_t rank = 0;
  bool shuffle = true;
  std::uint64_t seed = 0;
  bool drop_last = false;

  void validate() const {
    if (num_replicas < 1)
      throw std::invalid_argument(
          fmt::format("volt::data::DistributedSampler: num_replicas = {} is invalid; allowed: >= 1", num_replicas));
    if (rank < 0 || rank >= num_replicas)
      throw std::invalid_argument(fmt::format(
          "volt::data::DistributedSampler: rank = {} is invalid; allowed: [0, {}]", rank, num_replicas - 1));
  }

  // torch's num_samples: ceil(n / R), or ceil((n - R) / R) with drop_last when R does not divide n.
  std::int64_t num_samples(std::int64_t n) const {
    validate();
    if (drop_last && n % num_replicas != 0) return n < num_replicas ? 0 : (n - num_replicas + num_replicas - 1) / num_replicas;
    return (n + num_replicas - 1) / num_replicas;
  }

  std::vector<std::int64_t> indices(std::int64_t n, std::int64_t epoch) const {
    const std::int64_t per_rank = num_samples(n);
    const std::int64_t total = per_rank * num_replicas;
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    if (shuffle) {
      at::Generator gen = at::detail::createCPUGenerator(seed + static_cast<std::uint64_t>(epoch));
      const auto perm = at::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong));
      std::copy(perm.data_ptr<std::int64_t>(), perm.data_ptr<std::int64_t>() + n, order.begin());
    } else {
      std::iota(order.begin(), order.end(), std::int64_t{0});
    }
    // Padding repeats the order from its start, as often as needed (n < padding included).
    for (std::size_t k = 0; static_cast<std::int64_t>(order.size()) < total; ++k) order.push_back(order[k]);
    order.resize(static_cast<std::size_t>(total));
    std::vector<std::int64_t> share;
    share.reserve(static_cast<std::size_t>(per_rank));
    for (std::int64_t k = rank; k < total; k += num_replicas) share.push_back(order[static_cast<std::size_t>(k)]);
    return share;
  }
};

}  // namespace volt::data
