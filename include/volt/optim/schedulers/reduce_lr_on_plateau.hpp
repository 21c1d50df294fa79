#pragma once
// ReduceLROnPlateau (torch.optim.lr_scheduler.ReduceLROnPlateau): cuts the lr by `factor` once a
// monitored metric has not improved for `patience` steps, then waits `cooldown` steps. It steps on
// a metric (step(double)), so its LRSchedulerConfig needs a `monitor`:
//   volt::OptimizerConfig{.optimizer = ...,
//                         .lr_scheduler = volt::LRSchedulerConfig{
//                             .scheduler = volt::optim::ReduceLROnPlateau{{.mode = volt::Mode::min,
//                                                                          .patience = 3}},
//                             .monitor = "val_loss"}}
#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include <torch/torch.h>

#include <volt/core/mode.hpp>
#include <volt/optim/scheduler.hpp>

namespace volt::optim {

// The same volt::Mode as ModelCheckpoint and EarlyStopping take (volt::optim::Mode names it too).
using volt::Mode;
enum class ThresholdMode { rel, abs };  // improvement measured relative to the best, or absolute

class ReduceLROnPlateau {
 public:
  struct Options {
    Mode mode = Mode::min;
    double factor = 0.1;             // new_lr = lr * factor
    std::int64_t patience = 10;      // steps without improvement before the lr is cut
    double threshold = 1e-4;         // what counts as an improvement (see threshold_mode)
    ThresholdMode threshold_mode = ThresholdMode::rel;
    std::int64_t cooldown = 0;       // steps to wait after a cut before counting again
    double min_lr = 0.0;             // lower bound of every group's lr ...
    std::vector<double> min_lrs{};   // ... or one per param group (overrides min_lr)
    double eps = 1e-8;               // cuts smaller than eps are skipped
  };

  ReduceLROnPlateau() : ReduceLROnPlateau(Options{}) {}
  explicit ReduceLROnPlateau(Options options) : options_(std::move(options)) {
    if (options_.factor >= 1.0)
      detail::sched::throw_invalid_option("ReduceLROnPlateau", "factor", options_.factor, "it must be < 1.0");
    best_ = worst();
  }

  void attach(torch::optim::Optimizer& optimizer) {
    const std::size_t groups = optimizer.param_groups().size();
    if (!options_.min_lrs.empty() && options_.min_lrs.size() != groups)
      detail::sched::throw_per_group_count("ReduceLROnPlateau", "min_lrs", options_.min_lrs.size(), groups, "min_lr");
    optimizer_ = &optimizer;
    last_lr_ = detail::sched::group_lrs(optimizer);
  }
  void rebind(torch::optim::Optimizer& optimizer) noexcept { optimizer_ = &optimizer; }
  bool attached() const noexcept { return optimizer_ != nullptr; }

  // One step on the monitored metric's current value.
  void step(double metric) {
    if (optimizer_ == nullptr)
      throw std::logic_error(
          "volt: ReduceLROnPlateau was stepped before it was attached to an optimizer. Return it from "
          "configure_optimizers (volt attaches it), or call scheduler.attach(optimizer) first.");
    ++last_epoch_;
    if (is_better(metric, best_)) {
      best_ = metric;
      num_bad_epochs_ = 0;
    } else {
      ++num_bad_epochs_;
    }
    if (in_cooldown()) {
      --cooldown_counter_;
      num_bad_epochs_ = 0;  // bad epochs in cooldown do not count
    }
    if (num_bad_epochs_ > options_.patience) {
      reduce_lr();
      cooldown_counter_ = options_.cooldown;
      num_bad_epochs_ = 0;
    }
    last_lr_ = detail::sched::group_lrs(*optimizer_);
  }

  const std::vector<double>& last_lr() const noexcept { return last_lr_; }
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  double best() const noexcept { return best_; }
  std::int64_t num_bad_epochs() const noexcept { return num_bad_epochs_; }
  std::int64_t cooldown_counter() const noexcept { return cooldown_counter_; }
  bool in_cooldown() const noexcept { return cooldown_counter_ > 0; }
  const Options& options() const noexcept { return options_; }

  void save(torch::serialize::OutputArchive& archive) const {
    detail::sched::write(archive, "last_epoch", last_epoch_);
    detail::sched::write(archive, "best", best_);
    detail::sched::write(archive, "num_bad_epochs", num_bad_epochs_);
    detail::sched::write(archive, "cooldown_counter", cooldown_counter_);
    detail::sched::write(archive, "last_lr", last_lr_);
  }
  void load(torch::serialize::InputArchive& archive) {
    last_epoch_ = detail::sched::read_int(archive, "last_epoch");
    best_ = detail::sched::read_double(archive, "best");
    num_bad_epochs_ = detail::sched::read_int(archive, "num_bad_epochs");
    cooldown_counter_ = detail::sched::read_int(archive, "cooldown_counter");
    last_lr_ = detail::sched::read_doubles(archive, "last_lr");
    if (optimizer_ != nullptr && !last_lr_.empty()) detail::sched::set_group_lrs(*optimizer_, last_lr_);
  }

 private:
  double worst() const noexcept {
    return options_.mode == Mode::min ? std::numeric_limits<double>::infinity()
                                      : -std::numeric_limits<double>::infinity();
  }
  bool is_better(double a, double best) const noexcept {
    const double t = options_.threshold;
    if (options_.mode == Mode::min)
      return options_.threshold_mode == ThresholdMode::rel ? a < best * (1.0 - t) : a < best - t;
    return options_.threshold_mode == ThresholdMode::rel ? a > best * (t + 1.0) : a > best + t;
  }
  void reduce_lr() {
    auto& groups = optimizer_->param_groups();
    for (std::size_t i = 0; i < groups.size(); ++i) {
      const double old_lr = groups[i].options().get_lr();
      const double floor = options_.min_lrs.empty() ? options_.min_lr : options_.min_lrs[i];
      const double new_lr = std::max(old_lr * options_.factor, floor);
      if (old_lr - new_lr > options_.eps) groups[i].options().set_lr(new_lr);
    }
  }

  Options options_;
  torch::optim::Optimizer* optimizer_ = nullptr;
  std::vector<double> last_lr_;
  double best_ = 0.0;
  std::int64_t num_bad_epochs_ = 0;
  std::int64_t cooldown_counter_ = 0;
  std::int64_t last_epoch_ = 0;
};

}  // namespace volt::optim
