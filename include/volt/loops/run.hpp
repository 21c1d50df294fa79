#pragma once
// What one Trainer entry point works with: references to the parts the Trainer owns, and the
// helpers every loop uses (hook emission, batch transfer). The loops are free functions over it.
#include <chrono>
#include <cstddef>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <volt/core/callback_list.hpp>
#include <volt/core/context.hpp>
#include <volt/core/example_input.hpp>
#include <volt/core/metrics.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/data/transfer.hpp>
#include <volt/hooks/call.hpp>
#include <volt/loggers/logger.hpp>
#include <volt/loops/profiling.hpp>
#include <volt/loops/hook_family_of.hpp>

namespace volt::loops {

template <class Module, class Data, class Strategy, class Precision, class... Callbacks>
struct Run {
  Module& module;
  Data& data;
  Strategy& strategy;
  Precision& precision;
  std::tuple<Callbacks&...> callbacks;  // the Trainer's and configure_callbacks', merged (core/callback_list.hpp)
  const TrainerOptions& options;
  RunState& state;
  MetricStore& metrics;
  // What the module's hooks get (RunContext<Module> for a module with configure_optimizers);
  // callbacks and DataModules get it as its base, volt::Context (hooks/call.hpp).
  hooks::hook_context_t<Module> ctx;
  std::chrono::steady_clock::time_point fit_started{};  // for max_time

  Run(Module& m, Data& d, Strategy& s, Precision& p, std::tuple<Callbacks&...> cbs, const TrainerOptions& o,
      RunState& st, MetricStore& me)
      : module(m), data(d), strategy(s), precision(p), callbacks(cbs), options(o), state(st), metrics(me),
        ctx(st, me, m) {
    state.loggers.clear();  // ctx.loggers(): this run's loggers, the Trainer's and configure_callbacks'
    hooks::for_each_callback(callbacks, [this](auto& cb) {
      if constexpr (Logger<std::remove_cvref_t<decltype(cb)>>) state.loggers.add(cb);
    });
    state.example_input_sizes = nullptr;
    state.example_layer_sizes = nullptr;
    if constexpr (HasExampleInputArray<Module>) {
      state.example_input_sizes = [&m] { return example_input_sizes(m); };
      state.example_layer_sizes = [&m] { return example_layer_sizes(m); };
    }
  }

  // Records which hook runs (for messages) and sets its logging context (loops/hook_family_of.hpp),
  // restoring the outer ones when it returns: the one place the logging context is set.
  class HookScope {
   public:
    HookScope(RunState& s, std::string_view name, std::optional<HookFamily> family) noexcept
        : state_(s), outer_(s.hook), outer_family_(s.family) {
      s.hook = name;
      if (family) s.family = *family;
    }
    HookScope(const HookScope&) = delete;
    HookScope& operator=(const HookScope&) = delete;
    ~HookScope() {
      state_.hook = outer_;
      state_.family = outer_family_;
    }

   private:
    RunState& state_;
    std::string_view outer_;
    HookFamily outer_family_;
  };
  template <class Hook>
  HookScope scope_of(Hook) noexcept {
    return HookScope(state, Hook::name, hook_family_of<Hook>());
  }

  // A profiler among the callbacks (loops/profiling.hpp): found at compile time; without one the
  // profile_* scopes below are empty structs and no name or clock code is instantiated.
  static constexpr std::size_t profiler_slot = profiler_index<Callbacks...>();
  static constexpr bool profiling = profiler_slot < sizeof...(Callbacks);

  // Times the hook `Hook` of a `T` (Kind: module, callback or DataModule) while it is alive.
  template <class Kind, class T, class Hook>
  auto profile_hook() {
    if constexpr (profiling)
      return ProfileScope(std::get<profiler_slot>(callbacks), action_name<Kind, std::remove_cvref_t<T>, Hook>());
    else
      return NoProfileScope{};
  }
  // Times a loop phase (Phase::name, e.g. "run_training_batch") while it is alive.
  template <class Phase>
  auto profile_phase() {
    if constexpr (profiling) {
      static const std::string name(Phase::name);
      return ProfileScope(std::get<profiler_slot>(callbacks), name);
    } else {
      return NoProfileScope{};
    }
  }

  // Callbacks first, then the module: Lightning's order for these hooks.
  template <class Hook, class... A>
  void emit(Hook hook, A&&... args) {
    auto scope = scope_of(hook);
    if constexpr (profiling) {
      emit_callbacks_where(hook, [](auto&) { return std::true_type{}; }, args...);
      [[maybe_unused]] auto timed = profile_hook<ModuleAction, Module, Hook>();
      hooks::call(hook, module, ctx, std::forward<A>(args)...);
    } else {
      hooks::for_each_callback_with(hook, callbacks, [&](auto& cb) { call_callback(hook, cb, args...); });
      hooks::call(hook, module, ctx, std::forward<A>(args)...);
    }
  }

  // The callbacks' hook alone (hooks Lightning calls on callbacks only, e.g. on_sanity_check_start).
  template <class Hook, class... A>
  void emit_callbacks(Hook hook, A&&... args) {
    auto scope = scope_of(hook);
    if constexpr (profiling)
      emit_callbacks_where(hook, [](auto&) { return std::true_type{}; }, args...);
    else
      hooks::for_each_callback_with(hook, callbacks, [&](auto& cb) { call_callback(hook, cb, args...); });
  }

  // The hook of the callbacks that monitor metrics (Monitoring) or of the others: Lightning's
  // on_train_epoch_end runs the others, then the module, then the monitoring ones.
  template <bool Monitoring, class Hook, class... A>
  void emit_callbacks_monitoring(Hook hook, A&&... args) {
    auto scope = scope_of(hook);
    if constexpr (profiling) {
      emit_callbacks_where(
          hook, [](auto& cb) { return std::bool_constant<MonitoringCallback<decltype(cb)> == Monitoring>{}; },
          args...);
    } else {
      hooks::for_each_callback_with(hook, callbacks, [&](auto& cb) {
        if constexpr (MonitoringCallback<decltype(cb)> == Monitoring) call_callback(hook, cb, args...);
      });
    }
  }

  // A hook of the module alone (steps, epoch_end(outputs), configure_optimizers, ...).
  template <class Hook, class... A>
  decltype(auto) call(Hook hook, A&&... args) {
    auto scope = scope_of(hook);
    [[maybe_unused]] auto timed = profile_hook<ModuleAction, Module, Hook>();
    return hooks::call(hook, module, ctx, std::forward<A>(args)...);
  }

  // A DataModule hook (prepare_data, setup, the loaders).
  template <class Hook, class... A>
  decltype(auto) call_data(Hook hook, A&&... args) {
    auto scope = scope_of(hook);
    [[maybe_unused]] auto timed = profile_hook<DataModuleAction, Data, Hook>();
    return hooks::call(hook, data, ctx, std::forward<A>(args)...);
  }

  // The batch on the run's device, in the precision's input type, through Lightning's
  // on_before_batch_transfer / transfer_batch_to_device / on_after_batch_transfer (the
  // DataModule's hook when it has one, else the module's); sets the logging weight.
  template <class Batch>
  auto prepare_batch(Batch&& raw) {
    using B = std::remove_cvref_t<Batch>;
    B batch(std::forward<Batch>(raw));
    batch = batch_hook(hooks::on_before_batch_transfer, std::move(batch));
    if constexpr (hooks::has<hooks::transfer_batch_to_device_t, Data, B&&, torch::Device, std::int64_t>)
      batch = call_data(hooks::transfer_batch_to_device, std::move(batch), state.device, std::int64_t{0});
    else if constexpr (hooks::has<hooks::transfer_batch_to_device_t, Module, B&&, torch::Device, std::int64_t>)
      batch = call(hooks::transfer_batch_to_device, std::move(batch), state.device, std::int64_t{0});
    else {
      [[maybe_unused]] auto timed = profile_hook<StrategyAction, Strategy, StrategyBatchToDevice>();
      batch = data::to_device(std::move(batch), state.device);
    }
    batch = batch_hook(hooks::on_after_batch_transfer, std::move(batch));
    B converted = precision.convert_input(std::move(batch));
    state.batch_size = data::batch_size_of(converted);
    return converted;
  }

 private:
  // A callback's hook may take the module first, as its own type (Lightning's `pl_module`,
  // typed): on_train_epoch_end(MyModule& module, volt::Context& ctx), or a template
  // `template <class M> void on_train_epoch_end(M& module, volt::Context& ctx)`. A hook that takes
  // the usual arguments is called with those (so an unconstrained template gets those).
  template <class Hook, class Callback, class... A>
  void call_callback(Hook hook, Callback& cb, A&... args) {
    using C = std::remove_const_t<Callback>;
    if constexpr (!hooks::has<Hook, C, A&...> && hooks::match_v<Hook, C, Module&, A&...>.arity >= 1)
      hooks::call(hook, cb, ctx, module, args...);
    else
      hooks::call(hook, cb, ctx, args...);
  }

  // Profiling only: the hook on each callback for which `select(cb)` is a std::true_type, each
  // timed (the profiler itself is not). Every callback, with the hook or not: Lightning's
  // profiler times a callback's hook even when it is the base class's no-op.
  template <class Hook, class Select, class... A>
  void emit_callbacks_where(Hook hook, Select select, A&... args) {
    hooks::for_each_callback(callbacks, [&](auto& cb) {
      if constexpr (decltype(select(cb))::value) {
        if constexpr (!ProfilerCallback<decltype(cb)>) {
          [[maybe_unused]] auto timed = profile_hook<CallbackAction, decltype(cb), Hook>();
          call_callback(hook, cb, args...);
        } else {
          call_callback(hook, cb, args...);
        }
      }
    });
  }

  // A batch hook that returns the (possibly changed) batch; a void hook leaves it as it is.
  template <class Hook, class B>
  B batch_hook(Hook hook, B&& batch) {
    if constexpr (hooks::has<Hook, Data, B&&, std::int64_t>) {
      if constexpr (std::is_void_v<decltype(call_data(hook, std::move(batch), std::int64_t{0}))>) {
        call_data(hook, batch, std::int64_t{0});
        return std::move(batch);
      } else {
        return call_data(hook, std::move(batch), std::int64_t{0});
      }
    } else if constexpr (hooks::has<Hook, Module, B&&, std::int64_t>) {
      if constexpr (std::is_void_v<decltype(call(hook, std::move(batch), std::int64_t{0}))>) {
        call(hook, batch, std::int64_t{0});
        return std::move(batch);
      } else {
        return call(hook, std::move(batch), std::int64_t{0});
      }
    } else {
      return std::move(batch);
    }
  }
};

}  // namespace volt::loops
