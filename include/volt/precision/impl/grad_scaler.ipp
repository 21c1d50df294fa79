#pragma once
// Definitions of <volt/precision/grad_scaler.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/precision/grad_scaler.hpp>

#include <cmath>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace volt::precision {

namespace detail {

VOLT_INLINE void non_finite_check_and_unscale(std::vector<torch::Tensor>& grads, torch::Tensor& found_inf,
                                         const torch::Tensor& inv_scale) {
#if VOLT_TORCH_HAS_CUDA
  if (found_inf.is_cuda()) {
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale);
    return;
  }
#endif
  const bool unit = inv_scale.item<float>() == 1.0F;
  for (auto& grad : grads) {
    found_inf.masked_fill_(grad.isfinite().logical_not().any(), 1.0);
    if (!unit) grad.mul_(inv_scale.to(grad.scalar_type()));
  }
}

VOLT_INLINE void update_scale(torch::Tensor& scale, torch::Tensor& growth_tracker, const torch::Tensor& found_inf,
                         double growth_factor, double backoff_factor, std::int64_t growth_interval) {
#if VOLT_TORCH_HAS_CUDA
  if (scale.is_cuda()) {
    at::_amp_update_scale_(scale, growth_tracker, found_inf, growth_factor, backoff_factor, growth_interval);
    return;
  }
#endif
  float current = scale.item<float>();
  std::int32_t tracker = growth_tracker.item<std::int32_t>();
  if (found_inf.item<float>() != 0.0F) {
    current = current * static_cast<float>(backoff_factor);
    tracker = 0;
  } else if (const std::int32_t successful = tracker + 1; successful == growth_interval) {
    const float grown = current * static_cast<float>(growth_factor);
    if (std::isfinite(grown)) current = grown;  // never grow past fp32's range to inf
    tracker = 0;
  } else {
    tracker = successful;
  }
  scale.fill_(current);
  growth_tracker.fill_(tracker);
}

}  // namespace detail

VOLT_INLINE GradScaler::GradScaler(GradScalerOptions options) : options_(options) {
  if (!(options_.growth_factor > 1.0))
    throw std::invalid_argument(
        fmt::format("volt: GradScaler growth_factor must be > 1.0 (torch's rule), got {}.", options_.growth_factor));
  if (!(options_.backoff_factor < 1.0))
    throw std::invalid_argument(fmt::format("volt: GradScaler backoff_factor must be < 1.0 (torch's rule), got {}.",
                                            options_.backoff_factor));
  if (options_.growth_interval <= 0)
    throw std::invalid_argument(fmt::format("volt: GradScaler growth_interval must be a positive integer, got {}.",
                                            options_.growth_interval));
}

VOLT_INLINE torch::Tensor GradScaler::scale(const torch::Tensor& outputs) {
  if (!scale_.defined()) {
    scale_ = torch::full({1}, options_.init_scale, torch::TensorOptions(torch::kFloat32).device(outputs.device()));
    growth_tracker_ = torch::full({1}, growth_tracker_init_, torch::TensorOptions(torch::kInt32).device(outputs.device()));
  }
  return outputs * scale_.to(outputs.device());
}

VOLT_INLINE void GradScaler::update() {
  require_scale("update");
  torch::Tensor found_inf_combined;
  for (auto& [optimizer, state] : per_optimizer_)
    for (auto& [device, found_inf] : state.found_inf_per_device) {
      const torch::Tensor here = found_inf.to(scale_.device());
      found_inf_combined = found_inf_combined.defined() ? found_inf_combined + here : here.clone();
    }
  if (!found_inf_combined.defined())
    throw std::logic_error("volt: GradScaler.update(): no inf checks were recorded prior to update().");
  detail::update_scale(scale_, growth_tracker_, found_inf_combined, options_.growth_factor, options_.backoff_factor,
                       options_.growth_interval);
  per_optimizer_.clear();
}

VOLT_INLINE std::int64_t GradScaler::growth_tracker() const {
  return growth_tracker_.defined() ? growth_tracker_.item<std::int32_t>() : growth_tracker_init_;
}

VOLT_INLINE void GradScaler::state_dict_into(nlohmann::json& out) const { out = state_dict(); }

VOLT_INLINE nlohmann::json GradScaler::state_dict() const {
  return {{"scale", get_scale()},
          {"growth_factor", options_.growth_factor},
          {"backoff_factor", options_.backoff_factor},
          {"growth_interval", options_.growth_interval},
          {"_growth_tracker", growth_tracker()}};
}

VOLT_INLINE void GradScaler::load_state_dict(const nlohmann::json& state) {
  static constexpr const char* keys[] = {"scale", "growth_factor", "backoff_factor", "growth_interval",
                                         "_growth_tracker"};
  if (state.empty())
    throw std::invalid_argument("volt: the GradScaler state is empty (torch: saved from a scaler that was not "
                                "enabled?); resume without it or from a checkpoint saved under 16-mixed.");
  for (const char* key : keys)
    if (!state.contains(key) || !state.at(key).is_number())
      throw std::invalid_argument(fmt::format(
          "volt: the GradScaler state has no number \"{}\" (it needs scale, growth_factor, backoff_factor, "
          "growth_interval, _growth_tracker, as torch's GradScaler.state_dict() writes them).",
          key));
  options_.init_scale = state.at("scale").get<double>();
  options_.growth_factor = state.at("growth_factor").get<double>();
  options_.backoff_factor = state.at("backoff_factor").get<double>();
  options_.growth_interval = state.at("growth_interval").get<std::int64_t>();
  growth_tracker_init_ = state.at("_growth_tracker").get<std::int32_t>();
  if (scale_.defined()) {
    scale_.fill_(options_.init_scale);
    growth_tracker_.fill_(growth_tracker_init_);
  }
  per_optimizer_.clear();
}

VOLT_INLINE void GradScaler::require_scale(const char* what) const {
  if (!scale_.defined())
    throw std::logic_error(fmt::format("volt: GradScaler.{}() before scale(): scale the loss first.", what));
}

VOLT_INLINE void GradScaler::unscale_optimizer(torch::optim::Optimizer& optimizer) {
  auto& state = state_of(optimizer);
  if (state.stage == Stage::unscaled)
    throw std::logic_error("volt: GradScaler.unscale_() has already been called on this optimizer since the last "
                           "update().");
  if (state.stage == Stage::stepped)
    throw std::logic_error("volt: GradScaler.unscale_() is being called after step().");
  require_scale("unscale_");
  const torch::Tensor inv_scale = scale_.to(torch::kFloat64).reciprocal().to(torch::kFloat32);
  // Gradients grouped by device and dtype, as torch's _unscale_grads_ groups them per kernel call.
  std::map<std::pair<std::string, int>, std::vector<torch::Tensor>> groups;
  for (auto& group : optimizer.param_groups())
    for (auto& param : group.params()) {
      torch::Tensor grad = param.mutable_grad();
      if (!grad.defined()) continue;
      if (grad.scalar_type() == torch::kHalf)
        throw std::invalid_argument(
            "volt: GradScaler cannot unscale fp16 gradients (torch: \"Attempting to unscale FP16 gradients.\"): "
            "16-mixed keeps fp32 parameters; do not convert the module to half under precision::FP16Mixed.");
      groups[{grad.device().str(), static_cast<int>(grad.scalar_type())}].push_back(grad);
    }
  for (auto& [key, grads] : groups) {
    auto& found = state.found_inf_per_device[key.first];
    if (!found.defined())
      found = torch::zeros({1}, torch::TensorOptions(torch::kFloat32).device(grads.front().device()));
    detail::non_finite_check_and_unscale(grads, found, inv_scale.to(grads.front().device()));
  }
  state.stage = Stage::unscaled;
}

VOLT_INLINE bool GradScaler::prepare_step(torch::optim::Optimizer& optimizer) {
  auto& state = state_of(optimizer);
  if (state.stage == Stage::stepped)
    throw std::logic_error("volt: GradScaler.step() has already been called since the last update().");
  if (state.stage == Stage::ready) unscale_optimizer(optimizer);
  if (state.found_inf_per_device.empty())
    throw std::logic_error("volt: GradScaler.step(): no inf checks were recorded for this optimizer (none of its "
                           "parameters has a gradient: did backward run?).");
  float found = 0.0F;
  for (const auto& [device, found_inf] : state.found_inf_per_device) found += found_inf.item<float>();
  state.stage = Stage::stepped;
  return found == 0.0F;
}

}  // namespace volt::precision
