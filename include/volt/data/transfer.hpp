#pragma once
// Moving a batch to the device, and finding its size, for the batch shapes loaders produce:
// a Tensor, torch::data::Example (with or without a target), a struct reflected with
// BOOST_HANA_DEFINE_STRUCT (field by field), and std containers of those (vector, array, pair,
// tuple, optional, map). A tensor already on the device is left alone, so CPU runs pay nothing.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <torch/torch.h>

#include <volt/detail/meta.hpp>

namespace volt::data {

namespace detail {
using volt::detail::is_specialization_of_v;
template <class T>
inline constexpr bool is_std_array_v = false;
template <class T, std::size_t N>
inline constexpr bool is_std_array_v<std::array<T, N>> = true;
}  // namespace detail

// Calls fn(tensor) on every tensor inside the batch, in a fixed order (depth first).
template <class Batch, class Fn>
void for_each_tensor(Batch& batch, Fn&& fn) {
  using B = std::remove_cvref_t<Batch>;
  if constexpr (std::is_same_v<B, torch::Tensor>) {
    fn(batch);
  } else if constexpr (boost::hana::Struct<B>::value) {
    boost::hana::for_each(boost::hana::accessors<B>(),
                          [&](auto accessor) { for_each_tensor(boost::hana::second(accessor)(batch), fn); });
  } else if constexpr (requires { batch.data; }) {  // torch::data::Example; TensorExample has no target
    for_each_tensor(batch.data, fn);
    if constexpr (requires { batch.target; }) for_each_tensor(batch.target, fn);
  } else if constexpr (detail::is_specialization_of_v<B, std::tuple> || detail::is_specialization_of_v<B, std::pair>) {
    std::apply([&](auto&... part) { (for_each_tensor(part, fn), ...); }, batch);
  } else if constexpr (detail::is_specialization_of_v<B, std::vector> || detail::is_std_array_v<B>) {
    for (auto& part : batch) for_each_tensor(part, fn);
  } else if constexpr (detail::is_specialization_of_v<B, std::optional>) {
    if (batch) for_each_tensor(*batch, fn);
  } else if constexpr (detail::is_specialization_of_v<B, std::map> || detail::is_specialization_of_v<B, std::unordered_map>) {
    for (auto& [key, part] : batch) for_each_tensor(part, fn);
  }
  // any other type holds no tensors volt knows how to find; it is passed through untouched
}

// The batch moved to `device` (Lightning's default transfer_batch_to_device).
template <class Batch>
std::remove_cvref_t<Batch> to_device(Batch&& batch, const torch::Device& device, bool non_blocking = false) {
  std::remove_cvref_t<Batch> moved(std::forward<Batch>(batch));
  for_each_tensor(moved, [&](torch::Tensor& t) {
    if (t.defined() && t.device() != device) t = t.to(device, non_blocking);
  });
  return moved;
}

// The size of dimension 0 of the first tensor found (Lightning's extract_batch_size), or 1.
template <class Batch>
std::int64_t batch_size_of(const Batch& batch) {
  std::int64_t size = -1;
  for_each_tensor(batch, [&](const torch::Tensor& t) {
    if (size < 0 && t.defined() && t.dim() > 0) size = t.size(0);
  });
  return size < 0 ? 1 : size;
}

}  // namespace volt::data
