#pragma once
// An optimizer's whole state for exact resume. libtorch 1.13's Optimizer::save / load keep the
// per-parameter state (momentum buffers, Adam moments), but Optimizer::load leaves the param
// groups' options as they are: the lr a scheduler set (and OneCycleLR's momentum / betas) would
// come back as configure_optimizers built them. These save and restore both.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/optim/scheduler.hpp>
#include <volt/detail/config.hpp>

namespace volt::optim {

// An empty archive. libtorch defines OutputArchive's default constructor inline (a new
// jit::CompilationUnit and a jit::Module named by a parsed c10::QualifiedName): made here, that
// code is compiled once in the separately compiled mode instead of in every TU that saves state.
VOLT_INLINE torch::serialize::OutputArchive new_output_archive();

VOLT_INLINE void save_optimizer(const torch::optim::Optimizer& optimizer, torch::serialize::OutputArchive& archive);

VOLT_INLINE void load_optimizer(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive);

}  // namespace volt::optim

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/optim/impl/optimizer_state.ipp>
#endif
