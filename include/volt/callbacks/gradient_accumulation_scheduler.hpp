#pragma once
// volt::GradientAccumulationScheduler: Lightning 2.x's GradientAccumulationScheduler
// (callbacks/gradient_accumulation_scheduler.py). `scheduling` maps a 0-based epoch to the
// number of batches to accumulate from that epoch on:
//   volt::GradientAccumulationScheduler{{.scheduling = {{0, 8}, {4, 4}, {8, 1}}}}
// accumulates 8 batches in epochs 0-3, 4 in epochs 4-7, and none from epoch 8. Epochs before
// the first key accumulate 1 (Lightning adds {0: 1}). At each on_train_epoch_start the factor
// is handed to the Trainer (ctx.set_accumulate_grad_batches); the Trainer steps the optimizer
// at the end of each window and on the last batch of the epoch.
// As in Lightning, the Trainer's own accumulate_grad_batches must stay 1 with this callback.
// Lightning also refuses manual optimization here; volt's Context cannot tell, so with manual
// optimization the factor is set but has no effect.
#include <cstdint>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <volt/core/context.hpp>

namespace volt {

class GradientAccumulationScheduler {
 public:
  struct Options {
    std::map<std::int64_t, std::int64_t> scheduling{};  // epoch -> accumulation factor
  };

  explicit GradientAccumulationScheduler(Options options) : scheduling_(std::move(options.scheduling)) {
    if (scheduling_.empty())
      throw std::invalid_argument(
          "volt: GradientAccumulationScheduler needs a non-empty scheduling ({epoch: factor, ...}).");
    for (const auto& [epoch, factor] : scheduling_) {
      if (epoch < 0)
        throw std::invalid_argument(fmt::format(
            "volt: GradientAccumulationScheduler: epochs must be >= 0 (they are 0-based); got {}.", keys()));
      if (factor < 1)
        throw std::invalid_argument(fmt::format(
            "volt: GradientAccumulationScheduler: accumulation factors must be >= 1; got {} for epochs {}.",
            values(), keys()));
    }
    scheduling_.try_emplace(0, 1);  // epochs before the first key accumulate nothing
  }

  // ---- hooks ----

  void on_train_start(Context& ctx) {
    if (ctx.accumulate_grad_batches() != 1)
      throw std::invalid_argument(fmt::format(
          "volt: you have set TrainerOptions::accumulate_grad_batches={} and are using the "
          "GradientAccumulationScheduler callback. Either remove accumulate_grad_batches from the TrainerOptions "
          "or remove the callback.",
          ctx.accumulate_grad_batches()));
  }

  void on_train_epoch_start(Context& ctx) { ctx.set_accumulate_grad_batches(get_accumulate_grad_batches(ctx.current_epoch())); }

  // ---- queries ----

  // The factor for `epoch`: that of the last key <= epoch.
  std::int64_t get_accumulate_grad_batches(std::int64_t epoch) const {
    auto it = scheduling_.upper_bound(epoch);
    return it == scheduling_.begin() ? 1 : std::prev(it)->second;
  }
  bool going_to_accumulate_grad_batches() const {
    for (const auto& [epoch, factor] : scheduling_)
      if (factor > 1) return true;
    return false;
  }
  const std::map<std::int64_t, std::int64_t>& scheduling() const noexcept { return scheduling_; }

 private:
  std::string keys() const {
    std::string s;
    for (const auto& [k, v] : scheduling_) s += (s.empty() ? "" : ", ") + std::to_string(k);
    return "[" + s + "]";
  }
  std::string values() const {
    std::string s;
    for (const auto& [k, v] : scheduling_) s += (s.empty() ? "" : ", ") + std::to_string(v);
    return "[" + s + "]";
  }

  std::map<std::int64_t, std::int64_t> scheduling_;
};

}  // namespace volt
