#pragma once
// Definitions of <volt/data/distributed_sampler.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/data/distributed_sampler.hpp>

namespace volt::data {

VOLT_INLINE void DistributedSampler::validate() const {
  if (num_replicas < 1)
    throw std::invalid_argument(
        fmt::format("volt::data::DistributedSampler: num_replicas = {} is invalid; allowed: >= 1", num_replicas));
  if (rank < 0 || rank >= num_replicas)
    throw std::invalid_argument(fmt::format(
        "volt::data::DistributedSampler: rank = {} is invalid; allowed: [0, {}]", rank, num_replicas - 1));
}

VOLT_INLINE std::int64_t DistributedSampler::num_samples(std::int64_t n) const {
  validate();
  if (drop_last && n % num_replicas != 0) return n < num_replicas ? 0 : (n - num_replicas + num_replicas - 1) / num_replicas;
  return (n + num_replicas - 1) / num_replicas;
}

VOLT_INLINE std::vector<std::int64_t> DistributedSampler::indices(std::int64_t n, std::int64_t epoch) const {
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

}  // namespace volt::data
