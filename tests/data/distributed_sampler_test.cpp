// DistributedSampler vs torch 1.13's torch.utils.data.DistributedSampler, index for index, over a
// grid of dataset sizes, world sizes, ranks, seeds, epochs, shuffle and drop_last. Python's
// indices come from Debian's python3-torch (the same libtorch); skipped with a message where
// /usr/bin/python3 has no torch. Plus the loaders' set_distributed (volt::DDP's injection).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <volt/data/data_loader.hpp>
#include <volt/data/distributed_sampler.hpp>
#include <volt/data/tensor_loader.hpp>

namespace {
std::string run_python(const std::string& script) {
  const std::string command = "/usr/bin/python3 -c '" + script + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return {};
  std::string out;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe.get())) out.append(buffer, n);
  return out;
}

struct Range {
  std::int64_t n;
  std::int64_t size() const { return n; }
  torch::Tensor get(std::int64_t i) const { return torch::tensor(i); }
};
}  // namespace

TEST_CASE("DistributedSampler matches torch 1.13's DistributedSampler index for index", "[data][distributed]") {
  const std::string script = R"(
import torch
from torch.utils.data import DistributedSampler
for n in (0, 1, 5, 10, 17, 100):
  for w in (1, 2, 3, 4):
    for seed in (0, 42):
      for epoch in (0, 3):
        for drop in (0, 1):
          for shuf in (0, 1):
            for r in range(w):
              s = DistributedSampler(list(range(n)), num_replicas=w, rank=r, shuffle=bool(shuf), seed=seed, drop_last=bool(drop))
              s.set_epoch(epoch)
              print(n, w, r, seed, epoch, drop, shuf, len(s), ":", *list(s))
)";
  const std::string expected = run_python(script);
  if (expected.empty()) {
    WARN("volt: skipped: /usr/bin/python3 with torch is not available (Debian package python3-torch)");
    return;
  }
  std::istringstream lines(expected);
  std::string line;
  int compared = 0;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::int64_t n, w, r, epoch, drop, shuf, len;
    std::uint64_t seed;
    std::string colon;
    in >> n >> w >> r >> seed >> epoch >> drop >> shuf >> len >> colon;
    std::vector<std::int64_t> python;
    for (std::int64_t i; in >> i;) python.push_back(i);
    const volt::data::DistributedSampler sampler{w, r, shuf != 0, seed, drop != 0};
    INFO(line);
    CHECK(sampler.num_samples(n) == len);
    CHECK(sampler.indices(n, epoch) == python);
    ++compared;
  }
  CHECK(compared == 6 * (1 + 2 + 3 + 4) * 2 * 2 * 2 * 2);
}

TEST_CASE("DistributedSampler: shares are disjoint and cover the dataset; bad ranks are errors", "[data][distributed]") {
  std::multiset<std::int64_t> all;
  for (std::int64_t r = 0; r < 3; ++r) {
    const auto share = volt::data::DistributedSampler{3, r, true, 7}.indices(9, 1);
    CHECK(share.size() == 3);
    all.insert(share.begin(), share.end());
  }
  CHECK(all == std::multiset<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(volt::data::DistributedSampler{3, 0, true, 7}.indices(9, 1) !=
        volt::data::DistributedSampler{3, 0, true, 7}.indices(9, 2));  // set_epoch reshuffles
  CHECK_THROWS_WITH(volt::data::DistributedSampler({2, 2}).indices(4, 0), Catch::Contains("rank = 2 is invalid"));
}

TEST_CASE("Loaders take their share with set_distributed (what volt::DDP injects)", "[data][distributed]") {
  const auto x = torch::arange(10).unsqueeze(1).to(torch::kFloat32);
  const auto y = torch::arange(10);
  volt::data::TensorLoader tensors(x, y, {.batch_size = 2, .shuffle = true, .seed = 3});
  tensors.set_distributed(3, 1);
  tensors.set_epoch(2);
  volt::data::DataLoader<Range> items(Range{10}, {.batch_size = 2, .shuffle = true, .seed = 3});
  items.set_distributed(3, 1);
  items.set_epoch(2);
  const auto expected = volt::data::DistributedSampler{3, 1, true, 3}.indices(10, 2);  // 4 of 10, padded
  REQUIRE(expected.size() == 4);
  CHECK(tensors.size() == 2);
  CHECK(items.size() == 2);
  std::vector<std::int64_t> from_tensors, from_items;
  for (const auto& batch : tensors)
    for (std::int64_t i = 0; i < batch.target.size(0); ++i) from_tensors.push_back(batch.target[i].item<std::int64_t>());
  for (const auto& batch : items)
    for (std::int64_t i = 0; i < batch.size(0); ++i) from_items.push_back(batch[i].item<std::int64_t>());
  CHECK(from_tensors == expected);
  CHECK(from_items == expected);
  // Without shuffle: rank-strided positions of 0..n-1.
  volt::data::TensorLoader sequential(x, y, {.batch_size = 4});
  sequential.set_distributed(2, 1);
  std::vector<std::int64_t> seen;
  for (const auto& batch : sequential)
    for (std::int64_t i = 0; i < batch.target.size(0); ++i) seen.push_back(batch.target[i].item<std::int64_t>());
  CHECK(seen == std::vector<std::int64_t>{1, 3, 5, 7, 9});
}
