// TensorBatchLoader: batches of any number of tensors, as a Hana struct or a tuple; the order
// TensorLoader gives for the same (seed, epoch); rows stay paired; predict batches without a
// target; and the errors.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <tuple>

#include <boost/hana/define_struct.hpp>

#include <volt/core/datamodule.hpp>
#include <volt/data/tensor_batch_loader.hpp>
#include <volt/data/tensor_loader.hpp>

namespace {

using Catch::Matchers::Contains;
using volt::data::TensorBatchLoader;

struct Rows {
  BOOST_HANA_DEFINE_STRUCT(Rows, (torch::Tensor, features), (torch::Tensor, category_ids), (torch::Tensor, target));
};

// Row i: features [i, -i], category i % 3, target 10 i: every field tells which row it came from.
Rows make_rows(int64_t n) {
  const auto i = torch::arange(n, torch::kFloat32);
  return Rows{torch::stack({i, -i}, 1), torch::arange(n) % 3, 10 * i};
}

}  // namespace

TEST_CASE("TensorBatchLoader slices every field of a struct batch", "[data][tensor_batch_loader]") {
  STATIC_REQUIRE(volt::SizedLoader<TensorBatchLoader<Rows>>);
  STATIC_REQUIRE(std::is_same_v<volt::batch_type_t<TensorBatchLoader<Rows>>, Rows>);
  TensorBatchLoader<Rows> loader(make_rows(10), {.batch_size = 4});
  REQUIRE(loader.size() == 3);
  std::vector<int64_t> sizes;
  int64_t row = 0;
  for (const Rows& batch : loader) {
    sizes.push_back(batch.features.size(0));
    for (int64_t k = 0; k < batch.features.size(0); ++k, ++row) {
      CHECK(batch.features[k][0].item<float>() == row);
      CHECK(batch.features[k][1].item<float>() == -row);
      CHECK(batch.category_ids[k].item<int64_t>() == row % 3);
      CHECK(batch.target[k].item<float>() == 10 * row);
    }
  }
  CHECK(sizes == std::vector<int64_t>{4, 4, 2});
  CHECK(TensorBatchLoader<Rows>(make_rows(10), {.batch_size = 4, .drop_last = true}).size() == 2);
}

TEST_CASE("TensorBatchLoader shuffles as TensorLoader does, rows kept together", "[data][tensor_batch_loader]") {
  const auto rows = make_rows(50);
  TensorBatchLoader<Rows> loader(rows, {.batch_size = 8, .shuffle = true, .seed = 11});
  volt::data::TensorLoader reference(rows.features, rows.target, {.batch_size = 8, .shuffle = true, .seed = 11});
  for (int64_t epoch : {0, 1, 2}) {
    loader.set_epoch(epoch);
    reference.set_epoch(epoch);
    auto ref = reference.begin();
    std::vector<float> seen;
    for (const Rows& batch : loader) {
      const auto expected = *ref;
      ++ref;
      CHECK(torch::equal(batch.features, expected.data));
      CHECK(torch::equal(batch.target, expected.target));
      const auto row = batch.features.select(1, 0);
      CHECK(torch::equal(batch.category_ids, row.to(torch::kLong) % 3));
      for (int64_t k = 0; k < row.size(0); ++k) seen.push_back(row[k].item<float>());
    }
    std::sort(seen.begin(), seen.end());
    CHECK(seen.size() == 50);
    CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());  // each row once
  }
  loader.set_shuffle(false);
  CHECK((*loader.begin()).features[0][0].item<float>() == 0);
}

TEST_CASE("TensorBatchLoader takes tuples, a single tensor for predict", "[data][tensor_batch_loader]") {
  const auto x = torch::arange(6).reshape({6, 1});
  TensorBatchLoader<std::tuple<torch::Tensor>> features_only(std::tuple{x}, {.batch_size = 4});
  std::vector<int64_t> firsts;
  for (const auto& [features] : features_only) firsts.push_back(features[0][0].item<int64_t>());
  CHECK(firsts == std::vector<int64_t>{0, 4});

  TensorBatchLoader<std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>> three(std::tuple{x, 2 * x, 3 * x},
                                                                                  {.batch_size = 6});
  const auto [a, b, c] = three.batch(0);
  CHECK(torch::equal(c, 3 * a));
  CHECK(torch::equal(b, 2 * a));
}

TEST_CASE("TensorBatchLoader names the bad input", "[data][tensor_batch_loader]") {
  auto rows = make_rows(10);
  rows.target = rows.target.slice(0, 0, 9);
  CHECK_THROWS_WITH(TensorBatchLoader<Rows>(rows), Contains("tensor 0 (in declaration order) has 10 examples") &&
                                                     Contains("tensor 2 (in declaration order) has 9"));
  rows.target = torch::Tensor{};
  CHECK_THROWS_WITH(TensorBatchLoader<Rows>(rows), Contains("tensor 2") && Contains("undefined"));
  CHECK_THROWS_WITH(TensorBatchLoader<Rows>(make_rows(10), {.batch_size = 0}), Contains("batch_size = 0"));
  TensorBatchLoader<Rows> loader(make_rows(10), {.batch_size = 4});
  CHECK_THROWS_WITH(loader.batch(3), Contains("index 3") && Contains("[0, 3)"));
  CHECK_THROWS_WITH(loader.set_epoch(-1), Contains("epoch = -1"));
}
