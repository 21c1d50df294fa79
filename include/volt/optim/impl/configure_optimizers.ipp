#pragma once
// Definitions of <volt/optim/configure_optimizers.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/optim/configure_optimizers.hpp>

#include <stdexcept>

#include <fmt/format.h>

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

VOLT_INLINE std::string join_keys(const std::map<std::string, double>& m) {
  std::string out = "[";
  for (const auto& [k, v] : m) out += (out.size() > 1 ? ", " : "") + k;
  return out + "]";
}

VOLT_INLINE void throw_no_lr_scheduler(std::size_t optimizer_index) {
  throw std::out_of_range(fmt::format("volt: optimizer {} has no lr scheduler.", optimizer_index));
}

VOLT_INLINE void throw_no_lr_scheduler(std::size_t optimizer_index, std::size_t num_optimizers) {
  throw std::out_of_range(fmt::format("volt: optimizer {} has no lr scheduler (configure_optimizers returned {} "
                                      "optimizer(s)).",
                                      optimizer_index, num_optimizers));
}

VOLT_INLINE void throw_monitored_metric_missing(const std::string& scheduler, std::size_t optimizer_index,
                                                const std::string& monitor,
                                                const std::map<std::string, double>& available) {
  throw std::runtime_error(fmt::format(
      "volt: {} (the lr scheduler of optimizer {}) is conditioned on metric '{}', which is not "
      "available. Available metrics are: {}. Log '{}' with ctx.log, set `monitor` in its "
      "volt::LRSchedulerConfig to one of the available metrics, or set strict = false to skip the step "
      "while the metric is missing.",
      scheduler, optimizer_index, monitor, join_keys(available), monitor));
}

VOLT_INLINE void throw_metric_not_passed(std::size_t optimizer_index, const std::string& scheduler) {
  throw std::invalid_argument(fmt::format(
      "volt: the lr scheduler of optimizer {} ({}) steps on a metric: pass it, "
      "lr_scheduler_step(index, metric).",
      optimizer_index, scheduler));
}

VOLT_INLINE void throw_bad_frequency(std::size_t optimizer_index, std::int64_t frequency) {
  throw std::invalid_argument(fmt::format(
      "volt: the lr scheduler of optimizer {} has frequency={}; it must be >= 1 (step the scheduler "
      "every n intervals).",
      optimizer_index, frequency));
}

VOLT_INLINE void throw_no_monitor(const std::string& scheduler, std::size_t optimizer_index) {
  throw std::invalid_argument(fmt::format(
      "volt: {} (the lr scheduler of optimizer {}) steps on a metric, and its config names none. Set "
      "`monitor`: volt::OptimizerConfig{{.optimizer = ..., .lr_scheduler = volt::LRSchedulerConfig{{"
      ".scheduler = ..., .monitor = \"val_loss\"}}}} (or OptimizerConfig's own .monitor).",
      scheduler, optimizer_index));
}

VOLT_INLINE void throw_more_schedulers(std::size_t schedulers, std::size_t optimizers) {
  throw std::invalid_argument(fmt::format(
      "volt: configure_optimizers returned {} schedulers for {} optimizers; the i-th scheduler drives the "
      "i-th optimizer, so give at most one per optimizer.",
      schedulers, optimizers));
}

}  // namespace volt::optim::impl
