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

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <volt/core/hook_family.hpp>
#include <volt/core/step_seam.hpp>

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
  // Records one logged value. `family` decides the on_step/on_epoch defaults as Lightning does.
  void log(std::string_view name, const torch::Tensor& value, const LogOptions& opts, HookFamily family,
           std::int64_t inferred_batch_size, std::string_view hook = {}) {
    check_loggable(name, family, hook);
    if (value.numel() != 1)
      throw std::invalid_argument(fmt::format(
          "volt: ctx.log(\"{}\") got a tensor with {} elements; log a scalar (e.g. loss.mean()).", name,
          value.numel()));
    const bool step_family = family == HookFamily::train_step;
    const bool on_step = opts.on_step.value_or(step_family);
    const bool on_epoch = opts.on_epoch.value_or(!step_family);
    // detach() and reshape({}) each allocate a TensorImpl; a logged loss is usually 0-d already,
    // and a value outside autograd has no graph to cut (both still share storage with `value`).
    auto v = value.requires_grad() ? value.detach() : value;
    if (v.dim() != 0) v = v.reshape({});
    const auto local = v;
    if (on_step && opts.sync_dist && sync_) v = sync_(v, reduce_op(opts.reduce_fx));
    // Keys are looked up as string_views (transparent maps), so a name logged before costs no
    // std::string; "name_step" is spelled in a buffer kept across calls.
    if (on_step) {
      std::string_view step_key = name;
      if (on_epoch) {
        step_key_.assign(name).append("_step");
        step_key = step_key_;
      }
      slot(callback_, step_key) = v;
      if (opts.logger) slot(pending_step_, step_key) = v;
      if (opts.prog_bar) slot(progress_, step_key) = v;
    }
    if (on_epoch) {
      auto& acc = slot(epoch_, name);
      const auto w = opts.batch_size.value_or(inferred_batch_size);
      acc.add(local, opts.reduce_fx, w);
      acc.family = family;
      acc.opts = opts;
      acc.both = on_step;
    }
  }

  // A stateful metric logged with ctx.log(name, metric): kept until its loop's epoch ends, then
  // computed and reset, as Lightning does with torchmetrics objects. `compute_and_reset(true)`
  // returns the metric's value and resets it; `compute_and_reset(false)` only resets it.
  void log_metric(std::string_view name, std::function<torch::Tensor(bool)> compute_and_reset, const LogOptions& opts,
                  HookFamily family, std::string_view hook = {}) {
    if (opts.on_step.value_or(false))
      throw std::invalid_argument(fmt::format(
          "volt: ctx.log(\"{}\", metric) with on_step = true: a metric object is computed once per epoch. Log its "
          "value per step with ctx.log(\"{}\", metric.compute()), or leave on_step unset.",
          name, name));
    if (opts.on_epoch.has_value() && !*opts.on_epoch)
      throw std::invalid_argument(fmt::format(
          "volt: ctx.log(\"{}\", metric) with on_epoch = false: a metric object is computed when the epoch ends; "
          "leave on_epoch unset.",
          name));
    check_loggable(name, family, hook);
    auto& entry = slot(metric_objects_, name);
    entry.compute_and_reset = std::move(compute_and_reset);
    entry.family = family;
    entry.opts = opts;
  }

  // Ends an epoch of the loop whose hooks have `family` (train_step and train_epoch end together):
  // turns its accumulators into `name` (or `name_epoch`) values, and returns those values.
  std::map<std::string, double> end_epoch(HookFamily family) {
    std::map<std::string, double> produced;
    for (auto it = metric_objects_.begin(); it != metric_objects_.end();) {
      const bool same_loop = it->second.family == family ||
                             (family == HookFamily::train_epoch && it->second.family == HookFamily::train_step);
      if (!same_loop) {
        ++it;
        continue;
      }
      const torch::Tensor v = it->second.compute_and_reset(true).detach().to(torch::kFloat64).reshape({});
      callback_[it->first] = v;
      produced.emplace(it->first, v.item<double>());
      if (it->second.opts.logger) pending_epoch_[it->first] = v;
      if (it->second.opts.prog_bar) progress_[it->first] = v;
      it = metric_objects_.erase(it);
    }
    for (auto it = epoch_.begin(); it != epoch_.end();) {
      const bool same_loop = it->second.family == family ||
                             (family == HookFamily::train_epoch && it->second.family == HookFamily::train_step);
      if (!same_loop) {
        ++it;
        continue;
      }
      auto v = it->second.opts.sync_dist && sync_ ? it->second.synced_value(sync_) : it->second.value();
      const std::string key = it->second.both ? it->first + "_epoch" : it->first;
      callback_[key] = v;
      produced.emplace(key, v.item<double>());
      if (it->second.opts.logger) pending_epoch_[key] = v;
      if (it->second.both) callback_[it->first] = v;
      if (it->second.opts.prog_bar) progress_[key] = v;
      it = epoch_.erase(it);
    }
    return produced;
  }

  // What loggers get: the step values logged since the last call (read, i.e. synced, only now:
  // once every log_every_n_steps), and the epoch values produced since the last call.
  std::map<std::string, double> take_step_logs() { return take(pending_step_); }
  std::map<std::string, double> take_epoch_logs() { return take(pending_epoch_); }
  bool has_pending_epoch_logs() const noexcept { return !pending_epoch_.empty(); }
  // Everything handed to loggers so far, latest value per key (Lightning's logged_metrics).
  const std::map<std::string, double>& logged_metrics() const noexcept { return logged_; }

  // Everything above as JSON, for checkpoints: a resumed run continues its epoch means and
  // logs exactly where the interrupted one stopped.
  nlohmann::json state() const {
    nlohmann::json j;
    j["callback"] = tensors_to_json(callback_);
    j["progress"] = tensors_to_json(progress_);
    j["pending_step"] = tensors_to_json(pending_step_);
    j["pending_epoch"] = tensors_to_json(pending_epoch_);
    j["logged"] = logged_;
    auto& acc = j["epoch"] = nlohmann::json::object();
    for (const auto& [k, a] : epoch_) {
      acc[k] = {{"total", a.total.item<double>()},
                {"weight", a.weight},
                {"reduce", static_cast<int>(a.reduce)},
                {"family", static_cast<int>(a.family)},
                {"prog_bar", a.opts.prog_bar},
                {"logger", a.opts.logger},
                {"both", a.both},
                {"sync_dist", a.opts.sync_dist}};
    }
    return j;
  }
  void load_state(const nlohmann::json& j) {
    MetricStore m;
    m.callback_ = tensors_from_json(j.at("callback"));
    m.progress_ = tensors_from_json(j.at("progress"));
    m.pending_step_ = tensors_from_json(j.at("pending_step"));
    m.pending_epoch_ = tensors_from_json(j.at("pending_epoch"));
    m.logged_ = j.at("logged").get<std::map<std::string, double>>();
    for (const auto& [k, a] : j.at("epoch").items()) {
      Accumulator acc;
      acc.total = torch::tensor(a.at("total").get<double>(), torch::kFloat64);
      acc.weight = a.at("weight").get<double>();
      acc.reduce = static_cast<Reduce>(a.at("reduce").get<int>());
      acc.family = static_cast<HookFamily>(a.at("family").get<int>());
      acc.opts.prog_bar = a.at("prog_bar").get<bool>();
      acc.opts.logger = a.at("logger").get<bool>();
      acc.opts.reduce_fx = acc.reduce;
      acc.both = a.at("both").get<bool>();
      acc.opts.sync_dist = a.value("sync_dist", false);
      m.epoch_.emplace(k, std::move(acc));
    }
    m.sync_ = std::move(sync_);
    *this = std::move(m);
  }

  // The strategy's reduce, for sync_dist (set by the loops when a run has several processes).
  using SyncFn = std::function<torch::Tensor(const torch::Tensor&, ReduceOp)>;
  void set_sync_dist(SyncFn reduce) { sync_ = std::move(reduce); }

  // Forgets everything (used after the sanity check: Lightning discards what it logged, and
  // resets the metric objects logged).
  void reset() {
    for (auto& [name, entry] : metric_objects_) entry.compute_and_reset(false);
    auto sync = std::move(sync_);
    *this = MetricStore{};
    sync_ = std::move(sync);
  }

  // The latest value of every metric, for callbacks and schedulers (reads sync the device).
  std::map<std::string, double> callback_metrics() const { return to_doubles(callback_); }
  std::map<std::string, double> progress_bar_metrics() const { return to_doubles(progress_); }
  std::optional<double> metric(const std::string& name) const {
    auto it = callback_.find(name);
    if (it == callback_.end()) return std::nullopt;
    return it->second.item<double>();
  }

 private:
  // Lightning allows logging only from the training, validation and test hooks.
  static void check_loggable(std::string_view name, HookFamily family, std::string_view hook) {
    if (family == HookFamily::predict)
      throw std::logic_error(fmt::format(
          "volt: ctx.log(\"{}\") was called from {}; Lightning does not allow logging during predict. "
          "Return the value from predict_step instead.",
          name, hook.empty() ? std::string("a predict hook") : fmt::format("`{}`", hook)));
    if (family == HookFamily::none)
      throw std::logic_error(fmt::format(
          "volt: ctx.log(\"{}\") was called from {}, where Lightning does not allow logging. Log from "
          "training_step, validation_step, test_step, or the on_train/validation/test batch and epoch hooks.",
          name, hook.empty() ? std::string("outside the training, validation and test loops")
                             : fmt::format("`{}`", hook)));
  }

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
  static ReduceOp reduce_op(Reduce r) noexcept {
    switch (r) {
      case Reduce::sum: return ReduceOp::sum;
      case Reduce::min: return ReduceOp::min;
      case Reduce::max: return ReduceOp::max;
      default: return ReduceOp::mean;
    }
  }

  std::map<std::string, double> take(TensorMap& pending) {
    auto out = to_doubles(pending);
    pending.clear();
    for (const auto& [k, v] : out) logged_[k] = v;
    return out;
  }

  static nlohmann::json tensors_to_json(const TensorMap& m) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : m) j[k] = v.item<double>();
    return j;
  }
  static TensorMap tensors_from_json(const nlohmann::json& j) {
    TensorMap m;
    for (const auto& [k, v] : j.items()) m.emplace(k, torch::tensor(v.get<double>(), torch::kFloat64));
    return m;
  }

  static std::map<std::string, double> to_doubles(const TensorMap& m) {
    std::map<std::string, double> out;
    for (const auto& [k, v] : m) out.emplace(k, v.item<double>());
    return out;
  }

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
