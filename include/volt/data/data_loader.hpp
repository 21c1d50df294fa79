#pragma once
// DataLoader: batches from a map-style Dataset (dataset.hpp), for data that is not already a
// tensor in memory (files, decoding, augmentation). PyTorch's DataLoader, with threads instead
// of processes: num_workers threads each build whole batches (get(i) for each index, then
// collate) and keep up to prefetch_factor batches each ready ahead of the loop.
//
// The order is fixed by the sampler alone: batch b is indices[b * batch_size, ...) of the
// epoch's sampler order, and batches are handed out in order b = 0, 1, 2, ... (worker w builds
// batches w, w + W, w + 2W, ...), so the batches are the same for any num_workers.
//
// An exception in get(i) or in collate, on any thread, reaches the loop when it asks for that
// batch, as a DataLoaderError naming the dataset index (and batch) that failed.
#include <algorithm>
#include <condition_variable>
#include <iterator>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/seed.hpp>
#include <volt/data/collate.hpp>
#include <volt/data/dataset.hpp>
#include <volt/data/sampler.hpp>

namespace volt::data {

struct DataLoaderOptions {
  std::int64_t batch_size = 1;
  bool shuffle = false;    // with the default sampler: a new order every epoch
  bool drop_last = false;  // drop the last batch when it is smaller than batch_size
  std::int64_t num_workers = 0;      // 0: batches are built on the loop's thread, when asked for
  std::int64_t prefetch_factor = 2;  // batches each worker keeps ready ahead
  // With the epoch, the only input to the shuffle order (default sampler). Unset: the seed
  // last given to volt::seed_everything (0 if never called), read when the loader is built.
  std::optional<std::uint64_t> seed{};
};

// An exception from the dataset or the collate function, with the index that failed.
class DataLoaderError : public std::runtime_error {
 public:
  DataLoaderError(std::int64_t index, std::int64_t batch, const std::string& what)
      : std::runtime_error(what), index_(index), batch_(batch) {}
  // The dataset index whose get() threw (-1: collate threw, for the whole batch).
  std::int64_t index() const noexcept { return index_; }
  std::int64_t batch() const noexcept { return batch_; }

 private:
  std::int64_t index_, batch_;
};

template <Dataset D, Sampler S = DefaultSampler, class Collate = StackCollate>
class DataLoader {
 public:
  using sample_type = sample_t<D>;
  using batch_type = std::remove_cvref_t<std::invoke_result_t<const Collate&, std::vector<sample_type>>>;

 private:
  // One epoch's iteration: its indices, its worker threads and the batches they have built.
  // Owned by the iterators of that epoch (shared); the last one to go stops and joins the
  // workers, so leaving a loop early (limit_train_batches, an exception) ends them.
  class Epoch {
   public:
    Epoch(const DataLoader& loader, std::vector<std::int64_t> indices, std::int64_t num_batches)
        : loader_(loader), indices_(std::move(indices)), num_batches_(num_batches),
          num_threads_(std::min(loader.options_.num_workers, num_batches)) {
      workers_.reserve(static_cast<std::size_t>(num_threads_));
      try {
        for (std::int64_t w = 0; w < num_threads_; ++w) workers_.emplace_back([this, w] { work(w); });
      } catch (...) {  // a thread could not start: end those that did before giving up
        stop_and_join();
        throw;
      }
    }
    Epoch(const Epoch&) = delete;
    Epoch& operator=(const Epoch&) = delete;
    ~Epoch() { stop_and_join(); }

    std::int64_t num_batches() const noexcept { return num_batches_; }

    // Batch b, in order: built here without workers, else waited for.
    batch_type take(std::int64_t b) {
      if (num_threads_ == 0) return build(b, -1);
      std::unique_lock lock(mutex_);
      built_.wait(lock, [&] { return ready_.count(b) > 0; });
      auto node = ready_.extract(b);
      next_ = b + 1;
      lock.unlock();
      taken_.notify_all();
      if (auto* error = std::get_if<std::exception_ptr>(&node.mapped())) std::rethrow_exception(*error);
      return std::move(std::get<batch_type>(node.mapped()));
    }

   private:
    void stop_and_join() {
      {
        std::lock_guard lock(mutex_);
        stop_ = true;
      }
      taken_.notify_all();
      for (auto& t : workers_) t.join();
    }

    void work(std::int64_t w) {
      torch::NoGradGuard no_grad;  // grad mode is per thread; a loader records no history
      const auto ahead = num_threads_ * loader_.options_.prefetch_factor;
      for (std::int64_t b = w; b < num_batches_; b += num_threads_) {
        {
          std::unique_lock lock(mutex_);
          taken_.wait(lock, [&] { return stop_ || b < next_ + ahead; });
          if (stop_) return;
        }
        std::variant<batch_type, std::exception_ptr> result{std::exception_ptr{}};
        try {
          result.template emplace<batch_type>(build(b, w));
        } catch (...) {
          result.template emplace<std::exception_ptr>(std::current_exception());
        }
        {
          std::lock_guard lock(mutex_);
          ready_.emplace(b, std::move(result));
        }
        built_.notify_all();
      }
    }

    batch_type build(std::int64_t b, std::int64_t worker) const {
      const auto batch_size = loader_.options_.batch_size;
      const auto begin = b * batch_size;
      const auto end = std::min<std::int64_t>(begin + batch_size, static_cast<std::int64_t>(indices_.size()));
      const auto where = [worker] { return worker < 0 ? std::string() : fmt::format(" in worker thread {}", worker); };
      std::vector<sample_type> samples;
      samples.reserve(static_cast<std::size_t>(end - begin));
      for (auto k = begin; k < end; ++k) {
        const auto i = indices_[static_cast<std::size_t>(k)];
        try {
          samples.push_back(loader_.dataset_.get(i));
        } catch (const std::exception& e) {
          throw DataLoaderError(i, b, fmt::format("volt::data::DataLoader: dataset.get({}) threw{} (batch {}): {}", i,
                                                  where(), b, e.what()));
        }
      }
      try {
        return loader_.collate_(std::move(samples));
      } catch (const std::exception& e) {
        throw DataLoaderError(-1, b, fmt::format("volt::data::DataLoader: collating batch {} (positions {}..{} of the "
                                                 "epoch's order) threw{}: {}",
                                                 b, begin, end - 1, where(), e.what()));
      }
    }

    const DataLoader& loader_;
    const std::vector<std::int64_t> indices_;
    const std::int64_t num_batches_;
    const std::int64_t num_threads_;
    std::mutex mutex_;
    std::condition_variable built_, taken_;
    std::map<std::int64_t, std::variant<batch_type, std::exception_ptr>> ready_;
    std::int64_t next_ = 0;  // the batch the loop asks for next
    bool stop_ = false;
    std::vector<std::thread> workers_;  // last: joined (by ~Epoch) before the rest is destroyed
  };

 public:
  // An input iterator: it holds the current batch; ++ asks the epoch for the next one.
  class iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = batch_type;
    using difference_type = std::ptrdiff_t;
    using reference = batch_type;
    using pointer = void;

    iterator() = default;
    batch_type operator*() const { return *current_; }
    iterator& operator++() {
      ++index_;
      current_.reset();
      if (index_ < epoch_->num_batches()) current_.emplace(epoch_->take(index_));
      else epoch_.reset();  // the epoch is over: its workers end now, not when the loop's iterator goes
      return *this;
    }
    void operator++(int) { ++*this; }
    std::int64_t index() const noexcept { return index_; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.index_ == b.index_; }

   private:
    friend class DataLoader;
    iterator(std::shared_ptr<Epoch> epoch, std::int64_t index) : epoch_(std::move(epoch)), index_(index) {
      if (epoch_ && index_ < epoch_->num_batches()) current_.emplace(epoch_->take(index_));
    }
    std::shared_ptr<Epoch> epoch_;
    std::int64_t index_ = 0;
    std::optional<batch_type> current_;
  };
  using const_iterator = iterator;
  using value_type = batch_type;

  // The default sampler: sequential, or shuffled from (seed, epoch) with options.shuffle.
  explicit DataLoader(D dataset, DataLoaderOptions options = {})
    requires std::is_same_v<S, DefaultSampler>
      : DataLoader(std::move(dataset), options,
                   DefaultSampler{options.shuffle, options.seed.value_or(volt::global_seed())}, Collate{}) {}

  // A sampler of your own (a distributed sampler, a weighted one, ...); options.shuffle is
  // then ignored, the sampler decides the order.
  DataLoader(D dataset, DataLoaderOptions options, S sampler, Collate collate = {})
      : dataset_(std::move(dataset)), options_(options), sampler_(std::move(sampler)), collate_(std::move(collate)) {
    validate();
  }

  // Starts the epoch selected by set_epoch(): its workers start building batches now.
  iterator begin() const {
    auto indices = sampler_.indices(size_of(dataset_), epoch_);
    check_indices(indices);
    if (static_cast<std::int64_t>(indices.size()) != sampler_.num_samples(size_of(dataset_)))
      throw std::logic_error(fmt::format("volt::data::DataLoader: the sampler gave {} indices but its num_samples() "
                                         "says {}; they must agree (size() counts batches from num_samples())",
                                         indices.size(), sampler_.num_samples(size_of(dataset_))));
    const auto n = batches_for(static_cast<std::int64_t>(indices.size()));
    return iterator(std::make_shared<Epoch>(*this, std::move(indices), n), 0);
  }
  iterator end() const noexcept { return iterator(nullptr, size()); }

  // Batches per epoch (the last, partial one counted unless drop_last).
  std::int64_t size() const { return batches_for(sampler_.num_samples(size_of(dataset_))); }
  bool empty() const { return size() == 0; }
  std::int64_t dataset_size() const { return size_of(dataset_); }

  // The epoch whose order the next begin() yields (the Trainer calls it before each training
  // epoch, as Lightning calls DistributedSampler.set_epoch).
  void set_epoch(std::int64_t epoch) {
    if (epoch < 0)
      throw std::invalid_argument(fmt::format("volt::data::DataLoader::set_epoch: epoch = {} is invalid; allowed: "
                                              "epoch >= 0",
                                              epoch));
    epoch_ = epoch;
  }
  std::int64_t epoch() const noexcept { return epoch_; }
  // Turns shuffling off or on (overfit_batches needs a fixed order); default sampler only.
  void set_shuffle(bool shuffle)
    requires std::is_same_v<S, DefaultSampler>
  {
    sampler_.shuffle = shuffle;
    options_.shuffle = shuffle;
  }

  // This rank's share of every epoch (volt::DDP calls it; default sampler only).
  void set_distributed(std::int64_t num_replicas, std::int64_t rank)
    requires std::is_same_v<S, DefaultSampler>
  {
    DistributedSampler{num_replicas, rank}.validate();
    sampler_.num_replicas = num_replicas;
    sampler_.rank = rank;
  }

  const D& dataset() const noexcept { return dataset_; }
  const S& sampler() const noexcept { return sampler_; }
  const DataLoaderOptions& options() const noexcept { return options_; }

 private:
  static std::int64_t size_of(const D& dataset) { return static_cast<std::int64_t>(dataset.size()); }

  std::int64_t batches_for(std::int64_t samples) const noexcept {
    const auto b = options_.batch_size;
    return options_.drop_last ? samples / b : (samples + b - 1) / b;
  }

  void check_indices(const std::vector<std::int64_t>& indices) const {
    const auto n = size_of(dataset_);
    for (const auto i : indices)
      if (i < 0 || i >= n)
        throw std::out_of_range(fmt::format("volt::data::DataLoader: the sampler gave index {} for a dataset of size "
                                            "{}; allowed: [0, {})",
                                            i, n, n));
  }

  void validate() const {
    const auto fail = [](const std::string& what) {
      throw std::invalid_argument("volt::data::DataLoader: " + what);
    };
    if (options_.batch_size < 1)
      fail(fmt::format("batch_size = {} is invalid; allowed: batch_size >= 1", options_.batch_size));
    if (options_.num_workers < 0)
      fail(fmt::format("num_workers = {} is invalid; allowed: num_workers >= 0 (0: no worker threads)",
                       options_.num_workers));
    if (options_.prefetch_factor < 1)
      fail(fmt::format("prefetch_factor = {} is invalid; allowed: prefetch_factor >= 1", options_.prefetch_factor));
    if (size_of(dataset_) < 0) fail(fmt::format("dataset.size() = {} is negative", size_of(dataset_)));
  }

  D dataset_;
  DataLoaderOptions options_;
  S sampler_;
  Collate collate_;
  std::int64_t epoch_ = 0;
};

}  // namespace volt::data
