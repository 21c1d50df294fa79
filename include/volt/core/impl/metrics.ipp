#pragma once
// Definitions of <volt/core/metrics.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/core/metrics.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace volt {

VOLT_INLINE MetricStore::MetricStore() = default;
VOLT_INLINE MetricStore::MetricStore(const MetricStore&) = default;
VOLT_INLINE MetricStore::MetricStore(MetricStore&&) noexcept = default;
VOLT_INLINE MetricStore& MetricStore::operator=(const MetricStore&) = default;
VOLT_INLINE MetricStore& MetricStore::operator=(MetricStore&&) noexcept = default;
VOLT_INLINE MetricStore::~MetricStore() = default;

VOLT_INLINE void MetricStore::log(std::string_view name, const torch::Tensor& value, const LogOptions& opts, HookFamily family,
         std::int64_t inferred_batch_size, std::string_view hook) {
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

VOLT_INLINE void MetricStore::log_metric(std::string_view name, std::function<torch::Tensor(bool)> compute_and_reset, const LogOptions& opts,
                HookFamily family, std::string_view hook) {
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

VOLT_INLINE std::map<std::string, double> MetricStore::end_epoch(HookFamily family) {
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

VOLT_INLINE nlohmann::json MetricStore::state() const {
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

VOLT_INLINE void MetricStore::load_state(const nlohmann::json& j) {
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

VOLT_INLINE void MetricStore::reset() {
  for (auto& [name, entry] : metric_objects_) entry.compute_and_reset(false);
  auto sync = std::move(sync_);
  *this = MetricStore{};
  sync_ = std::move(sync);
}

VOLT_INLINE std::optional<double> MetricStore::metric(const std::string& name) const {
  auto it = callback_.find(name);
  if (it == callback_.end()) return std::nullopt;
  return it->second.item<double>();
}

VOLT_INLINE void MetricStore::check_loggable(std::string_view name, HookFamily family, std::string_view hook) {
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

VOLT_INLINE ReduceOp MetricStore::reduce_op(Reduce r) noexcept {
  switch (r) {
    case Reduce::sum: return ReduceOp::sum;
    case Reduce::min: return ReduceOp::min;
    case Reduce::max: return ReduceOp::max;
    default: return ReduceOp::mean;
  }
}

VOLT_INLINE std::map<std::string, double> MetricStore::take(TensorMap& pending) {
  auto out = to_doubles(pending);
  pending.clear();
  for (const auto& [k, v] : out) logged_[k] = v;
  return out;
}

VOLT_INLINE nlohmann::json MetricStore::tensors_to_json(const TensorMap& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m) j[k] = v.item<double>();
  return j;
}

VOLT_INLINE MetricStore::TensorMap MetricStore::tensors_from_json(const nlohmann::json& j) {
  TensorMap m;
  for (const auto& [k, v] : j.items()) m.emplace(k, torch::tensor(v.get<double>(), torch::kFloat64));
  return m;
}

VOLT_INLINE std::map<std::string, double> MetricStore::to_doubles(const TensorMap& m) {
  std::map<std::string, double> out;
  for (const auto& [k, v] : m) out.emplace(k, v.item<double>());
  return out;
}

}  // namespace volt
