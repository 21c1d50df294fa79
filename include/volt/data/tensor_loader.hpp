#pragma once
// TensorLoader: a batch loader over a dataset that already sits in two tensors (examples and
// targets along dim 0), e.g. FashionMNIST after setup(); and TensorBatchLoader<Batch>, the same
// loader over any number of tensors. TensorLoader is TensorBatchLoader<Example>: one type, one
// implementation, two names.
//
// Why not torch::data::DataLoader: it fetches examples one by one and torch::stack()s them
// into a batch, so every batch costs batch_size allocations and copies plus a worker queue.
// Here a shuffled epoch costs one index_select of the whole dataset (done in set_epoch), and
// each batch is then a contiguous view of it: two narrow()s and no copy on the hot path.
// Without shuffle there is no copy at all: batches are views of the caller's tensors.
//
// Shuffling is a pure function of (seed, epoch): the permutation comes from a private
// torch::Generator seeded with seed_mix(seed, epoch), never from the global generator, so
// the same (seed, epoch) yields the same order in every process (as DDP ranks and exact
// resume need), whatever was drawn or iterated before.
#include <volt/core/seed.hpp>
#include <volt/data/distributed_sampler.hpp>
#include <volt/data/example.hpp>
#include <volt/data/transfer.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace volt::data {

struct TensorLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;  // drop the last batch when it is smaller than batch_size
  // With epoch, the only input to the shuffle order. Unset: the seed last given to
  // volt::seed_everything (0 if never called), read when the loader is built.
  std::optional<std::uint64_t> seed{};
};

// Mixes a seed and an epoch into one generator seed (splitmix64's finalizer, applied twice),
// so that neighbouring seeds and epochs give unrelated streams rather than shifted ones.
constexpr std::uint64_t seed_mix(std::uint64_t seed, std::int64_t epoch) noexcept {
  auto mix = [](std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return mix(mix(seed + 0x9e3779b97f4a7c15ULL) ^ static_cast<std::uint64_t>(epoch));
}

// The permutation of [0, n) for (seed, epoch): the one a shuffled loader gathers its epoch with
// (and RandomSampler's order, data/sampler.hpp).
inline torch::Tensor epoch_permutation(std::uint64_t seed, std::int64_t epoch, std::int64_t n) {
  at::Generator gen = at::detail::createCPUGenerator(seed_mix(seed, epoch));
  return at::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong));
}

// dst = src.index_select(0, perm). When dst is a previous epoch's copy that nothing else
// refers to (no batch view, no loader copy), it is overwritten in place: a fresh 188 MB
// buffer costs ~120 ms of page faults per epoch on FashionMNIST, the gather itself ~25 ms.
inline void gather_rows(torch::Tensor& dst, const torch::Tensor& src, const torch::Tensor& perm) {
  const torch::Tensor index = perm.to(src.device());
  const bool reusable = dst.defined() && !dst.is_same(src) && dst.use_count() == 1 &&
                        dst.storage().use_count() == 1 && dst.sizes() == src.sizes() &&
                        dst.dtype() == src.dtype() && dst.device() == src.device() &&
                        dst.is_contiguous();
  if (reusable) {
    at::index_select_out(dst, src, 0, index);
  } else {
    dst = src.index_select(0, index);
  }
}

// The data come as one value of the batch type itself, every tensor holding all examples along
// dim 0, and each batch is the same type with every tensor sliced to the batch's rows, e.g.
//
//   struct Rows { BOOST_HANA_DEFINE_STRUCT(Rows, (torch::Tensor, features), (torch::Tensor, category_ids),
//                                                 (torch::Tensor, target)); };
//   TensorBatchLoader<Rows> loader(Rows{x, ids, y}, {.batch_size = 64, .shuffle = true});
//   TensorBatchLoader<std::tuple<torch::Tensor>> features_only(std::tuple{x});  // predict: no target
//   TensorLoader loader(images, labels, {.batch_size = 64});                     // = TensorBatchLoader<Example>
//
// Batch may be a std::tuple / std::pair / std::array of tensors, a BOOST_HANA_DEFINE_STRUCT
// struct, volt::data::Example, or nested ones (the shapes transfer.hpp's for_each_tensor visits).
template <class Batch>
class TensorBatchLoader {
  static constexpr bool two_tensors = std::is_same_v<Batch, Example>;  // TensorLoader
  static constexpr const char* type_name = two_tensors ? "volt::data::TensorLoader" : "volt::data::TensorBatchLoader";

 public:
  // A batch index and a pointer to its loader: copying and advancing are integer operations.
  // Like a std::vector iterator it refers to the loader, so it must not outlive it (or a
  // move of it), and set_epoch() during an iteration changes the batches it yields next.
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    // Dereference returns a prvalue (a fresh batch of views), which C++17's iterator
    // categories only allow for input iterators; C++20's std::forward_iterator allows it.
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using reference = Batch;
    using pointer = void;

    iterator() = default;

    Batch operator*() const { return loader_->batch_unchecked(index_); }
    iterator& operator++() noexcept {
      ++index_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++index_;
      return old;
    }
    // The batch index, for loops that need batch_idx alongside the batch.
    int64_t index() const noexcept { return index_; }

    // Iterators of the same loader compare by position (comparing iterators of different
    // loaders is meaningless, as for standard containers).
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.index_ == b.index_; }

   private:
    friend class TensorBatchLoader;
    iterator(const TensorBatchLoader* loader, int64_t index) noexcept : loader_(loader), index_(index) {}

    const TensorBatchLoader* loader_ = nullptr;
    int64_t index_ = 0;
  };
  using const_iterator = iterator;
  using value_type = Batch;

  explicit TensorBatchLoader(Batch tensors, TensorLoaderOptions options = {});
  // TensorLoader's: examples and targets.
  TensorBatchLoader(torch::Tensor data, torch::Tensor targets, TensorLoaderOptions options = {})
    requires two_tensors
      : TensorBatchLoader(Example{std::move(data), std::move(targets)}, options) {}

  iterator begin() const noexcept { return {this, 0}; }
  iterator end() const noexcept { return {this, num_batches_}; }

  // Number of batches in an epoch (the last, partial batch is counted unless drop_last).
  int64_t size() const noexcept { return num_batches_; }
  bool empty() const noexcept { return num_batches_ == 0; }
  // Number of examples (size of the tensors along dim 0).
  int64_t dataset_size() const noexcept { return n_; }
  const TensorLoaderOptions& options() const noexcept { return options_; }
  int64_t epoch() const noexcept { return epoch_; }
  // The seed in use (options().seed, or volt::global_seed() when that was unset).
  std::uint64_t seed() const noexcept { return seed_; }

  // This rank's share of every epoch, as torch's DistributedSampler picks it (volt::DDP calls
  // it: Lightning's use_distributed_sampler); the shuffle order is then that sampler's.
  void set_distributed(int64_t num_replicas, int64_t rank);
  int64_t num_replicas() const noexcept { return replicas_; }

  // Turns shuffling off or on for the next iteration (overfit_batches needs a fixed order).
  void set_shuffle(bool shuffle);

  // Selects the epoch whose order the next iteration yields. With shuffle on, the data are
  // re-permuted from (seed, epoch) alone (nothing is redone when the epoch is unchanged);
  // without shuffle the order is always the input order and this only records the epoch.
  // Batches taken before stay valid and unchanged (a buffer still referenced is not reused).
  void set_epoch(int64_t epoch);

  // Batch `index` of the current epoch, bounds-checked (the iterator skips the check).
  Batch batch(int64_t index) const {
    if (index < 0 || index >= num_batches_)
      throw std::out_of_range(fmt::format("{}::batch: index {} is out of range; allowed: [0, {})", type_name, index,
                                          num_batches_));
    return batch_unchecked(index);
  }

  // All examples as given (the batch type, every tensor whole).
  const Batch& tensors() const noexcept { return layout_; }

  // TensorLoader's: the tensors it was built from, and those of the current epoch (the same
  // tensors without shuffle; their permuted copies with it). Batches are views of the latter.
  const torch::Tensor& data() const noexcept
    requires two_tensors
  {
    return fields_[0];
  }
  const torch::Tensor& targets() const noexcept
    requires two_tensors
  {
    return fields_[1];
  }
  const torch::Tensor& epoch_data() const noexcept
    requires two_tensors
  {
    return epoch_fields_[0];
  }
  const torch::Tensor& epoch_targets() const noexcept
    requires two_tensors
  {
    return epoch_fields_[1];
  }

 private:
  Batch batch_unchecked(int64_t index) const {
    const int64_t start = index * options_.batch_size;
    const int64_t stop = std::min(start + options_.batch_size, rows_);
    // slice(0, start, stop) is narrow(0, start, stop - start) minus narrow's own dispatch.
    if constexpr (two_tensors) {
      return Example{epoch_fields_[0].slice(0, start, stop), epoch_fields_[1].slice(0, start, stop)};
    } else {
      Batch batch = layout_;
      std::size_t k = 0;
      for_each_tensor(batch, [&](torch::Tensor& t) { t = epoch_fields_[k++].slice(0, start, stop); });
      return batch;
    }
  }

  // The k-th tensor's name in messages: TensorLoader's "data" / "targets", else its position.
  static std::string field_name(std::size_t k);
  void validate() const;
  // One gather of the whole dataset per epoch and tensor, so that every batch is a slice.
  void permute(int64_t epoch);

  Batch layout_;  // the tensors as given; each batch is a copy with every tensor sliced
  std::vector<torch::Tensor> fields_, epoch_fields_;  // for_each_tensor order; epoch_: this epoch's order
  TensorLoaderOptions options_;
  std::uint64_t seed_ = 0;
  int64_t n_ = 0;
  int64_t rows_ = 0;      // rows of an epoch: n_, or this rank's share under set_distributed
  int64_t replicas_ = 1;  // set_distributed's
  int64_t rank_ = 0;
  int64_t num_batches_ = 0;
  int64_t epoch_ = 0;
  int64_t permuted_epoch_ = -1;  // the epoch epoch_fields_ were permuted for (-1: none)
};

// The members below are defined outside the class and not inline: in the separately compiled
// mode TensorLoader's are compiled once, in volt::compiled (extern template at the end), and a
// user TU does not instantiate them again.
template <class Batch>
TensorBatchLoader<Batch>::TensorBatchLoader(Batch tensors, TensorLoaderOptions options)
    : layout_(std::move(tensors)), options_(options), seed_(options.seed.value_or(volt::global_seed())) {
  for_each_tensor(layout_, [&](torch::Tensor& t) { fields_.push_back(t); });
  validate();
  n_ = fields_.front().size(0);
  rows_ = n_;
  num_batches_ = options_.drop_last ? n_ / options_.batch_size : (n_ + options_.batch_size - 1) / options_.batch_size;
  epoch_fields_ = fields_;
  if (options_.shuffle) permute(0);
}

template <class Batch>
void TensorBatchLoader<Batch>::set_distributed(int64_t num_replicas, int64_t rank) {
  const DistributedSampler sampler{num_replicas, rank, options_.shuffle, seed_, false};
  sampler.validate();
  replicas_ = num_replicas;
  rank_ = rank;
  rows_ = replicas_ > 1 ? sampler.num_samples(n_) : n_;
  num_batches_ = options_.drop_last ? rows_ / options_.batch_size : (rows_ + options_.batch_size - 1) / options_.batch_size;
  permuted_epoch_ = -1;
  epoch_fields_ = fields_;
  if (options_.shuffle || replicas_ > 1) permute(epoch_);
}

template <class Batch>
void TensorBatchLoader<Batch>::set_shuffle(bool shuffle) {
  if (shuffle == options_.shuffle) return;
  options_.shuffle = shuffle;
  permuted_epoch_ = -1;
  if (shuffle || replicas_ > 1) permute(epoch_);
  else epoch_fields_ = fields_;
}

template <class Batch>
void TensorBatchLoader<Batch>::set_epoch(int64_t epoch) {
  if (epoch < 0)
    throw std::invalid_argument(
        fmt::format("{}::set_epoch: epoch = {} is invalid; allowed: epoch >= 0", type_name, epoch));
  if ((options_.shuffle || replicas_ > 1) && epoch != permuted_epoch_) permute(epoch);
  epoch_ = epoch;
}

template <class Batch>
std::string TensorBatchLoader<Batch>::field_name(std::size_t k) {
  if constexpr (two_tensors) return k == 0 ? "data" : "targets";
  else return fmt::format("tensor {} (in declaration order)", k);
}

template <class Batch>
void TensorBatchLoader<Batch>::validate() const {
  const std::string prefix = std::string(type_name) + ": ";
  if (fields_.empty())
    throw std::invalid_argument(prefix +
                                "the batch value holds no tensor; give it the tensors of all examples (a tuple or "
                                "BOOST_HANA_DEFINE_STRUCT struct of torch::Tensor)");
  for (std::size_t k = 0; k < fields_.size(); ++k)
    if (!fields_[k].defined())
      throw std::invalid_argument(fmt::format("{}{} is an undefined tensor; allowed: a tensor with the examples "
                                              "along dim 0",
                                              prefix, field_name(k)));
  for (std::size_t k = 0; k < fields_.size(); ++k)
    if (fields_[k].dim() == 0)
      throw std::invalid_argument(fmt::format("{}{} is a 0-d tensor; allowed: a tensor of at least 1 dimension, "
                                              "with the examples along dim 0",
                                              prefix, field_name(k)));
  for (std::size_t k = 1; k < fields_.size(); ++k)
    if (fields_[k].size(0) != fields_.front().size(0))
      throw std::invalid_argument(fmt::format("{}{} has {} examples (size along dim 0) but {} has {}; they must be "
                                              "equal",
                                              prefix, field_name(0), fields_.front().size(0), field_name(k),
                                              fields_[k].size(0)));
  if (options_.batch_size < 1)
    throw std::invalid_argument(
        fmt::format("{}batch_size = {} is invalid; allowed: batch_size >= 1", prefix, options_.batch_size));
}

template <class Batch>
void TensorBatchLoader<Batch>::permute(int64_t epoch) {
  torch::NoGradGuard no_grad;  // a loader never records autograd history
  const torch::Tensor perm =
      replicas_ > 1
          ? torch::tensor(DistributedSampler{replicas_, rank_, options_.shuffle, seed_, false}.indices(n_, epoch), torch::kLong)
          : epoch_permutation(seed_, epoch, n_);
  permuted_epoch_ = -1;  // until every gather is done (see gather_rows: it may write in place)
  try {
    for (std::size_t k = 0; k < fields_.size(); ++k) gather_rows(epoch_fields_[k], fields_[k], perm);
  } catch (...) {
    // Out of memory, say: fall back to the unshuffled tensors so that rows still pair up;
    // the next set_epoch permutes again.
    epoch_fields_ = fields_;
    throw;
  }
  permuted_epoch_ = epoch;
}

using TensorLoader = TensorBatchLoader<Example>;

#if defined(VOLT_SEPARATE_COMPILATION)
// Compiled once, in volt::compiled (include/volt/impl/src.hpp).
extern template class TensorBatchLoader<Example>;
#endif

}  // namespace volt::data
