#pragma once
// Definitions of <volt/optim/configure_optimizers.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/optim/configure_optimizers.hpp>

namespace volt::optim::impl {

VOLT_INLINE LearningRateNames::LearningRateNames() = default;
VOLT_INLINE LearningRateNames::~LearningRateNames() = default;

VOLT_INLINE void LearningRateNames::add(const torch::optim::Optimizer& optimizer, std::string name, std::type_index type,
                                        bool counted) {
  if (counted) ++seen_[type];
  if (auto it = seen_.find(type); it != seen_.end() && it->second > 1) name += fmt::format("-{}", it->second - 1);
  const auto& groups = optimizer.param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g)
    out_.emplace_back(groups.size() > 1 ? fmt::format("{}/pg{}", name, g + 1) : name, groups[g].options().get_lr());
}

VOLT_INLINE std::vector<std::pair<std::string, double>> LearningRateNames::take() { return std::move(out_); }

VOLT_INLINE std::string indexed_key(std::string_view prefix, std::size_t index) {
  return fmt::format("{}{}", prefix, index);
}

VOLT_INLINE void write_optimizer(torch::serialize::OutputArchive& archive, std::size_t index,
                                 const torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive opt(archive.compilation_unit());
  save_optimizer(optimizer, opt);
  archive.write(indexed_key("optimizer/", index), opt);
}

VOLT_INLINE void read_optimizer(torch::serialize::InputArchive& archive, std::size_t index,
                                torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive opt;
  archive.read(indexed_key("optimizer/", index), opt);
  load_optimizer(optimizer, opt);
}

VOLT_INLINE void check_saved_optimizer_count(torch::serialize::InputArchive& archive, std::size_t configured) {
  const auto n = detail::sched::read_int(archive, "num_optimizers");
  if (n != static_cast<std::int64_t>(configured))
    throw std::runtime_error(fmt::format("volt: the saved optimization state has {} optimizers; "
                                         "configure_optimizers returned {}.",
                                         n, configured));
}

}  // namespace volt::optim::impl
