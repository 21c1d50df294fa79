// DataLoader over a map-style Dataset: batches stacked field by field; the same batches for 0,
// 1 and 3 worker threads (the order depends on the sampler alone); drop_last; a sampler and a
// collate function of one's own; an exception in get() reaching the loop with its index;
// leaving an epoch early; and the errors.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <volt/core/datamodule.hpp>
#include <volt/data/collate.hpp>
#include <volt/data/data_loader.hpp>
#include <volt/data/dataset.hpp>
#include <volt/data/sampler.hpp>
#include <volt/loops/batches.hpp>

namespace {

using Catch::Matchers::Contains;
using volt::data::DataLoader;
using volt::data::DataLoaderError;

struct Sample {
  BOOST_HANA_DEFINE_STRUCT(Sample, (torch::Tensor, x), (torch::Tensor, y));
};

// Example i: x = [i, i + 0.5], y = 2 i. get(fail_at) throws, as a corrupt file would.
struct Numbers {
  int64_t n = 20;
  int64_t fail_at = -1;
  int64_t size() const { return n; }
  Sample get(int64_t i) const {
    if (i == fail_at) throw std::runtime_error("cannot decode example " + std::to_string(i));
    const double v = static_cast<double>(i);
    return {torch::tensor({v, v + 0.5}), torch::tensor(2 * i)};
  }
};

// The example indices a whole epoch delivers, batch by batch.
std::vector<std::vector<int64_t>> epoch_indices(const auto& loader) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& batch : loader) {
    auto& ids = out.emplace_back();
    for (int64_t k = 0; k < batch.x.size(0); ++k) {
      ids.push_back(static_cast<int64_t>(batch.x[k][0].template item<double>()));
      CHECK(batch.y[k].template item<int64_t>() == 2 * ids.back());  // fields stay paired
      CHECK(batch.x[k][1].template item<double>() == ids.back() + 0.5);
    }
  }
  return out;
}

// Even indices only: the shape of a distributed sampler's share (rank 0 of 2).
struct EvenSampler {
  std::vector<int64_t> indices(int64_t n, int64_t) const {
    std::vector<int64_t> out;
    for (int64_t i = 0; i < n; i += 2) out.push_back(i);
    return out;
  }
  int64_t num_samples(int64_t n) const { return (n + 1) / 2; }
};

}  // namespace

TEST_CASE("DataLoader stacks samples into batches in the sampler's order", "[data][data_loader]") {
  STATIC_REQUIRE(volt::data::Dataset<Numbers>);
  STATIC_REQUIRE(volt::SizedLoader<DataLoader<Numbers>>);
  STATIC_REQUIRE(std::is_same_v<volt::batch_type_t<DataLoader<Numbers>>, Sample>);
  DataLoader loader(Numbers{.n = 10}, {.batch_size = 4});
  CHECK(loader.size() == 3);
  const auto ids = epoch_indices(loader);
  CHECK(ids == std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});
  const Sample first = *loader.begin();
  CHECK(first.x.sizes() == torch::IntArrayRef{4, 2});
  CHECK(first.y.sizes() == torch::IntArrayRef{4});

  DataLoader dropping(Numbers{.n = 10}, {.batch_size = 4, .drop_last = true});
  CHECK(dropping.size() == 2);
  CHECK(epoch_indices(dropping).size() == 2);
}

TEST_CASE("DataLoader gives the same batches for any number of workers", "[data][data_loader]") {
  auto run = [](int64_t workers, int64_t epoch) {
    DataLoader loader(Numbers{.n = 37}, {.batch_size = 5, .shuffle = true, .num_workers = workers, .seed = 4});
    loader.set_epoch(epoch);
    return epoch_indices(loader);
  };
  const auto zero = run(0, 0);
  CHECK(zero.size() == 8);
  CHECK(run(1, 0) == zero);
  CHECK(run(3, 0) == zero);
  CHECK(run(3, 1) == run(0, 1));
  CHECK(run(0, 1) != zero);  // a new order per epoch
  // The order is RandomSampler's for (seed, epoch), the permutation TensorLoader uses too.
  std::vector<int64_t> flat;
  for (const auto& b : zero) flat.insert(flat.end(), b.begin(), b.end());
  CHECK(flat == volt::data::RandomSampler{4}.indices(37, 0));
  // Unshuffled, workers deliver the input order.
  DataLoader sequential(Numbers{.n = 9}, {.batch_size = 2, .num_workers = 2, .prefetch_factor = 1});
  CHECK(epoch_indices(sequential) == std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8}});
  sequential.set_shuffle(true);
  CHECK(epoch_indices(sequential) != std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8}});
}

TEST_CASE("an exception in get(i) reaches the loop with the index, from any thread", "[data][data_loader]") {
  for (const int64_t workers : {0, 2}) {
    DYNAMIC_SECTION("num_workers = " << workers) {
      DataLoader loader(Numbers{.n = 20, .fail_at = 13}, {.batch_size = 4, .num_workers = workers});
      std::vector<int64_t> delivered;
      try {
        for (const auto& batch : loader) delivered.push_back(batch.x.size(0));
        FAIL("no exception");
      } catch (const DataLoaderError& e) {
        CHECK(e.index() == 13);
        CHECK(e.batch() == 3);
        CHECK_THAT(e.what(), Contains("dataset.get(13)") && Contains("cannot decode example 13") &&
                                 Contains("(batch 3)"));
        if (workers > 0) CHECK_THAT(e.what(), Contains("worker thread 1"));
      }
      CHECK(delivered == std::vector<int64_t>{4, 4, 4});  // the batches before the failing one
    }
  }
}

TEST_CASE("leaving an epoch early stops its workers; the next epoch starts afresh", "[data][data_loader]") {
  DataLoader loader(Numbers{.n = 100}, {.batch_size = 2, .num_workers = 2});
  int64_t taken = 0;
  volt::loops::for_each_batch(loader, 3, [&](auto&&, int64_t, bool) { return ++taken > 0; });
  CHECK(taken == 3);
  CHECK(epoch_indices(loader).size() == 50);
}

TEST_CASE("DataLoader takes a sampler and a collate function of one's own", "[data][data_loader]") {
  DataLoader<Numbers, EvenSampler> evens(Numbers{.n = 9}, {.batch_size = 2, .num_workers = 2}, EvenSampler{});
  CHECK(evens.size() == 3);
  CHECK(epoch_indices(evens) == std::vector<std::vector<int64_t>>{{0, 2}, {4, 6}, {8}});

  // Samples with a name: the default collate cannot stack strings, this one keeps them.
  struct Named {
    int64_t size() const { return 3; }
    std::pair<std::string, torch::Tensor> get(int64_t i) const { return {"item" + std::to_string(i), torch::ones({2}) * i}; }
  };
  struct NamedBatch {
    std::vector<std::string> names;
    torch::Tensor values;
  };
  auto collate = [](std::vector<std::pair<std::string, torch::Tensor>> samples) {
    NamedBatch batch;
    std::vector<torch::Tensor> values;
    for (auto& [name, v] : samples) {
      batch.names.push_back(name);
      values.push_back(v);
    }
    batch.values = torch::stack(values);
    return batch;
  };
  DataLoader<Named, volt::data::SequentialSampler, decltype(collate)> named(Named{}, {.batch_size = 2}, {}, collate);
  const NamedBatch first = *named.begin();
  CHECK(first.names == std::vector<std::string>{"item0", "item1"});
  CHECK(first.values.sizes() == torch::IntArrayRef{2, 2});
}

TEST_CASE("DataLoader names bad options and bad samples", "[data][data_loader]") {
  CHECK_THROWS_WITH(DataLoader(Numbers{}, {.batch_size = 0}), Contains("batch_size = 0"));
  CHECK_THROWS_WITH(DataLoader(Numbers{}, {.num_workers = -1}), Contains("num_workers = -1"));
  CHECK_THROWS_WITH(DataLoader(Numbers{}, {.prefetch_factor = 0}), Contains("prefetch_factor = 0"));
  DataLoader loader(Numbers{});
  CHECK_THROWS_WITH(loader.set_epoch(-2), Contains("epoch = -2"));

  // Samples of different shapes cannot be stacked: the error names the batch.
  struct Ragged {
    int64_t size() const { return 4; }
    torch::Tensor get(int64_t i) const { return torch::zeros({i + 1}); }
  };
  DataLoader ragged(Ragged{}, {.batch_size = 2, .num_workers = 1});
  CHECK_THROWS_WITH(*ragged.begin(), Contains("collating batch 0") && Contains("worker thread 0"));
  STATIC_REQUIRE_FALSE(volt::data::stackable_v<std::pair<std::string, torch::Tensor>>);
  STATIC_REQUIRE(volt::data::stackable_v<std::tuple<torch::Tensor, Sample>>);
}
