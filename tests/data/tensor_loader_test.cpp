#include <volt/data/tensor_loader.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <concepts>
#include <iterator>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <vector>

using volt::data::Example;
using volt::data::TensorLoader;
using volt::data::TensorLoaderOptions;

namespace {

// n examples of 3 features; row i holds 3i, 3i+1, 3i+2 and its target is i, so a batch's
// rows can be matched to its targets after shuffling.
struct Toy {
  torch::Tensor data, targets;
  explicit Toy(int64_t n)
      : data(torch::arange(3 * n, torch::kFloat32).reshape({n, 3})),
        targets(torch::arange(n, torch::kInt64)) {}
};

std::vector<int64_t> order_of(const TensorLoader& loader) {
  std::vector<int64_t> order;
  for (const Example& batch : loader) {
    auto t = batch.target.contiguous();
    order.insert(order.end(), t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
  }
  return order;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

}  // namespace

TEST_CASE("TensorLoader is a forward range of Examples with a tiny iterator", "[data][loader]") {
  using It = TensorLoader::iterator;
  STATIC_REQUIRE(std::forward_iterator<It>);
  STATIC_REQUIRE(std::same_as<std::iter_value_t<It>, Example>);
  STATIC_REQUIRE(std::same_as<decltype(*std::declval<It>()), Example>);
  STATIC_REQUIRE(std::ranges::forward_range<TensorLoader>);
  STATIC_REQUIRE(std::ranges::common_range<TensorLoader>);
  STATIC_REQUIRE(std::ranges::sized_range<TensorLoader>);
  STATIC_REQUIRE(std::is_nothrow_copy_constructible_v<It>);
  STATIC_REQUIRE(sizeof(It) <= 2 * sizeof(void*));
  STATIC_REQUIRE(std::is_copy_constructible_v<TensorLoader>);
  STATIC_REQUIRE(std::is_copy_assignable_v<TensorLoader>);
}

TEST_CASE("TensorLoader without shuffle yields views of the input", "[data][loader]") {
  Toy toy(10);
  TensorLoader loader(toy.data, toy.targets, {.batch_size = 4});
  REQUIRE(loader.size() == 3);
  REQUIRE(std::ranges::size(loader) == 3);
  REQUIRE(loader.dataset_size() == 10);
  REQUIRE(loader.options().batch_size == 4);
  REQUIRE_FALSE(loader.options().shuffle);
  REQUIRE(loader.epoch_data().is_same(toy.data));  // no copy at all

  const std::vector<int64_t> expected_sizes{4, 4, 2};
  int64_t index = 0;
  for (auto it = loader.begin(); it != loader.end(); ++it, ++index) {
    REQUIRE(it.index() == index);
    const Example batch = *it;
    const int64_t start = index * 4;
    const int64_t len = expected_sizes[static_cast<std::size_t>(index)];
    CHECK(batch.data.sizes() == torch::IntArrayRef({len, 3}));
    CHECK(batch.target.sizes() == torch::IntArrayRef({len}));
    CHECK(batch.data.is_contiguous());
    CHECK(batch.target.is_contiguous());
    // Same storage, right offset: a view, not a copy.
    CHECK(batch.data.data_ptr<float>() == toy.data.data_ptr<float>() + start * 3);
    CHECK(batch.target.data_ptr<int64_t>() == toy.targets.data_ptr<int64_t>() + start);
    CHECK(batch.data.storage().is_alias_of(toy.data.storage()));
    CHECK(torch::equal(batch.data, toy.data.narrow(0, start, len)));
  }
  REQUIRE(index == 3);
  REQUIRE(order_of(loader) == iota(10));

  SECTION("set_epoch does not reorder without shuffle") {
    loader.set_epoch(7);
    REQUIRE(loader.epoch() == 7);
    REQUIRE(order_of(loader) == iota(10));
    REQUIRE(loader.epoch_data().is_same(toy.data));
  }
  SECTION("a write through the input shows in the batches (they alias it)") {
    toy.data[9][0] = -1.0f;
    REQUIRE(loader.batch(2).data[1][0].item<float>() == -1.0f);
  }
}

TEST_CASE("TensorLoader batch counts: partial last batch and drop_last", "[data][loader]") {
  Toy toy(10);
  auto sizes = [](const TensorLoader& loader) {
    std::vector<int64_t> s;
    for (const Example& b : loader) s.push_back(b.data.size(0));
    return s;
  };
  for (bool shuffle : {false, true}) {
    CAPTURE(shuffle);
    TensorLoader keep(toy.data, toy.targets, {.batch_size = 3, .shuffle = shuffle});
    REQUIRE(keep.size() == 4);
    REQUIRE(sizes(keep) == std::vector<int64_t>{3, 3, 3, 1});

    TensorLoader drop(toy.data, toy.targets, {.batch_size = 3, .shuffle = shuffle, .drop_last = true});
    REQUIRE(drop.size() == 3);
    REQUIRE(drop.dataset_size() == 10);
    REQUIRE(sizes(drop) == std::vector<int64_t>{3, 3, 3});

    TensorLoader exact(toy.data, toy.targets, {.batch_size = 5, .shuffle = shuffle, .drop_last = true});
    REQUIRE(sizes(exact) == std::vector<int64_t>{5, 5});

    TensorLoader big(toy.data, toy.targets, {.batch_size = 64, .shuffle = shuffle});
    REQUIRE(sizes(big) == std::vector<int64_t>{10});
    TensorLoader big_drop(toy.data, toy.targets, {.batch_size = 64, .shuffle = shuffle, .drop_last = true});
    REQUIRE(big_drop.size() == 0);
    REQUIRE(big_drop.empty());
    REQUIRE(big_drop.begin() == big_drop.end());
  }

  SECTION("an empty dataset gives no batches") {
    TensorLoader empty(torch::empty({0, 3}), torch::empty({0}, torch::kInt64),
                       {.batch_size = 4, .shuffle = true});
    REQUIRE(empty.size() == 0);
    REQUIRE(empty.begin() == empty.end());
    empty.set_epoch(3);
    REQUIRE(empty.size() == 0);
  }
}

TEST_CASE("TensorLoader with shuffle: slices of one permuted copy and each example once",
          "[data][loader]") {
  Toy toy(103);
  TensorLoader loader(toy.data, toy.targets, {.batch_size = 16, .shuffle = true, .seed = 7});
  REQUIRE(loader.size() == 7);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    loader.set_epoch(epoch);
    const torch::Tensor& all = loader.epoch_data();
    REQUIRE(all.is_contiguous());
    REQUIRE_FALSE(all.is_same(toy.data));
    int64_t index = 0;
    for (const Example& batch : loader) {
      const int64_t start = index * 16;
      CHECK(batch.data.is_contiguous());
      CHECK(batch.target.is_contiguous());
      CHECK(batch.data.size(0) == (index < 6 ? 16 : 7));
      // Each batch is a view into the epoch's permuted tensor at the right offset.
      CHECK(batch.data.data_ptr<float>() == all.data_ptr<float>() + start * 3);
      CHECK(batch.target.data_ptr<int64_t>() ==
            loader.epoch_targets().data_ptr<int64_t>() + start);
      // Rows still belong to their targets.
      CHECK(torch::equal(batch.data.select(1, 0), (batch.target * 3).to(torch::kFloat32)));
      ++index;
    }
    std::vector<int64_t> order = order_of(loader);
    REQUIRE(order != iota(103));  // shuffled (103! orders: identity is not a real risk)
    std::sort(order.begin(), order.end());
    REQUIRE(order == iota(103));  // every example exactly once
  }
}

TEST_CASE("TensorLoader shuffle is a function of seed and epoch only", "[data][loader]") {
  Toy toy(50);
  const TensorLoaderOptions opts{.batch_size = 8, .shuffle = true, .seed = 1234};

  TensorLoader a(toy.data, toy.targets, opts);
  TensorLoader b(toy.data, toy.targets, opts);
  std::vector<std::vector<int64_t>> orders;
  for (int64_t epoch = 0; epoch < 4; ++epoch) {
    a.set_epoch(epoch);
    b.set_epoch(epoch);
    REQUIRE(order_of(a) == order_of(b));
    orders.push_back(order_of(a));
  }
  SECTION("different epochs give different orders") {
    for (std::size_t i = 0; i < orders.size(); ++i) {
      for (std::size_t j = i + 1; j < orders.size(); ++j) CHECK(orders[i] != orders[j]);
    }
  }
  SECTION("different seeds give different orders") {
    TensorLoader c(toy.data, toy.targets, {.batch_size = 8, .shuffle = true, .seed = 1235});
    REQUIRE(order_of(c) != orders[0]);
  }
  SECTION("an epoch's order does not depend on history") {
    TensorLoader fresh(toy.data, toy.targets, opts);
    fresh.set_epoch(3);  // jump straight there, as a resumed run does
    REQUIRE(order_of(fresh) == orders[3]);
    a.set_epoch(9);
    a.set_epoch(1);
    REQUIRE(order_of(a) == orders[1]);
    a.set_epoch(0);
    REQUIRE(order_of(a) == orders[0]);
    // The construction state is epoch 0.
    REQUIRE(order_of(TensorLoader(toy.data, toy.targets, opts)) == orders[0]);
  }
  SECTION("the global generator is neither used nor consulted") {
    torch::manual_seed(99);
    const torch::Tensor expected = torch::rand({4});
    torch::manual_seed(99);
    TensorLoader d(toy.data, toy.targets, opts);
    d.set_epoch(2);
    REQUIRE(torch::equal(torch::rand({4}), expected));  // global stream untouched
    torch::manual_seed(5);
    TensorLoader e(toy.data, toy.targets, opts);
    e.set_epoch(2);
    REQUIRE(order_of(d) == orders[2]);
    REQUIRE(order_of(e) == orders[2]);
  }
  SECTION("copies are cheap and independent") {
    a.set_epoch(1);
    TensorLoader copy = a;
    REQUIRE(copy.epoch_data().is_same(a.epoch_data()));  // shared, not copied
    copy.set_epoch(2);
    REQUIRE(order_of(copy) == orders[2]);
    REQUIRE(order_of(a) == orders[1]);
    REQUIRE(copy.data().is_same(toy.data));
  }
}

TEST_CASE("TensorLoader reuses its epoch buffer only when no batch refers to it",
          "[data][loader]") {
  Toy toy(64);
  TensorLoader loader(toy.data, toy.targets, {.batch_size = 8, .shuffle = true, .seed = 11});
  const void* buffer = loader.epoch_data().data_ptr();
  loader.set_epoch(1);  // nothing refers to epoch 0's copy: overwritten in place
  CHECK(loader.epoch_data().data_ptr() == buffer);

  const Example held = loader.batch(0);
  const torch::Tensor held_data = held.data.clone();
  const torch::Tensor held_target = held.target.clone();
  loader.set_epoch(2);  // `held` views epoch 1's copy: a new buffer is used
  CHECK(loader.epoch_data().data_ptr() != buffer);
  CHECK(torch::equal(held.data, held_data));
  CHECK(torch::equal(held.target, held_target));

  TensorLoader fresh(toy.data, toy.targets, {.batch_size = 8, .shuffle = true, .seed = 11});
  fresh.set_epoch(2);
  CHECK(order_of(loader) == order_of(fresh));
  CHECK(torch::equal(loader.epoch_data(), fresh.epoch_data()));
}

TEST_CASE("TensorLoader keeps example shapes and dtypes", "[data][loader]") {
  const torch::Tensor images = torch::rand({40, 1, 28, 28});
  const torch::Tensor labels = torch::randint(0, 10, {40}, torch::kInt64);
  TensorLoader loader(images, labels, {.batch_size = 16, .shuffle = true, .seed = 3});
  auto it = loader.begin();
  const Example first = *it;
  CHECK(first.data.sizes() == torch::IntArrayRef({16, 1, 28, 28}));
  CHECK(first.data.dtype() == torch::kFloat32);
  CHECK(first.target.dtype() == torch::kInt64);
  auto old = it++;
  CHECK(old == loader.begin());
  CHECK(it.index() == 1);
  CHECK(std::ranges::distance(loader.begin(), loader.end()) == 3);
  const Example last = loader.batch(2);
  CHECK(last.data.sizes() == torch::IntArrayRef({8, 1, 28, 28}));
  CHECK(torch::equal(loader.batch(0).data, first.data));
}

TEST_CASE("TensorLoader rejects invalid inputs with messages naming value and rule",
          "[data][loader]") {
  Toy toy(10);
  using Catch::Contains;
  REQUIRE_THROWS_AS(TensorLoader(toy.data, toy.targets, {.batch_size = 0}), std::invalid_argument);
  REQUIRE_THROWS_WITH(TensorLoader(toy.data, toy.targets, {.batch_size = 0}),
                      Contains("batch_size = 0") && Contains("batch_size >= 1"));
  REQUIRE_THROWS_WITH(TensorLoader(toy.data, toy.targets, {.batch_size = -3}),
                      Contains("batch_size = -3"));
  REQUIRE_THROWS_AS(TensorLoader(toy.data, toy.targets.narrow(0, 0, 9)), std::invalid_argument);
  REQUIRE_THROWS_WITH(TensorLoader(toy.data, toy.targets.narrow(0, 0, 9)),
                      Contains("data has 10 examples") && Contains("targets has 9") &&
                          Contains("must be equal"));
  REQUIRE_THROWS_WITH(TensorLoader(torch::Tensor(), toy.targets),
                      Contains("data is an undefined tensor"));
  REQUIRE_THROWS_WITH(TensorLoader(toy.data, torch::tensor(1)), Contains("targets is a 0-d tensor"));

  TensorLoader loader(toy.data, toy.targets, {.batch_size = 4});
  REQUIRE_THROWS_AS(loader.set_epoch(-1), std::invalid_argument);
  REQUIRE_THROWS_WITH(loader.set_epoch(-1), Contains("epoch = -1") && Contains("epoch >= 0"));
  REQUIRE_THROWS_AS(loader.batch(3), std::out_of_range);
  REQUIRE_THROWS_WITH(loader.batch(3), Contains("index 3") && Contains("[0, 3)"));
}

TEST_CASE("seed_mix separates neighbouring seeds and epochs", "[data][loader]") {
  using volt::data::seed_mix;
  STATIC_REQUIRE(seed_mix(0, 0) != seed_mix(0, 1));
  STATIC_REQUIRE(seed_mix(0, 1) != seed_mix(1, 0));
  STATIC_REQUIRE(seed_mix(42, 3) == seed_mix(42, 3));
}
