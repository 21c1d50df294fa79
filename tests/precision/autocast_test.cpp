// precision::AutocastGuard: torch.autocast as an RAII guard. It turns CPU autocast on with
// bfloat16 (a linear runs in bf16, a loss in fp32), restores the previous flag and dtype on exit,
// nests (an inner guard leaves the outer one's state behind it), clears the cast cache only when
// the outermost guard exits, and restores everything when an exception leaves its scope.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <ATen/autocast_mode.h>

#include <stdexcept>

#include <volt/precision/autocast.hpp>

namespace {

// The nesting depth autocast keeps (increment returns the new depth).
int nesting_depth() {
  const int depth = at::autocast::increment_nesting() - 1;
  at::autocast::decrement_nesting();
  return depth;
}

}  // namespace

TEST_CASE("AutocastGuard runs linear in bf16 and losses in fp32 on CPU, then turns autocast off", "[precision][autocast]") {
  REQUIRE_FALSE(at::autocast::is_cpu_enabled());
  torch::nn::Linear fc(4, 3);
  const auto x = torch::randn({2, 4});
  {
    volt::precision::AutocastGuard autocast(torch::kCPU, torch::kBFloat16);
    CHECK(at::autocast::is_cpu_enabled());
    CHECK(at::autocast::get_autocast_cpu_dtype() == torch::kBFloat16);
    CHECK(nesting_depth() == 1);
    const auto y = fc(x);
    CHECK(y.scalar_type() == torch::kBFloat16);
    CHECK(torch::mse_loss(y, torch::zeros({2, 3})).scalar_type() == torch::kFloat32);
    CHECK(fc->weight.scalar_type() == torch::kFloat32);  // parameters are not cast in place
  }
  CHECK_FALSE(at::autocast::is_cpu_enabled());
  CHECK(nesting_depth() == 0);
  CHECK(fc(x).scalar_type() == torch::kFloat32);
}

TEST_CASE("AutocastGuard nests and restores the outer guard's state", "[precision][autocast]") {
  torch::nn::Linear fc(4, 3);
  const auto x = torch::randn({2, 4});
  volt::precision::AutocastGuard outer(torch::kCPU, torch::kBFloat16);
  {
    volt::precision::AutocastGuard inner(torch::kCPU, torch::kBFloat16, /*enabled=*/false);
    CHECK_FALSE(at::autocast::is_cpu_enabled());
    CHECK(nesting_depth() == 2);
    CHECK(fc(x).scalar_type() == torch::kFloat32);
  }
  CHECK(at::autocast::is_cpu_enabled());  // the outer guard's state is back
  CHECK(nesting_depth() == 1);
  CHECK(fc(x).scalar_type() == torch::kBFloat16);
}

TEST_CASE("AutocastGuard clears the cast cache only when the outermost guard exits", "[precision][autocast]") {
  // Autocast caches the bf16 copy of a leaf parameter that requires grad; the cache holds a
  // reference to it, so its use count says whether the cache still has it.
  torch::nn::Linear fc(4, 3);
  torch::Tensor cast;
  {
    volt::precision::AutocastGuard outer(torch::kCPU, torch::kBFloat16);
    {
      volt::precision::AutocastGuard inner(torch::kCPU, torch::kBFloat16);
      cast = at::autocast::cached_cast(at::kBFloat16, fc->weight, c10::DeviceType::CPU);
      REQUIRE(cast.scalar_type() == torch::kBFloat16);
      CHECK(cast.use_count() == 2);  // ours and the cache's
    }
    CHECK(cast.use_count() == 2);  // the inner exit kept the cache
    CHECK(at::autocast::cached_cast(at::kBFloat16, fc->weight, c10::DeviceType::CPU).is_same(cast));
  }
  CHECK(cast.use_count() == 1);  // the outermost exit cleared it
}

TEST_CASE("AutocastGuard restores the state when an exception leaves its scope", "[precision][autocast]") {
  REQUIRE_FALSE(at::autocast::is_cpu_enabled());
  const auto dtype_before = at::autocast::get_autocast_cpu_dtype();
  CHECK_THROWS_AS(
      [] {
        volt::precision::AutocastGuard autocast(torch::kCPU, torch::kBFloat16);
        throw std::runtime_error("a hook failed");
      }(),
      std::runtime_error);
  CHECK_FALSE(at::autocast::is_cpu_enabled());
  CHECK(at::autocast::get_autocast_cpu_dtype() == dtype_before);
  CHECK(nesting_depth() == 0);
}

TEST_CASE("AutocastGuard refuses fp16 on CPU with a message naming the fix", "[precision][autocast]") {
  CHECK_THROWS_WITH(volt::precision::AutocastGuard(torch::kCPU, torch::kHalf),
                    Catch::Contains("CPU autocast supports bfloat16 only") && Catch::Contains("BF16Mixed"));
  CHECK_FALSE(at::autocast::is_cpu_enabled());
  CHECK(nesting_depth() == 0);
}
