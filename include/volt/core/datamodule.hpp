#pragma once
// The DataModule concept (Lightning's LightningDataModule): a train loader is required;
// prepare_data, setup(stage), teardown(stage) and the val/test/predict loaders are optional.
// A loader is any range of batches, by value or behind a pointer (torch::data's loaders come
// as unique_ptr); its element type is the batch type the module's steps must take.
#include <cstdint>
#include <iterator>
#include <type_traits>
#include <utility>

#include <volt/core/context.hpp>
#include <volt/detail/meta.hpp>
#include <volt/hooks/call.hpp>

namespace volt {

// A range of batches: begin()/end() comparable with != (torch::data's iterators are not
// std::ranges iterators, so the classic range-for protocol is what is required).
template <class L>
concept BatchLoader = requires(detail::deref_t<L>& l) {
  l.begin();
  l.end();
  l.begin() != l.end();
  *l.begin();
};

template <class L>
using batch_type_t = std::remove_cvref_t<decltype(*std::declval<detail::deref_t<L>&>().begin())>;

// Number of batches per epoch when the loader can tell (volt's TensorLoader can,
// torch::data's loaders cannot).
template <class L>
concept SizedLoader = BatchLoader<L> && requires(const detail::deref_t<L>& l) {
  { l.size() } -> std::convertible_to<std::int64_t>;
};

template <class D, class Hook>
using loader_t = std::remove_cvref_t<decltype(hooks::call(std::declval<Hook>(), std::declval<D&>(),
                                                           std::declval<hooks::hook_context_t<D>&>()))>;

// The loader type a DataModule hook returns, or void when the DataModule lacks that hook.
template <class D, class Hook>
struct loader_or_void {
  using type = void;
};
template <class D, class Hook>
  requires hooks::has<Hook, D>
struct loader_or_void<D, Hook> {
  using type = loader_t<D, Hook>;
};
template <class D, class Hook>
using loader_or_void_t = typename loader_or_void<D, Hook>::type;

template <class D>
concept HasTrainLoader = hooks::has<hooks::train_dataloader_t, D> && BatchLoader<loader_t<D, hooks::train_dataloader_t>>;
template <class D>
concept HasValLoader = hooks::has<hooks::val_dataloader_t, D> && BatchLoader<loader_t<D, hooks::val_dataloader_t>>;
template <class D>
concept HasTestLoader = hooks::has<hooks::test_dataloader_t, D> && BatchLoader<loader_t<D, hooks::test_dataloader_t>>;
template <class D>
concept HasPredictLoader =
    hooks::has<hooks::predict_dataloader_t, D> && BatchLoader<loader_t<D, hooks::predict_dataloader_t>>;

template <class D>
concept DataModule = std::is_class_v<D> && HasTrainLoader<D>;

template <class D>
  requires HasTrainLoader<D>
using train_batch_t = batch_type_t<loader_t<D, hooks::train_dataloader_t>>;

}  // namespace volt
