#pragma once
// SingleDevice: one process on one device, CUDA when libtorch has it and a GPU is present,
// else CPU (Lightning's accelerator="auto", devices=1).
#include <cstdint>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/strategy/strategy.hpp>

namespace volt {

class SingleDevice {
 public:
  SingleDevice() : device_(torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU)) {}
  explicit SingleDevice(torch::Device device) : device_(device) {
    if (device_.is_cuda() && !torch::cuda::is_available())
      throw std::invalid_argument(
          "volt: SingleDevice was asked for a CUDA device, but this libtorch has no CUDA or no GPU is "
          "visible. Use SingleDevice{torch::kCPU}, or SingleDevice{} to pick CUDA only when present.");
    if (device_.is_cuda() && device_.has_index() && device_.index() >= static_cast<int>(torch::cuda::device_count()))
      throw std::invalid_argument(fmt::format("volt: SingleDevice asked for cuda:{} but only {} GPU(s) are visible.",
                                              device_.index(), torch::cuda::device_count()));
  }

  torch::Device root_device() const noexcept { return device_; }
  std::int64_t global_rank() const noexcept { return 0; }
  std::int64_t local_rank() const noexcept { return 0; }
  std::int64_t world_size() const noexcept { return 1; }

  void setup_module(torch::nn::Module& module) const { module.to(device_); }
  void before_optimizer_step(torch::nn::Module&) const noexcept {}
  void barrier() const noexcept {}

 private:
  torch::Device device_;
};

static_assert(Strategy<SingleDevice>);

}  // namespace volt
