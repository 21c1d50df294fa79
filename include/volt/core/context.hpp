#pragma once
// volt::Context: what a hook sees of the run (Lightning's `self.log`, `self.current_epoch`,
// `self.global_step`, `self.device`, `self.trainer.should_stop`, ...). One concrete class,
// so user hooks can name it in their signatures; it only points at state the Trainer owns.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <torch/torch.h>

#include <volt/core/hook_family.hpp>
#include <volt/core/metrics.hpp>
#include <volt/core/stage.hpp>

namespace volt {

// The Trainer's run state that hooks may read.
struct RunState {
  std::int64_t current_epoch = 0;
  std::int64_t global_step = 0;  // optimizer steps taken, as in Lightning
  Stage stage = Stage::fit;
  HookFamily family = HookFamily::none;
  bool sanity_checking = false;
  bool should_stop = false;
  std::int64_t batch_size = 1;  // of the batch in flight: the weight of logged epoch means
  torch::Device device{torch::kCPU};
  std::int64_t global_rank = 0;
  std::int64_t local_rank = 0;
  std::int64_t world_size = 1;
};

class Context {
 public:
  Context(RunState& state, MetricStore& metrics, torch::nn::Module& module) noexcept
      : state_(&state), metrics_(&metrics), module_(&module) {}

  void log(std::string_view name, const torch::Tensor& value, const LogOptions& opts = {}) {
    metrics_->log(name, value, opts, state_->family, state_->batch_size);
  }
  void log(std::string_view name, double value, const LogOptions& opts = {}) {
    log(name, torch::tensor(value, torch::kFloat64), opts);
  }
  template <class Map>
  void log_dict(const Map& values, const LogOptions& opts = {}) {
    for (const auto& [name, value] : values) log(name, value, opts);
  }

  std::int64_t current_epoch() const noexcept { return state_->current_epoch; }
  std::int64_t global_step() const noexcept { return state_->global_step; }
  Stage stage() const noexcept { return state_->stage; }
  bool sanity_checking() const noexcept { return state_->sanity_checking; }
  torch::Device device() const noexcept { return state_->device; }
  std::int64_t global_rank() const noexcept { return state_->global_rank; }
  std::int64_t local_rank() const noexcept { return state_->local_rank; }
  std::int64_t world_size() const noexcept { return state_->world_size; }
  bool is_global_zero() const noexcept { return state_->global_rank == 0; }

  // Lightning's `trainer.should_stop = True`: fit ends after the current batch
  // (once min_epochs / min_steps are met).
  void request_stop() noexcept { state_->should_stop = true; }
  bool should_stop() const noexcept { return state_->should_stop; }

  std::map<std::string, double> callback_metrics() const { return metrics_->callback_metrics(); }
  std::map<std::string, double> progress_bar_metrics() const { return metrics_->progress_bar_metrics(); }
  std::optional<double> metric(const std::string& name) const { return metrics_->metric(name); }

  // The module being trained, for callbacks (Lightning passes `pl_module` to every callback hook).
  torch::nn::Module& module() const noexcept { return *module_; }

 private:
  RunState* state_;
  MetricStore* metrics_;
  torch::nn::Module* module_;
};

}  // namespace volt
