#pragma once
// Collating: turning the samples of one batch into the batch. The default stacks field by
// field (PyTorch's default_collate for tensors): samples of type S give a batch of type S whose
// every tensor has a new leading dimension. S may be a tensor, a std::tuple / std::pair /
// std::array of them, torch::data::Example, or a BOOST_HANA_DEFINE_STRUCT struct, nested.
// A field that is not a tensor (a string, a number) has no stacking rule: that is a compile
// error, and a collate function of your own (any callable taking std::vector<S>) handles it.
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/concept/struct.hpp>
#include <boost/hana/members.hpp>
#include <boost/hana/tuple.hpp>
#include <torch/torch.h>

#include <volt/data/transfer.hpp>

namespace volt::data {

namespace detail {
template <class T>
struct stackable : std::false_type {};
template <>
struct stackable<torch::Tensor> : std::true_type {};
template <class... Ts>
struct stackable<std::tuple<Ts...>> : std::bool_constant<(stackable<Ts>::value && ...)> {};
template <class A, class B>
struct stackable<std::pair<A, B>> : std::bool_constant<stackable<A>::value && stackable<B>::value> {};
template <class T, std::size_t N>
struct stackable<std::array<T, N>> : stackable<T> {};
template <class A, class B>
struct stackable<torch::data::Example<A, B>> : std::bool_constant<stackable<A>::value && stackable<B>::value> {};
template <class Members>
struct members_stackable : std::false_type {};
template <class... Ts>
struct members_stackable<boost::hana::tuple<Ts...>>
    : std::bool_constant<(stackable<std::remove_cvref_t<Ts>>::value && ...)> {};
template <class T>
  requires(boost::hana::Struct<T>::value)
struct stackable<T> : members_stackable<decltype(boost::hana::members(std::declval<T>()))> {};
}  // namespace detail

template <class S>
inline constexpr bool stackable_v = detail::stackable<std::remove_cvref_t<S>>::value;

struct StackCollate {
  template <class Sample>
  Sample operator()(std::vector<Sample> samples) const {
    static_assert(stackable_v<Sample>,
                  "volt: StackCollate (DataLoader's default collate) stacks tensors field by field, and a field of "
                  "the dataset's sample type is not a tensor. Make get(i) return only tensors (a tuple or a "
                  "BOOST_HANA_DEFINE_STRUCT struct of torch::Tensor), or give DataLoader a collate function: "
                  "Batch collate(std::vector<Sample> samples).");
    std::vector<std::vector<torch::Tensor>> columns;
    for (auto& sample : samples) {
      std::size_t k = 0;
      for_each_tensor(sample, [&](torch::Tensor& t) {
        if (columns.size() <= k) columns.emplace_back().reserve(samples.size());
        columns[k++].push_back(t);
      });
    }
    Sample batch = std::move(samples.front());
    std::size_t k = 0;
    for_each_tensor(batch, [&](torch::Tensor& t) { t = torch::stack(columns[k++]); });
    return batch;
  }
};

}  // namespace volt::data
