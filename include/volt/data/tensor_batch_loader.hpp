#pragma once
// TensorBatchLoader<Batch>: TensorLoader for any number of tensors. The data come as one value
// of the batch type itself, every tensor holding all examples along dim 0, and each batch is
// the same type with every tensor sliced to the batch's rows, e.g.
//
//   struct Rows { BOOST_HANA_DEFINE_STRUCT(Rows, (torch::Tensor, features), (torch::Tensor, category_ids),
//                                                 (torch::Tensor, target)); };
//   TensorBatchLoader<Rows> loader(Rows{x, ids, y}, {.batch_size = 64, .shuffle = true});
//   TensorBatchLoader<std::tuple<torch::Tensor>> features_only(std::tuple{x});  // predict: no target
//
// Batch may be a std::tuple / std::pair / std::array of tensors, a BOOST_HANA_DEFINE_STRUCT
// struct, volt::data::Example, or nested ones (the shapes transfer.hpp's for_each_tensor
// visits). It works as TensorLoader does, with the same options and the same order for the
// same (seed, epoch): one gather per tensor per shuffled epoch, then batches are slices.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/seed.hpp>
#include <volt/data/sampler.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/data/transfer.hpp>

namespace volt::data {

template <class Batch>
class TensorBatchLoader {
 public:
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;  // dereference yields a prvalue
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
    int64_t index() const noexcept { return index_; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.index_ == b.index_; }

   private:
    friend class TensorBatchLoader;
    iterator(const TensorBatchLoader* loader, int64_t index) noexcept : loader_(loader), index_(index) {}
    const TensorBatchLoader* loader_ = nullptr;
    int64_t index_ = 0;
  };
  using const_iterator = iterator;
  using value_type = Batch;

  explicit TensorBatchLoader(Batch tensors, TensorLoaderOptions options = {})
      : layout_(std::move(tensors)), options_(options), seed_(options.seed.value_or(volt::global_seed())) {
    for_each_tensor(layout_, [&](torch::Tensor& t) { fields_.push_back(t); });
    validate();
    n_ = fields_.front().size(0);
    num_batches_ = options_.drop_last ? n_ / options_.batch_size : (n_ + options_.batch_size - 1) / options_.batch_size;
    epoch_fields_ = fields_;
    if (options_.shuffle) permute(0);
  }

  iterator begin() const noexcept { return {this, 0}; }
  iterator end() const noexcept { return {this, num_batches_}; }
  int64_t size() const noexcept { return num_batches_; }
  bool empty() const noexcept { return num_batches_ == 0; }
  int64_t dataset_size() const noexcept { return n_; }
  const TensorLoaderOptions& options() const noexcept { return options_; }
  int64_t epoch() const noexcept { return epoch_; }
  std::uint64_t seed() const noexcept { return seed_; }

  void set_shuffle(bool shuffle) {
    if (shuffle == options_.shuffle) return;
    options_.shuffle = shuffle;
    permuted_epoch_ = -1;
    if (shuffle) permute(epoch_);
    else epoch_fields_ = fields_;
  }

  void set_epoch(int64_t epoch) {
    if (epoch < 0)
      throw std::invalid_argument(fmt::format(
          "volt::data::TensorBatchLoader::set_epoch: epoch = {} is invalid; allowed: epoch >= 0", epoch));
    if (options_.shuffle && epoch != permuted_epoch_) permute(epoch);
    epoch_ = epoch;
  }

  Batch batch(int64_t index) const {
    if (index < 0 || index >= num_batches_)
      throw std::out_of_range(fmt::format("volt::data::TensorBatchLoader::batch: index {} is out of range; allowed: "
                                          "[0, {})",
                                          index, num_batches_));
    return batch_unchecked(index);
  }

  // All examples as given (the batch type, every tensor whole).
  const Batch& tensors() const noexcept { return layout_; }

 private:
  Batch batch_unchecked(int64_t index) const {
    const int64_t start = index * options_.batch_size;
    const int64_t stop = std::min(start + options_.batch_size, n_);
    Batch batch = layout_;
    std::size_t k = 0;
    for_each_tensor(batch, [&](torch::Tensor& t) { t = epoch_fields_[k++].slice(0, start, stop); });
    return batch;
  }

  void validate() const {
    const char* prefix = "volt::data::TensorBatchLoader: ";
    if (fields_.empty())
      throw std::invalid_argument(std::string(prefix) +
                                  "the batch value holds no tensor; give it the tensors of all examples (a tuple or "
                                  "BOOST_HANA_DEFINE_STRUCT struct of torch::Tensor)");
    for (std::size_t k = 0; k < fields_.size(); ++k) {
      const auto& t = fields_[k];
      if (!t.defined() || t.dim() == 0)
        throw std::invalid_argument(fmt::format("{}tensor {} (in declaration order) is {}; allowed: a tensor of at "
                                                "least 1 dimension, with the examples along dim 0",
                                                prefix, k, t.defined() ? "0-d" : "undefined"));
      if (t.size(0) != fields_.front().size(0))
        throw std::invalid_argument(fmt::format("{}tensor {} (in declaration order) has {} examples (size along dim "
                                                "0) but tensor 0 has {}; they must be equal",
                                                prefix, k, t.size(0), fields_.front().size(0)));
    }
    if (options_.batch_size < 1)
      throw std::invalid_argument(fmt::format("{}batch_size = {} is invalid; allowed: batch_size >= 1", prefix,
                                              options_.batch_size));
  }

  void permute(int64_t epoch) {
    torch::NoGradGuard no_grad;
    const torch::Tensor perm = epoch_permutation(seed_, epoch, n_);
    permuted_epoch_ = -1;
    try {
      for (std::size_t k = 0; k < fields_.size(); ++k) gather_rows(epoch_fields_[k], fields_[k], perm);
    } catch (...) {
      epoch_fields_ = fields_;  // every field in the input order, so rows still pair up
      throw;
    }
    permuted_epoch_ = epoch;
  }

  Batch layout_;  // the tensors as given; each batch is a copy with every tensor sliced
  std::vector<torch::Tensor> fields_, epoch_fields_;  // for_each_tensor order; epoch_: this epoch's order
  TensorLoaderOptions options_;
  std::uint64_t seed_ = 0;
  int64_t n_ = 0;
  int64_t num_batches_ = 0;
  int64_t epoch_ = 0;
  int64_t permuted_epoch_ = -1;
};

}  // namespace volt::data
