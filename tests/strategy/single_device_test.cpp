// SingleDevice: one process on one device. On the CPU: ranks 0 / 0 / 1, setup_module moves the
// module to the device, the step goes straight to the precision and the collectives are the
// identity; asking for CUDA without a GPU is an error that says what to do instead.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

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

namespace {
// A precision that records what the strategy hands it.
struct RecordingPrecision {
  std::vector<std::string>* calls;
  template <class Hooks>
  void backward(const torch::Tensor&, Hooks&) {
    calls->push_back("precision.backward");
  }
  template <class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Optimizer&, Closure& closure, Hooks&) {
    calls->push_back("precision.optimizer_step");
    closure();
    return false;  // as a grad scaler that skipped the step: the strategy passes it on
  }
};
}  // namespace

TEST_CASE("SingleDevice's step goes straight to the precision, and its collectives are the identity", "[strategy]") {
  STATIC_REQUIRE(std::is_empty_v<volt::SingleDevice::NoGuard>);
  Net net;
  volt::SingleDevice cpu{torch::kCPU};
  CHECK(cpu.is_global_zero());
  std::vector<std::string> calls;
  RecordingPrecision precision{&calls};
  volt::seam::BackwardHooksArchetype backward_hooks;
  volt::seam::StepHooksArchetype step_hooks;
  torch::optim::SGD sgd(net.parameters(), torch::optim::SGDOptions(0.1));
  auto closure = [&] {
    calls.push_back("closure");
    return torch::Tensor{};
  };
  cpu.backward(precision, torch::ones({1}), backward_hooks);
  CHECK_FALSE(cpu.optimizer_step(precision, sgd, closure, step_hooks));
  CHECK((calls == std::vector<std::string>{"precision.backward", "precision.optimizer_step", "closure"}));

  const auto t = torch::arange(4.0);
  CHECK(torch::equal(cpu.reduce(t, volt::ReduceOp::sum), t));
  CHECK(torch::equal(cpu.all_gather(t), t));
  CHECK(torch::equal(cpu.broadcast(t, 0), t));
  CHECK(cpu.reduce_boolean_decision(true));
  CHECK_FALSE(cpu.reduce_boolean_decision(false, /*all=*/false));
  std::vector<int> loader{1, 2, 3};
  CHECK(&cpu.process_dataloader(loader) == &loader);  // the same loader: no sampler on one process
  [[maybe_unused]] auto guard = cpu.no_backward_sync();
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
