#pragma once
// Iterating a loader for at most n batches, and asking a loader how many batches it has.
#include <cstdint>
#include <optional>

#include <volt/core/datamodule.hpp>
#include <volt/detail/meta.hpp>

namespace volt::loops {

// Marks "no loader" where a loop has nothing to run (e.g. no validation in this fit).
struct NoLoader {};

template <class Loader>
std::optional<std::int64_t> loader_size(Loader& loader) {
  if constexpr (SizedLoader<Loader>) return static_cast<std::int64_t>(detail::deref(loader).size());
  else return std::nullopt;
}

// Lets a loader reshuffle for an epoch (volt's TensorLoader, like DistributedSampler.set_epoch).
template <class Loader>
void set_epoch(Loader& loader, std::int64_t epoch) {
  if constexpr (requires { detail::deref(loader).set_epoch(epoch); }) detail::deref(loader).set_epoch(epoch);
}

// Calls fn(batch, batch_idx) for up to `limit` batches (-1: all); fn returns false to stop early.
template <class Loader, class Fn>
void for_each_batch(Loader& loader, std::int64_t limit, Fn&& fn) {
  if (limit == 0) return;
  auto& range = detail::deref(loader);
  std::int64_t batch_idx = 0;
  for (auto it = range.begin(), end = range.end(); it != end; ++it) {
    if (!fn(*it, batch_idx)) return;
    if (++batch_idx == limit) return;
  }
}

}  // namespace volt::loops
