#pragma once
// TensorLoader: a batch loader over a dataset that already sits in two tensors (examples and
// targets along dim 0), e.g. FashionMNIST after setup().
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

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>

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

class TensorLoader {
 public:
  // A batch index and a pointer to its loader: copying and advancing are integer operations.
  // Like a std::vector iterator it refers to the loader, so it must not outlive it (or a
  // move of it), and set_epoch() during an iteration changes the batches it yields next.
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    // Dereference returns a prvalue (a fresh pair of views), which C++17's iterator
    // categories only allow for input iterators; C++20's std::forward_iterator allows it.
    using iterator_category = std::input_iterator_tag;
    using value_type = Example;
    using difference_type = std::ptrdiff_t;
    using reference = Example;
    using pointer = void;

    iterator() = default;

    Example operator*() const { return loader_->batch_unchecked(index_); }
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
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.index_ == b.index_;
    }

   private:
    friend class TensorLoader;
    iterator(const TensorLoader* loader, int64_t index) noexcept : loader_(loader), index_(index) {}

    const TensorLoader* loader_ = nullptr;
    int64_t index_ = 0;
  };
  using const_iterator = iterator;
  using value_type = Example;

  TensorLoader(torch::Tensor data, torch::Tensor targets, TensorLoaderOptions options = {})
      : data_(std::move(data)), targets_(std::move(targets)), options_(options),
        seed_(options.seed.value_or(volt::global_seed())) {
    validate();
    n_ = data_.size(0);
    rows_ = n_;
    num_batches_ = options_.drop_last ? n_ / options_.batch_size
                                      : (n_ + options_.batch_size - 1) / options_.batch_size;
    epoch_data_ = data_;
    epoch_targets_ = targets_;
    if (options_.shuffle) permute(0);
  }

  iterator begin() const noexcept { return {this, 0}; }
  iterator end() const noexcept { return {this, num_batches_}; }

  // Number of batches in an epoch (the last, partial batch is counted unless drop_last).
  int64_t size() const noexcept { return num_batches_; }
  bool empty() const noexcept { return num_batches_ == 0; }
  // Number of examples (size of data along dim 0).
  int64_t dataset_size() const noexcept { return n_; }
  const TensorLoaderOptions& options() const noexcept { return options_; }
  int64_t epoch() const noexcept { return epoch_; }

  // The seed in use (options().seed, or volt::global_seed() when that was unset).
  std::uint64_t seed() const noexcept { return seed_; }

  // This rank's share of every epoch, as torch's DistributedSampler picks it (volt::DDP calls
  // it: Lightning's use_distributed_sampler); the shuffle order is then that sampler's.
  void set_distributed(int64_t num_replicas, int64_t rank) {
    const DistributedSampler sampler{num_replicas, rank, options_.shuffle, seed_, false};
    sampler.validate();
    replicas_ = num_replicas;
    rank_ = rank;
    rows_ = replicas_ > 1 ? sampler.num_samples(n_) : n_;
    num_batches_ = options_.drop_last ? rows_ / options_.batch_size : (rows_ + options_.batch_size - 1) / options_.batch_size;
    permuted_epoch_ = -1;
    epoch_data_ = data_;
    epoch_targets_ = targets_;
    if (options_.shuffle || replicas_ > 1) permute(epoch_);
  }
  int64_t num_replicas() const noexcept { return replicas_; }

  // Turns shuffling off or on for the next iteration (overfit_batches needs a fixed order).
  void set_shuffle(bool shuffle) {
    if (shuffle == options_.shuffle) return;
    options_.shuffle = shuffle;
    permuted_epoch_ = -1;
    if (!shuffle && replicas_ == 1) {
      epoch_data_ = data_;
      epoch_targets_ = targets_;
    } else {
      permute(epoch_);
    }
  }

  // Selects the epoch whose order the next iteration yields. With shuffle on, the data are
  // re-permuted from (seed, epoch) alone (nothing is redone when the epoch is unchanged);
  // without shuffle the order is always the input order and this only records the epoch.
  // Batches taken before stay valid and unchanged (a buffer still referenced is not reused).
  void set_epoch(int64_t epoch) {
    if (epoch < 0) {
      throw std::invalid_argument("volt::data::TensorLoader::set_epoch: epoch = " +
                                  std::to_string(epoch) + " is invalid; allowed: epoch >= 0");
    }
    if ((options_.shuffle || replicas_ > 1) && epoch != permuted_epoch_) permute(epoch);
    epoch_ = epoch;
  }

  // Batch `index` of the current epoch, bounds-checked (the iterator skips the check).
  Example batch(int64_t index) const {
    if (index < 0 || index >= num_batches_) {
      throw std::out_of_range("volt::data::TensorLoader::batch: index " + std::to_string(index) +
                              " is out of range; allowed: [0, " + std::to_string(num_batches_) +
                              ")");
    }
    return batch_unchecked(index);
  }

  // The tensors the loader was built from, and those of the current epoch (the same tensors
  // without shuffle; their permuted copies with it). Batches are views of the latter.
  const torch::Tensor& data() const noexcept { return data_; }
  const torch::Tensor& targets() const noexcept { return targets_; }
  const torch::Tensor& epoch_data() const noexcept { return epoch_data_; }
  const torch::Tensor& epoch_targets() const noexcept { return epoch_targets_; }

 private:
  Example batch_unchecked(int64_t index) const {
    const int64_t start = index * options_.batch_size;
    const int64_t stop = std::min(start + options_.batch_size, rows_);
    // slice(0, start, stop) is narrow(0, start, stop - start) minus narrow's own dispatch.
    return Example{epoch_data_.slice(0, start, stop), epoch_targets_.slice(0, start, stop)};
  }

  void validate() const {
    const char* prefix = "volt::data::TensorLoader: ";
    if (!data_.defined() || !targets_.defined()) {
      throw std::invalid_argument(std::string(prefix) +
                                  (data_.defined() ? "targets" : "data") +
                                  " is an undefined tensor; allowed: a tensor with the examples "
                                  "along dim 0");
    }
    if (data_.dim() == 0 || targets_.dim() == 0) {
      throw std::invalid_argument(std::string(prefix) + (data_.dim() == 0 ? "data" : "targets") +
                                  " is a 0-d tensor; allowed: a tensor of at least 1 dimension, "
                                  "with the examples along dim 0");
    }
    if (data_.size(0) != targets_.size(0)) {
      throw std::invalid_argument(
          std::string(prefix) + "data has " + std::to_string(data_.size(0)) +
          " examples (size along dim 0) but targets has " + std::to_string(targets_.size(0)) +
          "; they must be equal");
    }
    if (options_.batch_size < 1) {
      throw std::invalid_argument(std::string(prefix) + "batch_size = " +
                                  std::to_string(options_.batch_size) +
                                  " is invalid; allowed: batch_size >= 1");
    }
  }

  // One gather of the whole dataset per epoch, so that every batch is a contiguous slice.
  void permute(int64_t epoch) {
    torch::NoGradGuard no_grad;  // a loader never records autograd history
    at::Generator gen = at::detail::createCPUGenerator(seed_mix(seed_, epoch));
    torch::Tensor perm;
    if (replicas_ > 1) {
      auto share = DistributedSampler{replicas_, rank_, options_.shuffle, seed_, false}.indices(n_, epoch);
      perm = torch::tensor(share, torch::kLong);
    } else {
      perm = at::randperm(n_, gen, torch::TensorOptions().dtype(torch::kLong));
    }
    permuted_epoch_ = -1;  // until both gathers are done (see gather_rows: it may write in place)
    try {
      gather_rows(epoch_data_, data_, perm);
      gather_rows(epoch_targets_, targets_, perm);
    } catch (...) {
      // Out of memory, say: fall back to the unshuffled tensors so that examples and targets
      // still pair up; the next set_epoch permutes again.
      epoch_data_ = data_;
      epoch_targets_ = targets_;
      throw;
    }
    permuted_epoch_ = epoch;
  }

  torch::Tensor data_, targets_;              // as given
  torch::Tensor epoch_data_, epoch_targets_;  // in this epoch's order
  TensorLoaderOptions options_;
  std::uint64_t seed_ = 0;
  int64_t n_ = 0;
  int64_t rows_ = 0;      // rows of an epoch: n_, or this rank's share under set_distributed
  int64_t replicas_ = 1;  // set_distributed's
  int64_t rank_ = 0;
  int64_t num_batches_ = 0;
  int64_t epoch_ = 0;
  int64_t permuted_epoch_ = -1;  // the epoch epoch_data_ was permuted for (-1: none)
};

}  // namespace volt::data
