#pragma once
// Private shim, found only through -idirafter (CMakeLists.txt), so a libtorch that ships the
// real header uses that one. Debian's libtorch-dev lacks torch/csrc/distributed/autograd/,
// yet c10d/reducer.hpp includes this header for two names only: the GradCallback typedef (a
// static_assert compares it with its own) and ContextPtr (a shared_ptr member of
// Reducer::RpcContext). volt never creates a distributed-autograd context; the Reducer sees
// none (RPC is not used), so the class stays incomplete beyond the typedef.
#include <functional>
#include <memory>

#include <ATen/core/Tensor.h>

namespace torch::distributed::autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace torch::distributed::autograd
