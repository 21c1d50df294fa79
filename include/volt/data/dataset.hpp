#pragma once
// A map-style dataset (PyTorch's Dataset): size() examples, get(i) returns example i. Any type
// with these two members is one: no base class. DataLoader's worker threads call get() on the
// same object at once, hence `const`: get must be safe to call concurrently (read-only data,
// or its own locking), and should not draw from torch's global generator if the order of
// examples is to be the same whatever the number of workers.
#include <concepts>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace volt::data {

template <class D>
concept Dataset = requires(const D& d, std::int64_t i) {
  { d.size() } -> std::convertible_to<std::int64_t>;
  d.get(i);
};

template <Dataset D>
using sample_t = std::remove_cvref_t<decltype(std::declval<const D&>().get(std::int64_t{}))>;

}  // namespace volt::data
