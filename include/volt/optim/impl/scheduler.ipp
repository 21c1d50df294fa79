#pragma once
// Definitions of <volt/optim/scheduler.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/optim/scheduler.hpp>

#include <stdexcept>

#include <fmt/format.h>

namespace volt::detail::sched {

VOLT_INLINE std::vector<double> group_lrs(const torch::optim::Optimizer& optimizer) {
  std::vector<double> lrs;
  lrs.reserve(optimizer.param_groups().size());
  for (const auto& group : optimizer.param_groups()) lrs.push_back(group.options().get_lr());
  return lrs;
}

VOLT_INLINE void set_group_lrs(torch::optim::Optimizer& optimizer, const std::vector<double>& lrs) {
  auto& groups = optimizer.param_groups();
  if (groups.size() != lrs.size())
    throw std::logic_error(fmt::format("volt: a scheduler computed {} learning rates for an optimizer with {} param "
                                       "groups; was a param group added after the scheduler was attached?",
                                       lrs.size(), groups.size()));
  for (std::size_t i = 0; i < lrs.size(); ++i) groups[i].options().set_lr(lrs[i]);
}

VOLT_INLINE void write(torch::serialize::OutputArchive& archive, const std::string& key, std::int64_t value) {
  archive.write(key, torch::tensor(value, torch::kInt64));
}

VOLT_INLINE void write(torch::serialize::OutputArchive& archive, const std::string& key, double value) {
  archive.write(key, torch::tensor(value, torch::kFloat64));
}

VOLT_INLINE void write(torch::serialize::OutputArchive& archive, const std::string& key, const std::vector<double>& values) {
  archive.write(key, torch::tensor(values, torch::kFloat64));
}

VOLT_INLINE torch::Tensor read_tensor(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor t;
  archive.read(key, t);
  return t;
}

VOLT_INLINE std::int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  return read_tensor(archive, key).item<std::int64_t>();
}

VOLT_INLINE double read_double(torch::serialize::InputArchive& archive, const std::string& key) {
  return read_tensor(archive, key).item<double>();
}

VOLT_INLINE std::vector<double> read_doubles(torch::serialize::InputArchive& archive, const std::string& key) {
  auto t = read_tensor(archive, key).to(torch::kFloat64).contiguous();
  const double* p = t.data_ptr<double>();
  return {p, p + t.numel()};
}

VOLT_INLINE void throw_invalid_option(const char* scheduler, const char* option, std::int64_t value, const char* rule) {
  throw std::invalid_argument(fmt::format("volt: {} {}={} is invalid; {}.", scheduler, option, value, rule));
}

VOLT_INLINE void throw_invalid_option(const char* scheduler, const char* option, double value, const char* rule) {
  throw std::invalid_argument(fmt::format("volt: {} {}={} is invalid; {}.", scheduler, option, value, rule));
}

VOLT_INLINE void throw_per_group_count(const char* scheduler, const char* field, std::size_t values, std::size_t groups,
                                       const char* single) {
  throw std::invalid_argument(fmt::format("volt: {} {} has {} values for an optimizer with {} param groups; give one "
                                          "per group, or one {} for all.",
                                          scheduler, field, values, groups, single));
}

VOLT_INLINE void throw_one_cycle_no_total_steps(std::int64_t total_steps, std::int64_t epochs,
                                                std::int64_t steps_per_epoch) {
  throw std::invalid_argument(fmt::format(
      "volt: OneCycleLR needs total_steps, or epochs and steps_per_epoch (got total_steps={}, epochs={}, "
      "steps_per_epoch={}); all must be positive.",
      total_steps, epochs, steps_per_epoch));
}

VOLT_INLINE void throw_one_cycle_stepped_past(std::int64_t step, std::int64_t total_steps) {
  throw std::out_of_range(fmt::format(
      "volt: OneCycleLR was stepped {} times; its total_steps is {}. Make total_steps (or epochs * "
      "steps_per_epoch) cover every optimizer step of the run.",
      step, total_steps));
}

VOLT_INLINE void throw_one_cycle_empty_phase(std::size_t phase, std::int64_t total_steps, double pct_start) {
  throw std::invalid_argument(fmt::format(
      "volt: OneCycleLR phase {} has no steps (total_steps={}, pct_start={}); use more total_steps or "
      "another pct_start.",
      phase, total_steps, pct_start));
}

VOLT_INLINE void throw_sequential_milestones(std::size_t schedulers, std::size_t milestones) {
  throw std::invalid_argument(fmt::format(
      "volt: SequentialLR has {} schedulers and {} milestones; it needs one milestone fewer than schedulers.",
      schedulers, milestones));
}

}  // namespace volt::detail::sched
