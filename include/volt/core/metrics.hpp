#pragma once
// What ctx.log() records. Values stay tensors until someone reads them, so logging every step
// costs no device sync; epoch aggregates are a running weighted sum, also kept as tensors.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include <volt/core/hook_family.hpp>
#include <volt/core/step_seam.hpp>
#include <volt/detail/config.hpp>

namespace volt {

enum class Reduce { mean, sum, min, max };

struct LogOptions {
  std::optional<bool> on_step{};   // default: true in training_step hooks, false elsewhere
  std::optional<bool> on_epoch{};  // default: false in training_step hooks, true elsewhere
  bool prog_bar = false;
  bool logger = true;
  Reduce reduce_fx = Reduce::mean;
  std::optional<std::int64_t> batch_size{};  // weight of this value in the epoch mean
  // Across processes (DDP): an on-step value is reduced with reduce_fx at once; an on-epoch mean
  // is the batch-size-weighted mean over every rank's values (sum, min, max: over all ranks).
  bool sync_dist = false;
};

class MetricStore {
 public:
  // Declared here, defaulted in the .ipp: in the separately compiled mode a user TU calls them
  // instead of compiling the members' map / json / string destructors and moves again.
  VOLT_INLINE MetricStore();
  VOLT_INLINE MetricStore(const MetricStore&);
  VOLT_INLINE MetricStore(MetricStore&&) noexcept;
  VOLT_INLINE MetricStore& operator=(const MetricStore&);
  VOLT_INLINE MetricStore& operator=(MetricStore&&) noexcept;
  VOLT_INLINE ~MetricStore();

  // Records one logged value. `family` decides the on_step/on_epoch defaults as Lightning does.
  VOLT_INLINE void log(std::string_view name, const torch::Tensor& value, const LogOptions& opts, HookFamily family,
           std::int64_t inferred_batch_size, std::string_view hook = {});

  // A stateful metric logged with ctx.log(name, metric): kept until its loop's epoch ends, then
  // computed and reset, as Lightning does with torchmetrics objects. `compute_and_reset(true)`
  // returns the metric's value and resets it; `compute_and_reset(false)` only resets it.
  VOLT_INLINE void log_metric(std::string_view name, std::function<torch::Tensor(bool)> compute_and_reset, const LogOptions& opts,
                  HookFamily family, std::string_view hook = {});

  // Ends an epoch of the loop whose hooks have `family` (train_step and train_epoch end together):
  // turns its accumulators into `name` (or `name_epoch`) values, and returns those values.
  VOLT_INLINE std::map<std::string, double> end_epoch(HookFamily family);

  // What loggers get: the step values logged since the last call (read, i.e. synced, only now:
  // once every log_every_n_steps), and the epoch values produced since the last call.
  std::map<std::string, double> take_step_logs() { return take(pending_step_); }
  std::map<std::string, double> take_epoch_logs() { return take(pending_epoch_); }
  bool has_pending_epoch_logs() const noexcept { return !pending_epoch_.empty(); }
  // Everything handed to loggers so far, latest value per key (Lightning's logged_metrics).
  const std::map<std::string, double>& logged_metrics() const noexcept { return logged_; }

  // Everything above as JSON, for checkpoints: a resumed run continues its epoch means and
  // logs exactly where the interrupted one stopped.
  VOLT_INLINE nlohmann::json state() const;
  VOLT_INLINE void load_state(const nlohmann::json& j);

  // The strategy's reduce, for sync_dist (set by the loops when a run has several processes).
  using SyncFn = std::function<torch::Tensor(const torch::Tensor&, ReduceOp)>;
  void set_sync_dist(SyncFn reduce) { sync_ = std::move(reduce); }

  // Forgets everything (used after the sanity check: Lightning discards what it logged, and
  // resets the metric objects logged).
  VOLT_INLINE void reset();

  // The latest value of every metric, for callbacks and schedulers (reads sync the device).
  std::map<std::string, double> callback_metrics() const { return to_doubles(callback_); }
  std::map<std::string, double> progress_bar_metrics() const { return to_doubles(progress_); }
  VOLT_INLINE std::optional<double> metric(const std::string& name) const;

 private:
  // Lightning allows logging only from the training, validation and test hooks.
  VOLT_INLINE static void check_loggable(std::string_view name, HookFamily family, std::string_view hook);

  using TensorMap = std::map<std::string, torch::Tensor, std::less<>>;

  struct Accumulator {
    torch::Tensor total;   // running weighted sum / min / max
    double weight = 0.0;
    Reduce reduce = Reduce::mean;
    HookFamily family = HookFamily::none;
    LogOptions opts{};
    bool both = false;
    void add(const torch::Tensor& v, Reduce r, std::int64_t w) {
      reduce = r;
      auto x = v.to(torch::kFloat64);
      if (!total.defined()) {
        total = r == Reduce::mean ? x * static_cast<double>(w) : x.clone();
      } else {
        switch (r) {
          case Reduce::mean: total = total + x * static_cast<double>(w); break;
          case Reduce::sum: total = total + x; break;
          case Reduce::min: total = torch::minimum(total, x); break;
          case Reduce::max: total = torch::maximum(total, x); break;
        }
      }
      weight += static_cast<double>(w);
    }
    torch::Tensor value() const { return reduce == Reduce::mean ? total / weight : total; }
    // Over every rank: the weighted sum and the weight are summed, then divided (Lightning).
    torch::Tensor synced_value(const SyncFn& sync) const {
      if (reduce != Reduce::mean) return sync(total, reduce_op(reduce));
      const auto both = sync(torch::stack({total.reshape({}), torch::tensor(weight, torch::kFloat64)}), ReduceOp::sum);
      return both[0] / both[1];
    }
  };
  VOLT_INLINE static ReduceOp reduce_op(Reduce r) noexcept;

  VOLT_INLINE std::map<std::string, double> take(TensorMap& pending);

  VOLT_INLINE static nlohmann::json tensors_to_json(const TensorMap& m);
  VOLT_INLINE static TensorMap tensors_from_json(const nlohmann::json& j);

  VOLT_INLINE static std::map<std::string, double> to_doubles(const TensorMap& m);

  template <class Map>
  static typename Map::mapped_type& slot(Map& map, std::string_view key) {
    auto it = map.find(key);
    if (it == map.end()) it = map.emplace(std::string(key), typename Map::mapped_type{}).first;
    return it->second;
  }

  struct MetricObject {
    std::function<torch::Tensor(bool)> compute_and_reset;
    HookFamily family = HookFamily::none;
    LogOptions opts{};
  };

  TensorMap callback_, progress_, pending_step_, pending_epoch_;
  std::map<std::string, MetricObject, std::less<>> metric_objects_;
  std::map<std::string, double> logged_;
  std::map<std::string, Accumulator, std::less<>> epoch_;
  std::string step_key_;
  SyncFn sync_{};
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/core/impl/metrics.ipp>
#endif
