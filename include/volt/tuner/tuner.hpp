#pragma once
// volt::Tuner: Lightning's Tuner(trainer).lr_find(...) and .scale_batch_size(...).
//
// Each search runs real fits of the module on the DataModule, on a Trainer of the same Module,
// DataModule, Strategy and Precision whose only callback is the search's own (Lightning swaps
// trainer.callbacks the same way), with logging, checkpointing, the progress bar and the model
// summary off. Before the search the module's parameters, gradients, buffers, requires_grad flags
// and train/eval modes, torch's random generators, and the state of every optimizer the fits see
// (a module may own its optimizer) are taken; afterwards they are put back bit for bit, also when
// the search throws. The Trainer given to the Tuner is not run: its state is untouched.
#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/optim/optimizer_state.hpp>
#include <volt/trainer.hpp>
#include <volt/tuner/batch_size_scaling.hpp>
#include <volt/tuner/lr_finder.hpp>

namespace volt::tuner {

// Where a module keeps the learning rate lr_find(update_attr = true) sets (Lightning looks for
// `lr` or `learning_rate` on the model or its hparams).
template <class M>
concept LearningRateAttribute = requires(M& m) { requires std::floating_point<std::remove_cvref_t<decltype(m.lr)>>; } ||
                                requires(M& m) {
                                  requires std::floating_point<std::remove_cvref_t<decltype(m.learning_rate)>>;
                                } ||
                                requires(M& m) { requires std::floating_point<std::remove_cvref_t<decltype(m.hparams.lr)>>; } ||
                                requires(M& m) { requires std::floating_point<std::remove_cvref_t<decltype(m.hp.lr)>>; };

template <LearningRateAttribute M>
void set_learning_rate(M& m, double lr) {
  if constexpr (requires { requires std::floating_point<std::remove_cvref_t<decltype(m.lr)>>; }) m.lr = lr;
  else if constexpr (requires { requires std::floating_point<std::remove_cvref_t<decltype(m.learning_rate)>>; })
    m.learning_rate = lr;
  else if constexpr (requires { requires std::floating_point<std::remove_cvref_t<decltype(m.hparams.lr)>>; })
    m.hparams.lr = lr;
  else m.hp.lr = lr;
}

// The module and torch's random generators as they were before a search (see the top).
class TrainingSnapshot {
 public:
  explicit TrainingSnapshot(torch::nn::Module& module) : module_(module) {
    for (const auto& p : module.parameters()) {
      params_.push_back(p.detach().clone());
      grads_.push_back(p.grad().defined() ? p.grad().detach().clone() : torch::Tensor{});
      requires_grad_.push_back(p.requires_grad());
    }
    for (const auto& b : module.buffers()) buffers_.push_back(b.detach().clone());
    // modules(include_self = true) needs the module in a shared_ptr: the module itself comes first here
    training_.push_back(module.is_training());
    for (const auto& m : module.modules(/*include_self=*/false)) training_.push_back(m->is_training());
    cpu_rng_ = at::detail::getDefaultCPUGenerator().get_state();
    if (torch::cuda::is_available())
      for (int i = 0; i < static_cast<int>(torch::cuda::device_count()); ++i)
        cuda_rng_.push_back(at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i))).get_state());
  }

  void restore() const {
    torch::NoGradGuard no_grad;
    auto params = module_.parameters();
    for (std::size_t i = 0; i < params.size() && i < params_.size(); ++i) {
      params[i].copy_(params_[i]);
      params[i].mutable_grad() = grads_[i].defined() ? grads_[i].clone() : torch::Tensor{};
      params[i].set_requires_grad(requires_grad_[i]);
    }
    auto buffers = module_.buffers();
    for (std::size_t i = 0; i < buffers.size() && i < buffers_.size(); ++i) buffers[i].copy_(buffers_[i]);
    // train(bool) recurses into children: parents first (modules() is in pre-order), so each
    // child's own flag is set after its parent's
    std::vector<torch::nn::Module*> modules{&module_};
    for (const auto& m : module_.modules(/*include_self=*/false)) modules.push_back(m.get());
    for (std::size_t i = 0; i < modules.size() && i < training_.size(); ++i) modules[i]->train(training_[i]);
    at::Generator cpu = at::detail::getDefaultCPUGenerator();
    cpu.set_state(cpu_rng_);
    for (std::size_t i = 0; i < cuda_rng_.size(); ++i) {
      at::Generator cuda =
          at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i)));
      cuda.set_state(cuda_rng_[i]);
    }
  }

 private:
  torch::nn::Module& module_;
  std::vector<torch::Tensor> params_, grads_, buffers_;
  std::vector<bool> requires_grad_, training_;
  torch::Tensor cpu_rng_;
  std::vector<torch::Tensor> cuda_rng_;
};

// Puts back the state of the optimizers a search's fit sees (on_fit_start) when that fit ends,
// so a module that owns its optimizer finds it as it was.
class OptimizerStateGuard {
 public:
  void on_fit_start(Context& ctx) {
    saved_.clear();
    for (auto* optimizer : ctx.raw_optimizers()) {
      std::ostringstream bytes;
      auto archive = ::volt::optim::new_output_archive();
      optimizer->save(archive);
      archive.save_to(bytes);
      std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> options;
      for (auto& group : optimizer->param_groups()) options.push_back(group.options().clone());
      saved_.push_back({optimizer, bytes.str(), std::move(options)});
    }
  }
  void on_fit_end(Context&) { restore(); }
  void on_exception(const std::exception&, Context&) { restore(); }

 private:
  void restore() {
    for (auto& saved : saved_) {
      std::istringstream in(saved.state);
      torch::serialize::InputArchive archive;
      archive.load_from(in);
      saved.optimizer->load(archive);
      // the archive's load keeps the groups' current options (the search's lr): put them back too
      auto& groups = saved.optimizer->param_groups();
      for (std::size_t i = 0; i < groups.size() && i < saved.options.size(); ++i)
        groups[i].set_options(std::move(saved.options[i]));
    }
    saved_.clear();
  }
  struct Saved {
    torch::optim::Optimizer* optimizer;
    std::string state;
    std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> options;
  };
  std::vector<Saved> saved_;
};

// lr_find's callback: the search, then the optimizer restore (on_fit_start runs in this order).
class LRFindRun : public LRFinderCallback, public OptimizerStateGuard {
 public:
  using LRFinderCallback::LRFinderCallback;
  void on_fit_start(Context& ctx) {
    OptimizerStateGuard::on_fit_start(ctx);
    LRFinderCallback::on_fit_start(ctx);
  }
  using OptimizerStateGuard::on_exception;
  using OptimizerStateGuard::on_fit_end;
};

// A scale_batch_size trial's callback: times the steps after the first (warm-up) one and samples
// the resident memory where a step's memory peaks.
class BatchSizeTrialRun : public OptimizerStateGuard {
 public:
  void on_after_backward(Context&) { peak_bytes = std::max(peak_bytes, resident_memory_bytes()); }
  template <class Output, class Batch>
  void on_train_batch_end(const Output&, const Batch&, std::int64_t, Context& ctx) {
    const auto now = std::chrono::steady_clock::now();
    peak_bytes = std::max(peak_bytes, resident_memory_bytes());
    batches_per_epoch = ctx.num_training_batches();
    if (!timing_) {
      if (ctx.global_step() >= 1) timing_ = true, started_ = now;  // the warm-up step is done
      return;
    }
    samples += ctx.state().batch_size;
    seconds = std::chrono::duration<double>(now - started_).count();
  }
  std::int64_t samples = 0;
  double seconds = 0.0;
  std::int64_t batches_per_epoch = -1;
  std::int64_t peak_bytes = -1;

 private:
  bool timing_ = false;
  std::chrono::steady_clock::time_point started_{};
};

namespace detail {
inline bool is_out_of_memory(const std::exception& error) {
  const std::string_view what = error.what();
  return what.find("out of memory") != std::string_view::npos ||
         what.find("can't allocate memory") != std::string_view::npos ||
         dynamic_cast<const std::bad_alloc*>(&error) != nullptr;
}
}  // namespace detail

template <class TrainerT>
class Tuner {
 public:
  using Module = typename TrainerT::module_type;
  using DataModule = typename TrainerT::datamodule_type;
  using StrategyT = typename TrainerT::strategy_type;
  using PrecisionT = typename TrainerT::precision_type;

  explicit Tuner(TrainerT& trainer) noexcept : trainer_(trainer) {}

  // Lightning's Tuner.lr_find. nullopt with fast_dev_run (Lightning skips the search then).
  std::optional<LRFinderResult> lr_find(Module& module, DataModule& data, LRFindOptions options = {}) {
    options.validate();
    if (options.update_attr) {
      if constexpr (!LearningRateAttribute<Module>)
        throw std::invalid_argument(
            "volt: lr_find(update_attr=true) found no learning rate on the module: add a floating-point member `lr` "
            "or `learning_rate` (or hparams.lr / hp.lr) and read it in configure_optimizers, or leave update_attr "
            "off and use result.suggestion().");
    }
    if (trainer_.options().fast_dev_run.batches() > 0) {
      fmt::print(stderr, "volt: skipping the learning rate finder since fast_dev_run is on.\n");
      return std::nullopt;
    }
    TrainerOptions search = quiet_options();
    search.max_steps = options.num_training;
    search.limit_val_batches = options.num_training;  // Lightning's value during the search
    Trainer<Module, DataModule, StrategyT, PrecisionT, LRFindRun> finder(search, strategy_copy(), precision_copy(),
                                                                         LRFindRun(options));
    const TrainingSnapshot snapshot(module);
    try {
      finder.fit(module, data);
    } catch (...) {
      snapshot.restore();
      throw;
    }
    snapshot.restore();
    const auto& found = std::get<LRFindRun>(finder.callbacks());
    LRFinderResult result{options.mode, options.min_lr, options.max_lr, options.num_training, found.lrs(),
                          found.losses()};
    result.lrs.resize(std::min(result.lrs.size(), result.losses.size()));
    if (options.update_attr) {
      if constexpr (LearningRateAttribute<Module>)
        if (const auto lr = result.suggestion()) set_learning_rate(module, *lr);
    }
    // Into the folder the trainer's next fit logs to (its first logger's version_N, else
    // default_root_dir), where the HTML report looks for it.
    if (trainer_.state().global_rank == 0) result.save_csv(trainer_.log_dir() / "lr_find.csv");
    return result;
  }

  // Lightning's Tuner.scale_batch_size, with the CPU measurements described in
  // tuner/batch_size_scaling.hpp. Sets the pick on the DataModule and returns every trial.
  std::optional<BatchSizeResult> scale_batch_size(Module& module, DataModule& data,
                                                  ScaleBatchSizeOptions options = {}) {
    if constexpr (!BatchSizeDataModule<DataModule>) {
      static_assert(diagnostic::scale_batch_size_needs_a_batch_size<DataModule>::value,
                    "volt: scale_batch_size needs to find the DataModule's batch size: give it an integer member "
                    "`batch_size` (or `batch_size()` with `set_batch_size(n)`, or `options.batch_size`) that its "
                    "train_dataloader() reads.");
      return std::nullopt;
    } else {
      options.validate();
      if (trainer_.options().fast_dev_run.batches() > 0) {
        fmt::print(stderr, "volt: skipping the batch size finder since fast_dev_run is on.\n");
        return std::nullopt;
      }
      std::int64_t cap = options.memory_cap_bytes.value_or(-1);
      if (!options.memory_cap_bytes) {
        const auto budget = memory_budget_bytes();
        if (budget > 0) cap = static_cast<std::int64_t>(options.memory_fraction * static_cast<double>(budget));
      }
      const std::int64_t original = get_batch_size(data);
      const TrainingSnapshot snapshot(module);
      BatchSizeResult result;
      try {
        search(module, data, options, cap, result);
      } catch (...) {
        snapshot.restore();
        set_batch_size(data, original);
        throw;
      }
      snapshot.restore();
      const auto pick = pick_batch_size(result.trials, options.tolerance);
      if (!pick) {
        set_batch_size(data, original);
        throw std::runtime_error(fmt::format(
            "volt: scale_batch_size: no batch size ran ({}); the smallest tried was out of memory. Free memory, "
            "shrink the model, or raise memory_cap_bytes.",
            result.stop_reason));
      }
      result.batch_size = *pick;
      set_batch_size(data, *pick);
      if (trainer_.state().global_rank == 0) fmt::print("{}", result.table());
      return result;
    }
  }

 private:
  TrainerOptions quiet_options() const {
    TrainerOptions o = trainer_.options();
    o.logger = false;
    o.enable_checkpointing = false;
    o.enable_progress_bar = false;
    o.enable_model_summary = false;
    o.num_sanity_val_steps = 0;
    o.max_time.reset();
    return o;
  }
  StrategyT strategy_copy() {
    if constexpr (std::copy_constructible<StrategyT>) return StrategyT(trainer_.strategy());
    else return StrategyT{};
  }
  PrecisionT precision_copy() {
    if constexpr (std::copy_constructible<PrecisionT>) return PrecisionT(trainer_.precision());
    else return PrecisionT{};
  }

  // One trial: steps_per_trial timed steps after one warm-up step, at the DataModule's batch size.
  BatchSizeTrial trial(Module& module, DataModule& data, const ScaleBatchSizeOptions& options, std::int64_t cap,
                       std::int64_t& batches_per_epoch, std::int64_t& predicted_next_peak) {
    BatchSizeTrial t;
    t.batch_size = get_batch_size(data);
    TrainerOptions o = quiet_options();
    o.max_epochs.reset();  // max_steps alone ends the trial, also on a data set of few batches
    o.max_steps = options.steps_per_trial + 1;
    o.limit_train_batches = 1.0;
    o.limit_val_batches = 0;  // throughput of training alone
    Trainer<Module, DataModule, StrategyT, PrecisionT, BatchSizeTrialRun> runner(o, strategy_copy(), precision_copy(),
                                                                                BatchSizeTrialRun{});
    const TrainingSnapshot snapshot(module);
    const std::int64_t baseline = std::max<std::int64_t>(resident_memory_bytes(), 0);
    try {
      runner.fit(module, data);
    } catch (const std::exception& error) {
      snapshot.restore();
      if (!detail::is_out_of_memory(error)) throw;
      t.outcome = TrialOutcome::out_of_memory;
      return t;
    }
    snapshot.restore();
    const auto& run = std::get<BatchSizeTrialRun>(runner.callbacks());
    batches_per_epoch = run.batches_per_epoch;
    t.samples_per_second = run.seconds > 0 ? static_cast<double>(run.samples) / run.seconds : 0.0;
    t.peak_memory_bytes = run.peak_bytes;
    predicted_next_peak = t.peak_memory_bytes < 0 ? -1 : t.peak_memory_bytes + (t.peak_memory_bytes - baseline);
    if (cap > 0 && t.peak_memory_bytes > cap) t.outcome = TrialOutcome::over_memory_cap;
    return t;
  }

  void search(Module& module, DataModule& data, const ScaleBatchSizeOptions& options, std::int64_t cap,
              BatchSizeResult& result) {
    std::int64_t size = options.init_val;
    if (options.max_val) size = std::min(size, *options.max_val);
    std::int64_t low = 1, high = -1;  // binsearch: largest size that ran, smallest that failed
    int weak_gains = 0;
    double last_throughput = -1.0;
    bool any_success = false;
    for (std::int64_t n = 0;; ++n) {
      if (n >= options.max_trials) {
        result.stop_reason = fmt::format("max_trials={} reached", options.max_trials);
        return;
      }
      set_batch_size(data, size);
      std::int64_t batches_per_epoch = -1, predicted = -1;
      const BatchSizeTrial t = trial(module, data, options, cap, batches_per_epoch, predicted);
      result.trials.push_back(t);
      if (t.outcome != TrialOutcome::ok) {
        const std::string why = fmt::format("batch size {}: {}", size, to_string(t.outcome));
        if (options.mode == BatchSizeMode::power) {
          if (any_success || size <= 1) {
            result.stop_reason = why;
            return;
          }
          size /= 2;
        } else {
          high = size;
          size = (high + low) / 2;
          if (high - low <= 1 || size < 1) {
            result.stop_reason = why;
            return;
          }
        }
        continue;
      }
      any_success = true;
      low = size;
      if (options.mode == BatchSizeMode::binsearch && high > 0) {
        if (high - low <= 1) {
          result.stop_reason = fmt::format("binary search closed between {} and {}", low, high);
          return;
        }
        size = (high + low) / 2;
        continue;
      }
      // doubling: the CPU stop rules
      if (last_throughput > 0.0) {
        weak_gains = t.samples_per_second < (1.0 + options.min_gain) * last_throughput ? weak_gains + 1 : 0;
        if (weak_gains >= 2) {
          result.stop_reason = fmt::format("doubling gained under {:.0f}% twice in a row", options.min_gain * 100);
          return;
        }
      }
      last_throughput = t.samples_per_second;
      if (batches_per_epoch == 1) {
        result.stop_reason = fmt::format("batch size {} holds the whole data set", size);
        return;
      }
      if (options.max_val && size >= *options.max_val) {
        result.stop_reason = fmt::format("max_val={} reached", *options.max_val);
        return;
      }
      if (cap > 0 && predicted > cap) {
        result.stop_reason = fmt::format("batch size {} would pass the memory cap of {:.0f} MiB", size * 2,
                                         static_cast<double>(cap) / (1024.0 * 1024.0));
        return;
      }
      size *= 2;
      if (options.max_val) size = std::min(size, *options.max_val);
    }
  }

  TrainerT& trainer_;
};

}  // namespace volt::tuner

namespace volt {
using tuner::Tuner;
}  // namespace volt
