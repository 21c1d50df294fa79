#pragma once
// Definitions of <volt/optim/optimizer_state.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/optim/optimizer_state.hpp>

namespace volt::optim {

VOLT_INLINE torch::serialize::OutputArchive new_output_archive() { return torch::serialize::OutputArchive(); }

VOLT_INLINE void save_optimizer(const torch::optim::Optimizer& optimizer, torch::serialize::OutputArchive& archive) {
  torch::serialize::OutputArchive state(archive.compilation_unit());
  optimizer.save(state);
  archive.write("state", state);
  const auto& groups = optimizer.param_groups();
  detail::sched::write(archive, "param_groups/size", static_cast<std::int64_t>(groups.size()));
  for (std::size_t g = 0; g < groups.size(); ++g) {
    torch::serialize::OutputArchive options(archive.compilation_unit());
    groups[g].options().serialize(options);
    archive.write("param_groups/" + std::to_string(g), options);
  }
}

VOLT_INLINE void load_optimizer(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive state;
  archive.read("state", state);
  optimizer.load(state);
  auto& groups = optimizer.param_groups();
  const auto saved = detail::sched::read_int(archive, "param_groups/size");
  if (saved != static_cast<std::int64_t>(groups.size()))
    throw std::runtime_error(fmt::format("volt: the saved optimizer has {} param groups; this one has {}.", saved,
                                         groups.size()));
  for (std::size_t g = 0; g < groups.size(); ++g) {
    torch::serialize::InputArchive options;
    archive.read("param_groups/" + std::to_string(g), options);
    groups[g].options().serialize(options);
  }
}

}  // namespace volt::optim
