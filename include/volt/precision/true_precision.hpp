#pragma once
// The "true" policies (Lightning's DoublePrecisionPlugin and HalfPrecisionPlugin): the module's
// parameters and buffers, the floating-point tensors of every batch, and the default dtype while
// a step runs are all `Dtype`; no autocast, no scaler.
//   FP64      "64-true"    float64
//   BF16True  "bf16-true"  bfloat16 (CPU and CUDA)
//   FP16True  "16-true"    float16 (CUDA only: libtorch 1.13 has no CPU half matmul or conv)
// The optimizers keep their state in the parameters' dtype, as torch does for such a module.
#include <c10/core/DefaultDtype.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <utility>

#include <volt/data/transfer.hpp>
#include <volt/precision/fp32.hpp>
#include <volt/precision/precision.hpp>

namespace volt::precision {

// torch.set_default_dtype for as long as it lives (Lightning's _DtypeContextManager), restored
// on exit, also while an exception unwinds. The default dtype is process-wide.
class DefaultDtypeGuard {
 public:
  explicit DefaultDtypeGuard(torch::ScalarType dtype) : previous_(c10::get_default_dtype()) {
    c10::set_default_dtype(c10::scalarTypeToTypeMeta(dtype));
  }
  DefaultDtypeGuard(const DefaultDtypeGuard&) = delete;
  DefaultDtypeGuard& operator=(const DefaultDtypeGuard&) = delete;
  ~DefaultDtypeGuard() { c10::set_default_dtype(previous_); }

 private:
  caffe2::TypeMeta previous_;
};

template <torch::ScalarType Dtype>
struct TruePrecision {
  static_assert(Dtype == torch::kFloat64 || Dtype == torch::kBFloat16 || Dtype == torch::kHalf,
                "volt: TruePrecision<Dtype> is float64 (FP64), bfloat16 (BF16True) or float16 (FP16True).");
  static constexpr const char* name = Dtype == torch::kFloat64    ? "64-true"
                                      : Dtype == torch::kBFloat16 ? "bf16-true"
                                                                  : "16-true";
  static constexpr torch::ScalarType parameter_dtype = Dtype;

  // After the strategy moved the module to its device.
  void convert_module(torch::nn::Module& module) const {
    if constexpr (Dtype == torch::kHalf) {
      for (const auto& p : module.parameters())
        if (!p.is_cuda())
          throw std::invalid_argument(
              "volt: precision 16-true (FP16True) needs the module on CUDA: libtorch 1.13 has no float16 matmul or "
              "convolution on CPU (the module is on " +
              p.device().str() + "). Use precision::BF16True or BF16Mixed on CPU.");
    }
    module.to(Dtype);
  }

  // Floating-point tensors of the batch to Dtype (Lightning's _convert_fp_tensor); integer
  // tensors (class labels, indices) are left alone.
  template <class Batch>
  std::remove_cvref_t<Batch> convert_input(Batch&& batch) const {
    std::remove_cvref_t<Batch> converted(std::forward<Batch>(batch));
    data::for_each_tensor(converted, [](torch::Tensor& t) {
      if (t.defined() && t.is_floating_point() && t.scalar_type() != Dtype) t = t.to(Dtype);
    });
    return converted;
  }

  DefaultDtypeGuard forward_context() const { return DefaultDtypeGuard(Dtype); }

  template <class Hooks>
  void backward(const torch::Tensor& loss, Hooks& hooks) const {
    FP32{}.backward(loss, hooks);
  }
  template <class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Optimizer& optimizer, Closure& closure, Hooks& hooks) const {
    return FP32{}.optimizer_step(optimizer, closure, hooks);
  }
};

using FP64 = TruePrecision<torch::kFloat64>;
using BF16True = TruePrecision<torch::kBFloat16>;
using FP16True = TruePrecision<torch::kHalf>;

static_assert(Precision<FP64> && Precision<BF16True> && Precision<FP16True>);

}  // namespace volt::precision
