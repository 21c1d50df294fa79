#pragma once
// What ctx.log() records. Values stay tensors until someone reads them, so logging every step
// costs no device sync; epoch aggregates are a running weighted sum, also kept as tensors.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/hook_family.hpp>

namespace volt {

enum class Reduce { mean, sum, min, max };

struct LogOptions {
  std::optional<bool> on_step{};   // default: true in training_step hooks, false elsewhere
  std::optional<bool> on_epoch{};  // default: false in training_step hooks, true elsewhere
  bool prog_bar = false;
  bool logger = true;
  Reduce reduce_fx = Reduce::mean;
  std::optional<std::int64_t> batch_size{};  // weight of this value in the epoch mean
};

class MetricStore {
 public:
  // Records one logged value. `family` decides the on_step/on_epoch defaults as Lightning does.
  void log(std::string_view name, const torch::Tensor& value, const LogOptions& opts, HookFamily family,
           std::int64_t inferred_batch_size) {
    if (family == HookFamily::predict)
      throw std::logic_error(fmt::format(
          "volt: ctx.log(\"{}\") was called from a predict hook; Lightning does not allow logging "
          "during predict. Return the value from predict_step instead.",
          name));
    if (value.numel() != 1)
      throw std::invalid_argument(fmt::format(
          "volt: ctx.log(\"{}\") got a tensor with {} elements; log a scalar (e.g. loss.mean()).", name,
          value.numel()));
    const bool step_family = family == HookFamily::train_step;
    const bool on_step = opts.on_step.value_or(step_family);
    const bool on_epoch = opts.on_epoch.value_or(!step_family);
    const std::string key{name};
    auto v = value.detach().reshape({});
    if (on_step) {
      const std::string step_key = on_epoch ? key + "_step" : key;
      callback_[step_key] = v;
      if (opts.prog_bar) progress_[step_key] = v;
    }
    if (on_epoch) {
      auto& acc = epoch_[key];
      const auto w = opts.batch_size.value_or(inferred_batch_size);
      acc.add(v, opts.reduce_fx, w);
      acc.family = family;
      acc.opts = opts;
      acc.both = on_step;
    }
  }

  // Ends an epoch of the loop whose hooks have `family` (train_step and train_epoch end together):
  // turns its accumulators into `name` (or `name_epoch`) values.
  void end_epoch(HookFamily family) {
    for (auto it = epoch_.begin(); it != epoch_.end();) {
      const bool same_loop = it->second.family == family ||
                             (family == HookFamily::train_epoch && it->second.family == HookFamily::train_step);
      if (!same_loop) {
        ++it;
        continue;
      }
      auto v = it->second.value();
      const std::string key = it->second.both ? it->first + "_epoch" : it->first;
      callback_[key] = v;
      if (it->second.both) callback_[it->first] = v;
      if (it->second.opts.prog_bar) progress_[key] = v;
      it = epoch_.erase(it);
    }
  }

  // Forgets everything (used after the sanity check: Lightning discards what it logged).
  void reset() { *this = MetricStore{}; }

  // The latest value of every metric, for callbacks and schedulers (reads sync the device).
  std::map<std::string, double> callback_metrics() const { return to_doubles(callback_); }
  std::map<std::string, double> progress_bar_metrics() const { return to_doubles(progress_); }
  std::optional<double> metric(const std::string& name) const {
    auto it = callback_.find(name);
    if (it == callback_.end()) return std::nullopt;
    return it->second.item<double>();
  }

 private:
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
  };

  static std::map<std::string, double> to_doubles(const std::map<std::string, torch::Tensor>& m) {
    std::map<std::string, double> out;
    for (const auto& [k, v] : m) out.emplace(k, v.item<double>());
    return out;
  }

  std::map<std::string, torch::Tensor> callback_, progress_;
  std::map<std::string, Accumulator> epoch_;
};

}  // namespace volt
