#pragma once
// volt::Context: what a hook sees of the run (Lightning's `self.log`, `self.current_epoch`,
// `self.global_step`, `self.device`, `self.trainer.should_stop`, ...). One concrete class,
// so user hooks can name it in their signatures; it only points at state the Trainer owns.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <utility>
#include <vector>
#include <map>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/hook_family.hpp>
#include <volt/core/metrics.hpp>
#include <volt/core/run_facade.hpp>
#include <volt/core/stage.hpp>
#include <volt/core/trainer_options.hpp>

namespace volt {

// The Trainer's run state that hooks may read.
struct RunState {
  std::int64_t current_epoch = 0;
  std::int64_t global_step = 0;  // optimizer steps taken, as in Lightning
  Stage stage = Stage::fit;
  HookFamily family = HookFamily::none;
  std::string_view hook{};  // the hook running now, for messages (e.g. logging where it is not allowed)
  bool sanity_checking = false;
  bool should_stop = false;
  std::int64_t batch_size = 1;  // of the batch in flight: the weight of logged epoch means
  torch::Device device{torch::kCPU};
  std::int64_t global_rank = 0;
  std::int64_t local_rank = 0;
  std::int64_t world_size = 1;
  // Current accumulation factor (Lightning's GradientAccumulationScheduler changes it per epoch).
  std::int64_t accumulate_grad_batches = 1;
  // Training batches per epoch after limits (-1: unknown until the loader ends).
  std::int64_t num_training_batches = -1;
  std::filesystem::path default_root_dir = ".";
  // The first logger's <save_dir>/<name>/version_<N> (empty: the run has no logger); ModelCheckpoint's default dirpath is its checkpoints/.
  std::filesystem::path first_logger_dir{};
  const TrainerOptions* options = nullptr;  // the effective options of the run
  std::int64_t num_val_batches = -1;        // validation batches per run in fit (-1: unknown, 0: none)
  // Batches of the evaluation or predict loop now running (-1: the loader cannot tell), for the
  // progress bar's total.
  std::int64_t num_eval_batches = -1;
  // Metrics a callback monitors (ModelCheckpoint, EarlyStopping): the progress bar shows them first.
  std::vector<std::string> monitored_metrics{};
  // Why fit ended (EarlyStopping, max_time, max_steps, max_epochs), one line for the person watching.
  std::string stop_reason{};
  // Loop progress, saved in checkpoints: batches of the current epoch done, and whether the
  // epoch's end (epoch-end hooks) has been reached, so a resume starts at the right batch.
  // batches_done counts a batch once its optimizer step is in the weights, before the hooks that
  // may save run; validated_batches is batches_done when the epoch's latest validation started,
  // so a checkpoint saved between a batch and its due validation resumes into that validation.
  std::int64_t batches_done = 0;
  std::int64_t validated_batches = 0;
  bool epoch_complete = false;
  std::int64_t resume_skip = 0;  // batches of the first epoch a resumed fit skips
  bool preempted = false;        // a SIGTERM / SIGUSR1 ended the fit at a batch boundary
  bool exception_reported = false;  // on_exception already ran for the error in flight
  RunFacade facade{};  // what hooks may ask of the running Trainer (core/run_facade.hpp)
  // Parameters toggle_optimizer switched off, restored by untoggle_optimizer.
  std::vector<torch::Tensor> toggled_off{};
};

class Context;

// Lightning's LightningOptimizer, for manual optimization: step() runs the precision's step
// and the on_before_optimizer_step hooks and counts a global step; the torch optimizer itself
// is one `->` away.
class ManualOptimizer {
 public:
  ManualOptimizer(RunState& state, torch::optim::Optimizer& optimizer, std::size_t index) noexcept
      : state_(&state), optimizer_(&optimizer), index_(index) {}
  // Through the strategy and precision; a closure (for LBFGS) is run by the optimizer's step.
  void step(const torch::optim::Optimizer::LossClosure& closure = nullptr) {
    state_->facade.optimizer_step(index_, closure);
  }
  void zero_grad() { optimizer_->zero_grad(); }
  torch::optim::Optimizer& optimizer() const noexcept { return *optimizer_; }
  torch::optim::Optimizer* operator->() const noexcept { return optimizer_; }
  std::size_t index() const noexcept { return index_; }

 private:
  RunState* state_;
  torch::optim::Optimizer* optimizer_;
  std::size_t index_;
};

class Context {
 public:
  Context(RunState& state, MetricStore& metrics, torch::nn::Module& module) noexcept
      : state_(&state), metrics_(&metrics), module_(&module) {}

  void log(std::string_view name, const torch::Tensor& value, const LogOptions& opts = {}) {
    if (state_->options && state_->options->barebones)
      throw std::logic_error(fmt::format("volt: ctx.log(\"{}\") is not available with barebones=true (Lightning's "
                                         "rule: barebones measures the loop alone); remove the call or barebones.",
                                         name));
    metrics_->log(name, value, opts, state_->family, state_->batch_size, state_->hook);
  }
  void log(std::string_view name, double value, const LogOptions& opts = {}) {
    log(name, torch::tensor(value, torch::kFloat64), opts);
  }
  // A stateful metric (volt::metrics, or any type with compute() and reset()): computed at the
  // end of the epoch of the hook that logs it, then reset, as Lightning logs torchmetrics objects.
  template <class M>
    requires requires(M& m) {
      { m.compute() } -> std::convertible_to<torch::Tensor>;
      m.reset();
    }
  void log(std::string_view name, M& metric, const LogOptions& opts = {}) {
    if (state_->options && state_->options->barebones)
      throw std::logic_error(fmt::format("volt: ctx.log(\"{}\") is not available with barebones=true (Lightning's "
                                         "rule: barebones measures the loop alone); remove the call or barebones.",
                                         name));
    metrics_->log_metric(
        name,
        [&metric](bool compute) {
          torch::Tensor value = compute ? torch::Tensor(metric.compute()) : torch::Tensor{};
          metric.reset();
          return value;
        },
        opts, state_->family, state_->hook);
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
  // `reason`, when given, is the line the progress bar prints when fit ends.
  void request_stop(std::string_view reason = {}) {
    state_->should_stop = true;
    if (!reason.empty()) state_->stop_reason = reason;
  }
  bool should_stop() const noexcept { return state_->should_stop; }

  std::map<std::string, double> callback_metrics() const { return metrics_->callback_metrics(); }
  std::map<std::string, double> progress_bar_metrics() const { return metrics_->progress_bar_metrics(); }
  std::optional<double> metric(const std::string& name) const { return metrics_->metric(name); }

  // Writes a checkpoint of the fit in progress (Lightning's trainer.save_checkpoint): atomic,
  // so a crash mid-write leaves an earlier file at `path` intact.
  void save_checkpoint(const std::filesystem::path& path, bool weights_only = false) const {
    if (!can_save_checkpoint())
      throw std::logic_error("volt: ctx.save_checkpoint() is only available while trainer.fit() runs.");
    state_->facade.save_checkpoint(path, weights_only);
  }
  bool can_save_checkpoint() const noexcept { return static_cast<bool>(state_->facade.save_checkpoint); }
  // Each optimizer's learning rate, named as Lightning's LearningRateMonitor names them.
  std::vector<std::pair<std::string, double>> learning_rates() const {
    if (!state_->facade.learning_rates) return {};
    return state_->facade.learning_rates();
  }
  // The optimizers configure_optimizers returned (empty outside fit).
  std::vector<torch::optim::Optimizer*> optimizers() const { return state_->facade.optimizers; }
  // Manual optimization (a module with `static constexpr bool automatic_optimization = false`).
  ManualOptimizer optimizer(std::size_t index = 0) const {
    const auto& all = state_->facade.optimizers;
    if (index >= all.size())
      throw std::out_of_range("volt: ctx.optimizer(" + std::to_string(index) + "): configure_optimizers returned " +
                              std::to_string(all.size()) + " optimizer(s).");
    return ManualOptimizer(*state_, *all[index], index);
  }
  // Through the strategy and precision, with on_before_backward / the module's backward /
  // on_after_backward, as automatic optimization does.
  void manual_backward(const torch::Tensor& loss) const {
    if (!state_->facade.manual_backward)
      throw std::logic_error("volt: ctx.manual_backward() is only available while trainer.fit() runs.");
    state_->facade.manual_backward(loss);
  }
  // Steps the scheduler configure_optimizers paired with optimizer `index` (manual optimization).
  void lr_scheduler_step(std::size_t index = 0) const {
    if (!state_->facade.lr_scheduler_step)
      throw std::logic_error("volt: ctx.lr_scheduler_step() is only available while trainer.fit() runs.");
    state_->facade.lr_scheduler_step(index);
  }
  // The strategy's collectives (Lightning's self.all_gather, trainer.strategy.reduce / broadcast /
  // barrier): the identity on one process; available from setup to teardown of every stage.
  torch::Tensor reduce(const torch::Tensor& tensor, ReduceOp op = ReduceOp::mean) const {
    return collective(state_->facade.reduce, "reduce")(tensor, op);
  }
  torch::Tensor all_gather(const torch::Tensor& tensor) const {
    return collective(state_->facade.all_gather, "all_gather")(tensor);
  }
  torch::Tensor broadcast(const torch::Tensor& tensor, std::int64_t src = 0) const {
    return collective(state_->facade.broadcast, "broadcast")(tensor, src);
  }
  void barrier() const { collective(state_->facade.barrier, "barrier")(); }
  // Lightning's toggle_optimizer: only optimizer `index`'s parameters require grad until
  // untoggle_optimizer() (for GAN-style alternating updates).
  void toggle_optimizer(std::size_t index) const {
    untoggle_optimizer();
    auto& opt = *optimizers().at(index);
    std::vector<const c10::TensorImpl*> mine;
    for (auto& group : opt.param_groups())
      for (auto& p : group.params()) mine.push_back(p.unsafeGetTensorImpl());
    for (auto& p : module_->parameters()) {
      if (p.requires_grad() && std::find(mine.begin(), mine.end(), p.unsafeGetTensorImpl()) == mine.end()) {
        p.set_requires_grad(false);
        state_->toggled_off.push_back(p);
      }
    }
  }
  void untoggle_optimizer() const {
    for (auto& p : state_->toggled_off) p.set_requires_grad(true);
    state_->toggled_off.clear();
  }
  // Lightning's clip_gradients (for manual optimization or configure_gradient_clipping).
  static void clip_gradients(torch::optim::Optimizer& optimizer, double clip_val, bool by_norm = true) {
    std::vector<torch::Tensor> params;
    for (auto& group : optimizer.param_groups())
      for (auto& p : group.params())
        if (p.grad().defined()) params.push_back(p);
    if (by_norm) torch::nn::utils::clip_grad_norm_(params, clip_val, 2.0);
    else torch::nn::utils::clip_grad_value_(params, clip_val);
  }

  std::int64_t accumulate_grad_batches() const noexcept { return state_->accumulate_grad_batches; }
  void set_accumulate_grad_batches(std::int64_t n) {
    if (n < 1) throw std::invalid_argument("volt: accumulate_grad_batches must be >= 1, got " + std::to_string(n));
    state_->accumulate_grad_batches = n;
  }
  std::int64_t num_training_batches() const noexcept { return state_->num_training_batches; }
  const std::filesystem::path& default_root_dir() const noexcept { return state_->default_root_dir; }
  const std::filesystem::path& first_logger_dir() const noexcept { return state_->first_logger_dir; }
  const RunState& state() const noexcept { return *state_; }

  // The module being trained, for callbacks (Lightning passes `pl_module` to every callback hook).
  torch::nn::Module& module() const noexcept { return *module_; }

 private:
  template <class Operation>
  static const Operation& collective(const Operation& operation, const char* name) {
    if (!operation)
      throw std::logic_error(fmt::format("volt: ctx.{}() is only available while the Trainer runs a stage (from setup "
                                         "to teardown).",
                                         name));
    return operation;
  }

  RunState* state_;
  MetricStore* metrics_;
  torch::nn::Module* module_;
};

}  // namespace volt
