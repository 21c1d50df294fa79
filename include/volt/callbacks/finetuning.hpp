#pragma once
// Fine-tuning: Lightning's LightningModule.freeze() / unfreeze() and its callbacks/finetuning.py.
//
//   volt::freeze(module)    every parameter's requires_grad off, and eval mode (LightningModule.freeze)
//   volt::unfreeze(module)  requires_grad on, and train mode
//   volt::BaseFinetuning<Derived>  the base behaviour, mixed in with CRTP (resolved at compile time): Derived has
//       void freeze_before_training(torch::nn::Module& module)      called in setup, before
//                                                                   configure_optimizers
//       void finetune_function(torch::nn::Module& module, std::int64_t epoch,
//                              torch::optim::Optimizer& optimizer)  at every train epoch start
//     and uses the static helpers (freeze, make_trainable, unfreeze_and_add_param_group, ...).
//   volt::BackboneFinetuning  freezes the submodule registered as "backbone", unfreezes it at
//       unfreeze_backbone_at_epoch with its own lr as a new param group, then raises that lr by
//       lambda_func(epoch + 1) each epoch, aligned to the main lr (Lightning's defaults).
//
// configure_optimizers must give the optimizer only the trainable parameters
// (volt::trainable_parameters(*this)), as Lightning asks.
//
// Resume is exact: the param groups added since the optimizer was built are written into the
// checkpoint (on_save_checkpoint) and added back, trainable, before the optimizer's state is
// loaded (on_load_checkpoint runs first); the callback's own state (Lightning's
// internal_optimizer_metadata and previous_backbone_lr) is its state_dict.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <volt/checkpoint/checkpoint_hooks.hpp>
#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>

namespace volt {

// LightningModule.freeze(): no gradients, and eval mode.
inline void freeze(torch::nn::Module& module) {
  for (auto& p : module.parameters()) p.set_requires_grad(false);
  module.eval();
}
// LightningModule.unfreeze(): gradients again, and train mode.
inline void unfreeze(torch::nn::Module& module) {
  for (auto& p : module.parameters()) p.set_requires_grad(true);
  module.train();
}
// The parameters that require grad: what configure_optimizers should hand the optimizer when a
// part of the module is frozen (Lightning's filter(lambda p: p.requires_grad, self.parameters())).
inline std::vector<torch::Tensor> trainable_parameters(const torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  for (const auto& p : module.parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

namespace detail::finetuning {
inline bool is_batch_norm(const torch::nn::Module& m) {
  return dynamic_cast<const torch::nn::BatchNorm1dImpl*>(&m) || dynamic_cast<const torch::nn::BatchNorm2dImpl*>(&m) ||
         dynamic_cast<const torch::nn::BatchNorm3dImpl*>(&m);
}
// Lightning's freeze_module / make_trainable switch a batch norm's running statistics off / on.
inline void set_track_running_stats(torch::nn::Module& m, bool on) {
  if (auto* bn = dynamic_cast<torch::nn::BatchNorm1dImpl*>(&m)) bn->options.track_running_stats(on);
  else if (auto* bn2 = dynamic_cast<torch::nn::BatchNorm2dImpl*>(&m)) bn2->options.track_running_stats(on);
  else if (auto* bn3 = dynamic_cast<torch::nn::BatchNorm3dImpl*>(&m)) bn3->options.track_running_stats(on);
}
inline bool same_tensor(const torch::Tensor& a, const torch::Tensor& b) {
  return a.unsafeGetTensorImpl() == b.unsafeGetTensorImpl();
}
}  // namespace detail::finetuning

template <class Derived>
class BaseFinetuning {
 public:
  // Leaf modules, and parents that hold parameters themselves (Lightning's flatten_modules).
  static std::vector<torch::nn::Module*> flatten_modules(torch::nn::Module& module) {
    // modules(include_self = true) needs the module in a shared_ptr: the module itself comes first here
    std::vector<torch::nn::Module*> all{&module};
    for (const auto& m : module.modules(/*include_self=*/false)) all.push_back(m.get());
    std::vector<torch::nn::Module*> out;
    for (auto* m : all)
      if (m->children().empty() || !m->named_parameters(/*recurse=*/false).is_empty()) out.push_back(m);
    return out;
  }
  // The parameters of `module` whose requires_grad is `requires_grad` (batch norms left out
  // unless train_bn).
  static std::vector<torch::Tensor> filter_params(torch::nn::Module& module, bool train_bn = true,
                                                  bool requires_grad = true) {
    std::vector<torch::Tensor> out;
    for (auto* m : flatten_modules(module)) {
      if (detail::finetuning::is_batch_norm(*m) && !train_bn) continue;
      for (auto& p : m->parameters(/*recurse=*/false))
        if (p.requires_grad() == requires_grad) out.push_back(p);
    }
    return out;
  }
  static void make_trainable(torch::nn::Module& module) {
    for (auto* m : flatten_modules(module)) {
      detail::finetuning::set_track_running_stats(*m, true);
      for (auto& p : m->parameters(/*recurse=*/false)) p.set_requires_grad(true);
    }
  }
  static void freeze_module(torch::nn::Module& m) {
    detail::finetuning::set_track_running_stats(m, false);
    for (auto& p : m.parameters(/*recurse=*/false)) p.set_requires_grad(false);
  }
  // Freezes every parameter; batch norms stay trainable when train_bn (Lightning's freeze).
  static void freeze(torch::nn::Module& module, bool train_bn = true) {
    for (auto* m : flatten_modules(module)) {
      if (detail::finetuning::is_batch_norm(*m) && train_bn) make_trainable(*m);
      else freeze_module(*m);
    }
  }
  // The params not already in one of the optimizer's groups.
  static std::vector<torch::Tensor> filter_on_optimizer(const torch::optim::Optimizer& optimizer,
                                                        const std::vector<torch::Tensor>& params) {
    std::vector<torch::Tensor> out;
    for (const auto& p : params) {
      bool present = false;
      for (const auto& group : optimizer.param_groups())
        for (const auto& q : group.params()) present = present || detail::finetuning::same_tensor(p, q);
      if (!present) out.push_back(p);
    }
    return out;
  }
  // Unfreezes `module` and adds its parameters to the optimizer as a new group whose lr is `lr`,
  // or the first group's lr / initial_denom_lr.
  static void unfreeze_and_add_param_group(torch::nn::Module& module, torch::optim::Optimizer& optimizer,
                                           std::optional<double> lr = std::nullopt, double initial_denom_lr = 10.0,
                                           bool train_bn = true) {
    make_trainable(module);
    const double group_lr = lr ? *lr : optimizer.param_groups().front().options().get_lr() / initial_denom_lr;
    auto params = filter_on_optimizer(optimizer, filter_params(module, train_bn, true));
    if (params.empty()) return;
    add_group(optimizer, std::move(params), group_lr);
  }

  // --- hooks ---
  void setup(Stage, Context& ctx) { derived().freeze_before_training(ctx.module()); }

  void on_train_epoch_start(Context& ctx) {
    const auto optimizers = ctx.raw_optimizers();
    for (std::size_t i = 0; i < optimizers.size(); ++i) {
      const std::size_t before = optimizers[i]->param_groups().size();
      derived().finetune_function(ctx.module(), ctx.current_epoch(), *optimizers[i]);
      store(ctx.module(), i, before, *optimizers[i]);
    }
  }

  void on_save_checkpoint(Checkpoint& checkpoint, Context&) const {
    checkpoint.json[std::string(state_key_prefix) + "param_groups"] = metadata_;
  }
  // Before the optimizers' state loads: the groups added since they were built come back.
  void on_load_checkpoint(const Checkpoint& checkpoint, Context& ctx) {
    const auto key = std::string(state_key_prefix) + "param_groups";
    if (!checkpoint.json.contains(key)) return;
    metadata_ = checkpoint.json.at(key);
    const auto optimizers = ctx.raw_optimizers();
    std::unordered_map<std::string, torch::Tensor> by_name;
    for (auto& item : ctx.module().named_parameters()) by_name.emplace(item.key(), item.value());
    for (std::size_t i = 0; i < optimizers.size(); ++i) {
      const auto index = std::to_string(i);
      if (!metadata_.contains(index)) continue;
      const auto& groups = metadata_.at(index);
      auto& optimizer = *optimizers[i];
      for (std::size_t g = optimizer.param_groups().size(); g < groups.size(); ++g) {
        std::vector<torch::Tensor> params;
        for (const auto& name : groups[g].at("params")) {
          const auto it = by_name.find(name.get<std::string>());
          if (it == by_name.end())
            throw std::invalid_argument(fmt::format(
                "volt: {}: the checkpoint's param group {} names parameter \"{}\", which the module does not have; "
                "resume with the module the checkpoint was written by.",
                Derived::callback_name, g, name.get<std::string>()));
          it->second.set_requires_grad(true);
          params.push_back(it->second);
        }
        add_group(optimizer, std::move(params), groups[g].at("lr").template get<double>());
      }
    }
  }

  nlohmann::json state_dict() const { return {{"internal_optimizer_metadata", metadata_}}; }
  void load_state_dict(const nlohmann::json& state) {
    if (state.contains("internal_optimizer_metadata")) metadata_ = state.at("internal_optimizer_metadata");
  }

  // Per optimizer index (as a string), its groups: {"lr": ..., "params": [parameter names]}.
  const nlohmann::json& internal_optimizer_metadata() const noexcept { return metadata_; }

 protected:
  static constexpr const char* state_key_prefix = "volt.finetuning.";

 private:
  Derived& derived() noexcept { return static_cast<Derived&>(*this); }

  static void add_group(torch::optim::Optimizer& optimizer, std::vector<torch::Tensor> params, double lr) {
    torch::optim::OptimizerParamGroup group(std::move(params), optimizer.defaults().clone());
    group.options().set_lr(lr);
    optimizer.add_param_group(group);
  }

  static nlohmann::json describe(torch::nn::Module& module, const torch::optim::OptimizerParamGroup& group) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& p : group.params())
      for (auto& item : module.named_parameters())
        if (detail::finetuning::same_tensor(item.value(), p)) names.push_back(item.key());
    return {{"lr", group.options().get_lr()}, {"params", names}};
  }

  // Lightning's _store: every group the first time, then the groups added since.
  void store(torch::nn::Module& module, std::size_t index, std::size_t groups_before,
             const torch::optim::Optimizer& optimizer) {
    const auto key = std::to_string(index);
    const auto& groups = optimizer.param_groups();
    if (!metadata_.contains(key)) {
      metadata_[key] = nlohmann::json::array();
      for (const auto& g : groups) metadata_[key].push_back(describe(module, g));
    } else if (groups_before != groups.size()) {
      for (std::size_t g = groups_before; g < groups.size(); ++g) metadata_[key].push_back(describe(module, groups[g]));
    }
  }

  nlohmann::json metadata_ = nlohmann::json::object();
};

// Lightning's default lambda_func: the backbone's lr doubles each epoch.
struct Multiplicative {
  double operator()(std::int64_t) const noexcept { return 2.0; }
};

template <class LambdaFunc = Multiplicative>
struct BackboneFinetuningOptions {
  std::int64_t unfreeze_backbone_at_epoch = 10;
  LambdaFunc lambda_func{};
  double backbone_initial_ratio_lr = 10e-2;
  std::optional<double> backbone_initial_lr{};
  bool should_align = true;
  double initial_denom_lr = 10.0;
  bool train_bn = true;
  bool verbose = false;
};

template <class LambdaFunc = Multiplicative>
class BackboneFinetuning : public BaseFinetuning<BackboneFinetuning<LambdaFunc>> {
  using Base = BaseFinetuning<BackboneFinetuning<LambdaFunc>>;

 public:
  static constexpr const char* callback_name = "BackboneFinetuning";

  explicit BackboneFinetuning(BackboneFinetuningOptions<LambdaFunc> options = {}) : options_(std::move(options)) {}

  static torch::nn::Module& backbone(torch::nn::Module& module) {
    const auto children = module.named_children();
    if (const auto* found = children.find("backbone")) return **found;
    throw std::invalid_argument(
        "volt: BackboneFinetuning needs the module to register its feature extractor as a submodule named "
        "\"backbone\" (backbone = register_module(\"backbone\", ...)).");
  }

  void freeze_before_training(torch::nn::Module& module) { Base::freeze(backbone(module)); }

  void finetune_function(torch::nn::Module& module, std::int64_t epoch, torch::optim::Optimizer& optimizer) {
    const double current_lr = optimizer.param_groups().front().options().get_lr();
    if (epoch == options_.unfreeze_backbone_at_epoch) {
      const double initial = options_.backbone_initial_lr ? *options_.backbone_initial_lr
                                                          : current_lr * options_.backbone_initial_ratio_lr;
      previous_backbone_lr_ = initial;
      Base::unfreeze_and_add_param_group(backbone(module), optimizer, initial, options_.initial_denom_lr,
                                         options_.train_bn);
      if (options_.verbose) fmt::print("Current lr: {}, Backbone lr: {}\n", current_lr, initial);
    } else if (epoch > options_.unfreeze_backbone_at_epoch && previous_backbone_lr_) {
      double next = options_.lambda_func(epoch + 1) * *previous_backbone_lr_;
      if (options_.should_align && next > current_lr) next = current_lr;
      optimizer.param_groups().back().options().set_lr(next);
      previous_backbone_lr_ = next;
      if (options_.verbose) fmt::print("Current lr: {}, Backbone lr: {}\n", current_lr, next);
    }
  }

  nlohmann::json state_dict() const {
    nlohmann::json state = Base::state_dict();
    state["previous_backbone_lr"] = previous_backbone_lr_ ? nlohmann::json(*previous_backbone_lr_) : nlohmann::json();
    return state;
  }
  void load_state_dict(const nlohmann::json& state) {
    const auto lr = state.value("previous_backbone_lr", nlohmann::json());
    previous_backbone_lr_ = lr.is_number() ? std::optional<double>(lr.get<double>()) : std::nullopt;
    Base::load_state_dict(state);
  }
  std::string_view state_key() const noexcept { return callback_name; }

  std::optional<double> previous_backbone_lr() const noexcept { return previous_backbone_lr_; }
  const BackboneFinetuningOptions<LambdaFunc>& options() const noexcept { return options_; }

 private:
  BackboneFinetuningOptions<LambdaFunc> options_;
  std::optional<double> previous_backbone_lr_{};
};

}  // namespace volt
