#pragma once
// Iterating a loader for at most n batches, and asking a loader how many batches it has.
#include <cstdint>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>

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

// Calls fn(batch, batch_idx, is_last) for up to `limit` batches (-1: all); fn returns false to
// stop early. The iterator is advanced before fn runs, so `is_last` is known even for loaders
// that cannot tell their length (Lightning's data fetcher looks ahead the same way). A batch
// is moved out of a single-pass iterator first (torch::data's iterators reuse their storage);
// a container that is iterated again next epoch (a std::vector of batches: a forward range
// whose elements are lvalues) is copied from instead, so it still holds every batch then.
// fetch_scope() makes a scope that lives while one batch is fetched (a profiler's
// "..._dataloader_next" action; by default nothing).
struct NoFetchScope {
  struct Nothing {};
  constexpr Nothing operator()() const noexcept { return {}; }
};
template <class Iterator>
inline constexpr bool keeps_its_batches =
    std::forward_iterator<Iterator> && std::is_lvalue_reference_v<std::iter_reference_t<Iterator>>;

template <class Loader, class Fn, class FetchScope = NoFetchScope>
void for_each_batch(Loader& loader, std::int64_t limit, Fn&& fn, FetchScope fetch_scope = {}) {
  if (limit == 0) return;
  auto& range = detail::deref(loader);
  auto it = range.begin();
  const auto end = range.end();
  for (std::int64_t batch_idx = 0; it != end; ++batch_idx) {
    const bool hit_limit = limit > 0 && batch_idx + 1 == limit;
    batch_type_t<Loader> batch = [&] {
      [[maybe_unused]] auto fetching = fetch_scope();
      batch_type_t<Loader> fetched = [&]() -> batch_type_t<Loader> {
        if constexpr (keeps_its_batches<decltype(it)>) return *it;  // a copy: the loader keeps its batch
        else return std::move(*it);  // a fresh batch, or storage the next ++it overwrites
      }();
      if (!hit_limit) ++it;
      return fetched;
    }();
    const bool is_last = hit_limit || !(it != end);
    if (!fn(std::move(batch), batch_idx, is_last) || is_last) return;
  }
}

}  // namespace volt::loops
