#pragma once
// Definitions of <volt/loops/evaluation_loop.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loops/evaluation_loop.hpp>

namespace volt::loops {

VOLT_INLINE EvalGradGuard::EvalGradGuard(bool inference_mode) {
  if (inference_mode) inference_.emplace();
  else no_grad_.emplace();
}

VOLT_INLINE EvalGradGuard::~EvalGradGuard() = default;

}  // namespace volt::loops
