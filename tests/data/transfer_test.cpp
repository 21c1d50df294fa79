// volt::data::to_device and batch_size_of over the batch shapes loaders produce. On the CPU a
// CPU batch is left alone: the result shares the tensors' storage (the same data_ptr).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <volt/data/example.hpp>
#include <volt/data/transfer.hpp>

namespace {
const torch::Device cpu{torch::kCPU};

bool same_storage(const torch::Tensor& a, const torch::Tensor& b) {
  return a.defined() && b.defined() && a.data_ptr() == b.data_ptr() && a.device() == b.device();
}
}  // namespace

TEST_CASE("to_device on the CPU returns the same tensors for every batch shape", "[data][transfer]") {
  const auto a = torch::randn({4, 3});
  const auto b = torch::arange(4);
  const auto c = torch::ones({2, 2});

  SECTION("Tensor") {
    auto moved = volt::data::to_device(a, cpu);
    STATIC_REQUIRE(std::is_same_v<decltype(moved), torch::Tensor>);
    CHECK(same_storage(moved, a));
    CHECK(moved.is_same(a));  // not even a new TensorImpl
  }
  SECTION("Example") {
    const volt::data::Example batch{a, b};
    auto moved = volt::data::to_device(batch, cpu);
    STATIC_REQUIRE(std::is_same_v<decltype(moved), volt::data::Example>);
    CHECK(same_storage(moved.data, a));
    CHECK(same_storage(moved.target, b));
  }
  SECTION("vector and array") {
    std::vector<torch::Tensor> v{a, b, c};
    auto moved = volt::data::to_device(v, cpu);
    REQUIRE(moved.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(same_storage(moved[i], v[i]));
    std::array<torch::Tensor, 2> arr{a, c};
    auto moved_arr = volt::data::to_device(arr, cpu);
    CHECK(same_storage(moved_arr[0], a));
    CHECK(same_storage(moved_arr[1], c));
  }
  SECTION("pair and tuple, with non-tensor members passed through") {
    auto p = volt::data::to_device(std::pair<torch::Tensor, int>{a, 7}, cpu);
    CHECK(same_storage(p.first, a));
    CHECK(p.second == 7);
    auto t = volt::data::to_device(std::tuple<torch::Tensor, volt::data::Example, std::string>{a, {b, c}, "id"}, cpu);
    CHECK(same_storage(std::get<0>(t), a));
    CHECK(same_storage(std::get<1>(t).data, b));
    CHECK(same_storage(std::get<1>(t).target, c));
    CHECK(std::get<2>(t) == "id");
  }
  SECTION("optional, engaged or not") {
    auto some = volt::data::to_device(std::optional<torch::Tensor>{a}, cpu);
    REQUIRE(some.has_value());
    CHECK(same_storage(*some, a));
    auto none = volt::data::to_device(std::optional<torch::Tensor>{}, cpu);
    CHECK_FALSE(none.has_value());
  }
  SECTION("map and unordered_map") {
    std::map<std::string, torch::Tensor> m{{"x", a}, {"y", b}};
    auto moved = volt::data::to_device(m, cpu);
    REQUIRE(moved.size() == 2);
    CHECK(same_storage(moved.at("x"), a));
    CHECK(same_storage(moved.at("y"), b));
    std::unordered_map<std::string, torch::Tensor> um{{"z", c}};
    CHECK(same_storage(volt::data::to_device(um, cpu).at("z"), c));
  }
  SECTION("nested containers") {
    std::vector<std::map<std::string, std::vector<torch::Tensor>>> nested{{{"k", {a, b}}}};
    auto moved = volt::data::to_device(nested, cpu);
    CHECK(same_storage(moved[0].at("k")[0], a));
    CHECK(same_storage(moved[0].at("k")[1], b));
  }
  SECTION("an undefined tensor stays undefined") {
    auto moved = volt::data::to_device(torch::Tensor{}, cpu);
    CHECK_FALSE(moved.defined());
    auto ex = volt::data::to_device(volt::data::Example{a, torch::Tensor{}}, cpu);
    CHECK(same_storage(ex.data, a));
    CHECK_FALSE(ex.target.defined());
  }
  SECTION("types with no tensors are returned unchanged") {
    CHECK(volt::data::to_device(42, cpu) == 42);
    CHECK(volt::data::to_device(std::string("batch"), cpu) == "batch");
  }
  SECTION("the input is not modified when it is moved from an lvalue") {
    volt::data::Example batch{a, b};
    auto moved = volt::data::to_device(batch, cpu);
    CHECK(same_storage(batch.data, a));
    CHECK(same_storage(batch.target, b));
  }
}

TEST_CASE("to_device moves a CPU batch to CUDA when a GPU is present", "[data][transfer][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("skipped: no CUDA device (torch::cuda::is_available() is false)");
    return;
  }
  const torch::Device gpu{torch::kCUDA, 0};
  volt::data::Example batch{torch::randn({4, 3}), torch::arange(4)};
  auto moved = volt::data::to_device(batch, gpu);
  CHECK(moved.data.device() == gpu);
  CHECK(moved.target.device() == gpu);
  CHECK(torch::equal(moved.data.cpu(), batch.data));
  CHECK(batch.data.device().is_cpu());  // the source is untouched
  auto again = volt::data::to_device(moved, gpu);
  CHECK(same_storage(again.data, moved.data));  // already there: left alone
}

TEST_CASE("batch_size_of is dim 0 of the first tensor found, or 1", "[data][transfer]") {
  using volt::data::batch_size_of;
  CHECK(batch_size_of(torch::zeros({5, 3})) == 5);
  CHECK(batch_size_of(volt::data::Example{torch::zeros({7, 2}), torch::zeros({7})}) == 7);
  CHECK(batch_size_of(std::vector<torch::Tensor>{torch::zeros({3}), torch::zeros({9})}) == 3);
  CHECK(batch_size_of(std::pair<int, torch::Tensor>{1, torch::zeros({6, 1})}) == 6);
  // 0-d and undefined tensors have no batch dimension: the next tensor counts.
  CHECK(batch_size_of(std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>{torch::tensor(1.0), torch::Tensor{},
                                                                             torch::zeros({4, 4})}) == 4);
  CHECK(batch_size_of(std::map<std::string, torch::Tensor>{{"b", torch::zeros({2})}, {"a", torch::zeros({8})}}) ==
        8);  // the map's order: "a" first
  CHECK(batch_size_of(std::optional<torch::Tensor>{torch::zeros({11})}) == 11);
  CHECK(batch_size_of(std::optional<torch::Tensor>{}) == 1);
  CHECK(batch_size_of(torch::tensor(3.0)) == 1);
  CHECK(batch_size_of(std::vector<torch::Tensor>{}) == 1);
  CHECK(batch_size_of(42) == 1);
  CHECK(batch_size_of(torch::zeros({0, 3})) == 0);  // an empty batch has size 0
}

TEST_CASE("torch::data's TensorExample (an Example without target) is a batch too", "[data][transfer]") {
  // torch::data::TensorDataset yields torch::data::TensorExample = Example<Tensor, NoTarget>,
  // which has `data` but no `target`.
  const torch::data::TensorExample batch{torch::zeros({4, 3})};
  auto moved = volt::data::to_device(batch, cpu);
  CHECK(same_storage(moved.data, batch.data));
  CHECK(volt::data::batch_size_of(batch) == 4);
  int visited = 0;
  volt::data::for_each_tensor(moved, [&](torch::Tensor&) { ++visited; });
  CHECK(visited == 1);
}

namespace {
struct Pair {
  BOOST_HANA_DEFINE_STRUCT(Pair, (torch::Tensor, image), (std::vector<torch::Tensor>, masks));
};
struct Batch {
  BOOST_HANA_DEFINE_STRUCT(Batch, (std::string, id), (Pair, inputs), (torch::Tensor, label));
};
}  // namespace

TEST_CASE("a Hana-reflected struct is a batch: its tensors are visited field by field", "[data][transfer]") {
  const Batch batch{"b0", Pair{torch::zeros({6, 2}), {torch::ones({6}), torch::ones({6})}}, torch::arange(6)};
  std::vector<std::int64_t> seen;
  volt::data::for_each_tensor(batch, [&](const torch::Tensor& t) { seen.push_back(t.numel()); });
  CHECK(seen == std::vector<std::int64_t>{12, 6, 6, 6});  // declaration order, depth first
  CHECK(volt::data::batch_size_of(batch) == 6);
  const Batch moved = volt::data::to_device(batch, cpu);
  CHECK(moved.id == "b0");
  CHECK(same_storage(moved.inputs.image, batch.inputs.image));
  CHECK(same_storage(moved.label, batch.label));
  if (torch::cuda::is_available()) {
    const Batch on_gpu = volt::data::to_device(batch, torch::Device(torch::kCUDA, 0));
    CHECK(on_gpu.inputs.masks[1].is_cuda());
    CHECK(on_gpu.label.is_cuda());
  }
}
