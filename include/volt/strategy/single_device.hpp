#pragma once
// SingleDevice: one process on one device, CUDA when libtorch has it and a GPU is present,
// else CPU (Lightning's accelerator="auto", devices=1).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <torch/torch.h>

#include <volt/strategy/strategy.hpp>

namespace volt {

class SingleDevice {
 public:
  static constexpr std::string_view profile_name = "SingleDeviceStrategy";  // Lightning's, in profiler actions
  SingleDevice() : device_(torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU)) {}
  explicit SingleDevice(torch::Device device) : device_(device) {
    if (device_.is_cuda() && !torch::cuda::is_available())
      throw std::invalid_argument(
          "volt: SingleDevice was asked for a CUDA device, but this libtorch has no CUDA or no GPU is "
          "visible. Use SingleDevice{torch::kCPU}, or SingleDevice{} to pick CUDA only when present.");
    if (device_.is_cuda() && device_.has_index() && device_.index() >= static_cast<int>(torch::cuda::device_count()))
      // std::to_string, not fmt::format: this inline constructor is in every Trainer TU, and a
      // checked format string would instantiate its checker there.
      throw std::invalid_argument("volt: SingleDevice asked for cuda:" + std::to_string(device_.index()) + " but only " +
                                  std::to_string(torch::cuda::device_count()) + " GPU(s) are visible.");
  }

  torch::Device root_device() const noexcept { return device_; }
  std::int64_t global_rank() const noexcept { return 0; }
  std::int64_t local_rank() const noexcept { return 0; }
  std::int64_t world_size() const noexcept { return 1; }

  bool is_global_zero() const noexcept { return true; }

  void setup_module(torch::nn::Module& module) const { module.to(device_); }

  // The step goes straight to the precision: nothing to synchronize on one device.
  template <class Precision, class Hooks>
  void backward(Precision& precision, const torch::Tensor& loss, Hooks& hooks) const {
    precision.backward(loss, hooks);
  }
  template <class Precision, class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Precision& precision, Optimizer& optimizer, Closure& closure, Hooks& hooks) const {
    return precision.optimizer_step(optimizer, closure, hooks);
  }
  struct NoGuard {};
  NoGuard no_backward_sync() const noexcept { return {}; }
  template <class Loader>
  Loader&& process_dataloader(Loader&& loader) const noexcept {
    return static_cast<Loader&&>(loader);
  }

  // Collectives over one process: each is the identity.
  torch::Tensor reduce(const torch::Tensor& tensor, ReduceOp = ReduceOp::mean) const { return tensor; }
  torch::Tensor all_gather(const torch::Tensor& tensor) const { return tensor; }
  torch::Tensor broadcast(const torch::Tensor& tensor, std::int64_t /*src*/ = 0) const { return tensor; }
  bool reduce_boolean_decision(bool decision, bool /*all*/ = true) const noexcept { return decision; }
  void barrier() const noexcept {}

 private:
  torch::Device device_;
};

static_assert(Strategy<SingleDevice>);

}  // namespace volt
