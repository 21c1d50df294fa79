#pragma once
// Definitions of <volt/optim/scheduler.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/optim/scheduler.hpp>

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

}  // namespace volt::detail::sched
