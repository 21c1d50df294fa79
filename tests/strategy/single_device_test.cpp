// SingleDevice: one process on one device. On the CPU: ranks 0 / 0 / 1, setup_module moves the
// module to the device, the per-step hooks are no-ops; asking for CUDA without a GPU is an error
// that says what to do instead.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <stdexcept>

#include <volt/strategy/single_device.hpp>
#include <volt/strategy/strategy.hpp>

namespace {
struct Net : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  torch::Tensor running;
  Net() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    running = register_buffer("running", torch::zeros({2}));
  }
};
}  // namespace

TEST_CASE("SingleDevice on the CPU: device and ranks", "[strategy]") {
  STATIC_REQUIRE(volt::Strategy<volt::SingleDevice>);
  const volt::SingleDevice cpu{torch::kCPU};
  CHECK(cpu.root_device() == torch::Device(torch::kCPU));
  CHECK(cpu.global_rank() == 0);
  CHECK(cpu.local_rank() == 0);
  CHECK(cpu.world_size() == 1);
}

TEST_CASE("SingleDevice{} picks CUDA only when a GPU is visible", "[strategy]") {
  const volt::SingleDevice automatic;
  if (torch::cuda::is_available()) {
    CHECK(automatic.root_device() == torch::Device(torch::kCUDA, 0));
  } else {
    CHECK(automatic.root_device() == torch::Device(torch::kCPU));
  }
}

TEST_CASE("SingleDevice::setup_module moves parameters and buffers to its device", "[strategy]") {
  Net net;
  // Start somewhere else when we can (a GPU), so that the move is observable; on a CPU-only
  // machine the CPU module must stay on the CPU with its values intact.
  const volt::SingleDevice cpu{torch::kCPU};
  if (torch::cuda::is_available()) net.to(torch::Device(torch::kCUDA, 0));
  const auto weight_before = net.fc->weight.detach().cpu().clone();
  cpu.setup_module(net);
  for (const auto& p : net.parameters()) CHECK(p.device() == torch::Device(torch::kCPU));
  for (const auto& b : net.buffers()) CHECK(b.device() == torch::Device(torch::kCPU));
  CHECK(torch::equal(net.fc->weight.detach(), weight_before));
  CHECK(net.fc->weight.requires_grad());

  if (torch::cuda::is_available()) {
    const volt::SingleDevice gpu{torch::Device(torch::kCUDA, 0)};
    gpu.setup_module(net);
    for (const auto& p : net.parameters()) CHECK(p.device() == torch::Device(torch::kCUDA, 0));
    for (const auto& b : net.buffers()) CHECK(b.device() == torch::Device(torch::kCUDA, 0));
    CHECK(torch::equal(net.fc->weight.detach().cpu(), weight_before));
  } else {
    WARN("CUDA part skipped: no CUDA device (torch::cuda::is_available() is false)");
  }
}

TEST_CASE("SingleDevice's per-step hooks do nothing on one device", "[strategy]") {
  Net net;
  volt::SingleDevice cpu{torch::kCPU};
  net.fc->weight.mutable_grad() = torch::ones_like(net.fc->weight);
  cpu.before_optimizer_step(net);
  CHECK(torch::equal(net.fc->weight.grad(), torch::ones_like(net.fc->weight)));
  CHECK_NOTHROW(cpu.barrier());
}

TEST_CASE("SingleDevice asked for CUDA without a GPU throws, saying what to use instead", "[strategy]") {
  if (torch::cuda::is_available()) {
    WARN("skipped: a CUDA device is present, so SingleDevice{torch::kCUDA} is valid here");
    const volt::SingleDevice gpu{torch::kCUDA};
    CHECK(gpu.root_device().is_cuda());
    const auto too_far = static_cast<int>(torch::cuda::device_count());
    CHECK_THROWS_WITH((volt::SingleDevice{torch::Device(torch::kCUDA, too_far)}),
                      Catch::Contains("asked for cuda:" + std::to_string(too_far)) &&
                          Catch::Contains("GPU(s) are visible"));
    return;
  }
  REQUIRE_THROWS_AS(volt::SingleDevice{torch::kCUDA}, std::invalid_argument);
  REQUIRE_THROWS_WITH(volt::SingleDevice{torch::kCUDA},
                      Catch::Contains("volt: SingleDevice was asked for a CUDA device") &&
                          Catch::Contains("no CUDA or no GPU is visible") &&
                          Catch::Contains("SingleDevice{torch::kCPU}"));
  REQUIRE_THROWS_AS((volt::SingleDevice{torch::Device(torch::kCUDA, 1)}), std::invalid_argument);
}
