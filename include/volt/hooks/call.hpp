#pragma once
// Detecting and calling hooks. The loops write `hooks::call(hooks::on_train_epoch_start, model,
// ctx)`; when the type has no such hook the call compiles to nothing. A hook may take the
// arguments volt passes, a prefix of them (down to the tag's min_args), and a trailing context
// or not: the longest form that fits wins, with the context preferred.
// The context is a Module's volt::RunContext<Module> (it knows the optimizers' types), or the
// volt::Context of a callback or DataModule; a hook taking `volt::Context&` accepts both.
#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <volt/core/context.hpp>
#include <volt/detail/meta.hpp>
#include <volt/hooks/tags.hpp>

namespace volt::hooks {

// A LightningModule (it declares configure_optimizers): its hooks get the typed RunContext.
template <class T>
concept TypedContextModule = named::configure_optimizers<T>;

// The context type a hook of T receives.
template <class T>
using hook_context_t = std::conditional_t<TypedContextModule<T>, RunContext<T>, Context>;

struct match {
  int arity = -1;  // how many of the passed arguments the hook takes; -1: no hook
  bool with_context = false;
  constexpr bool found() const noexcept { return arity >= 0; }
};

template <class Hook, class T, class... A>
concept invocable_as = requires(T& self, A&&... args) { Hook::invoke(self, std::forward<A>(args)...); };

namespace detail {
// How an argument reaches a hook: scalars (indices, enums) as prvalues, the rest as they are
// passed. So a generic `auto& ctx` never binds to a dropped batch_idx: in
// `on_train_batch_end(const Out& outputs, const Batch& batch, auto& ctx)` it is the context.
template <class A>
using passed_t = std::conditional_t<std::is_scalar_v<std::remove_cvref_t<A>>, std::remove_cvref_t<A>, A&&>;

template <class A>
constexpr passed_t<A> pass(A&& a) noexcept {
  return std::forward<A>(a);
}

// The longest prefix of Args (down to min_args) that the hook takes, with a trailing Ctx& or
// without; for the same prefix, with. A form that does not fit fails at overload resolution, so
// a hook with a deduced return type is instantiated only with the form that fits
// (`auto training_step(const Batch&, int64_t, auto& ctx)` only with the context).
template <class Hook, class T, class Ctx, class Args, std::size_t N>
consteval match find_match() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    if constexpr (invocable_as<Hook, T, std::tuple_element_t<I, Args>..., Ctx&>)
      return match{static_cast<int>(N), true};
    else if constexpr (invocable_as<Hook, T, std::tuple_element_t<I, Args>...>)
      return match{static_cast<int>(N), false};
    else if constexpr (N > Hook::min_args)
      return find_match<Hook, T, Ctx, Args, N - 1>();
    else
      return match{};
  }(std::make_index_sequence<N>{});
}
}  // namespace detail

// True when T has no member named like the hook: one probe of all T's member names
// (hooks::named, one class instantiation per type) answers for every hook, so the forms of an
// absent hook are never tried. Most (hook, type) pairs are absent; trying each form costs an
// overload resolution per form, and g++ spent seconds of a user's TU on them. A type the probe
// cannot see into (a final class, a non-class) is tried form by form.
template <class Hook, class T>
concept surely_absent = std::is_class_v<T> && !std::is_final_v<T> && !Hook::template named<T>;

// A hook T may have: the loops visit only these callbacks for a hook.
template <class Hook, class T>
concept may_have = !surely_absent<Hook, std::remove_cvref_t<T>>;

namespace detail {
template <class C, class F>
constexpr void visit_callback(C& cb, F& f) {
  f(cb);
}
template <class C, class F>
constexpr void visit_callback(std::optional<C>& cb, F& f) {
  if (cb) f(*cb);
}
template <class C, class F>
constexpr void visit_callback(const std::optional<C>& cb, F& f) {
  if (cb) f(*cb);
}

template <class Hook, class T, class Ctx, class... A>
consteval match match_of() {
  if constexpr (sizeof...(A) < Hook::min_args || surely_absent<Hook, T>)
    return match{};
  else
    return find_match<Hook, T, Ctx, std::tuple<passed_t<A>...>, sizeof...(A)>();
}
}  // namespace detail

// How `Hook` can be called on a T given arguments of types A... (as they will be passed) and a
// context of type Ctx (by default the one T's hooks receive).
template <class Hook, class T, class Ctx, class... A>
inline constexpr match match_in_v = detail::match_of<Hook, T, Ctx, A...>();
template <class Hook, class T, class... A>
inline constexpr match match_v = match_in_v<Hook, T, hook_context_t<T>, A...>;

// True when T has the hook in a form that takes (a prefix of) A....
template <class Hook, class T, class... A>
concept has = match_v<Hook, std::remove_cvref_t<T>, A...>.found();

// True when T declares a member named like the hook but no form of it fits A...: a near miss.
template <class Hook, class T, class... A>
concept near_miss = !has<Hook, T, A...> && Hook::template declared<std::remove_cvref_t<T>>;

// Calls the hook if T has it. A declared hook with the wrong signature is a compile error
// that quotes the expected signature; an absent hook generates no code. `ctx` is the context the
// hook gets: a Module's hooks get it as RunContext<Module> when it is one (the loops pass
// theirs), else as the context passed.
template <class Hook, class T, class Ctx, class... A>
constexpr decltype(auto) call(Hook, T& self, Ctx& ctx_passed, A&&... args) {
  using U = std::remove_const_t<T>;
  using HookContext = std::conditional_t<std::is_convertible_v<Ctx&, hook_context_t<U>&>, hook_context_t<U>, Ctx>;
  HookContext& ctx = ctx_passed;
  constexpr match m = match_in_v<Hook, U, HookContext, A...>;
  if constexpr (!m.found()) {
    if constexpr (Hook::template declared<std::remove_const_t<T>>)
      Hook::template signature_mismatch<std::remove_const_t<T>, A...>();
    return;
  } else if constexpr (m.arity == static_cast<int>(sizeof...(A))) {
    // Every argument: the common case, called without the tuple of a prefix.
    if constexpr (m.with_context)
      return Hook::invoke(self, detail::pass(std::forward<A>(args))..., ctx);
    else
      return Hook::invoke(self, detail::pass(std::forward<A>(args))...);
  } else {
    auto refs = std::tuple<detail::passed_t<A>...>(detail::pass(std::forward<A>(args))...);
    return [&]<std::size_t... I>(std::index_sequence<I...>) -> decltype(auto) {
      if constexpr (m.with_context)
        return Hook::invoke(self, std::get<I>(std::move(refs))..., ctx);
      else
        return Hook::invoke(self, std::get<I>(std::move(refs))...);
    }(std::make_index_sequence<static_cast<std::size_t>(m.arity)>{});
  }
}

// Calls f(callback) for each callback, in order. A std::optional<Callback> element is a
// built-in the Trainer may switch off at run time (the default progress bar, logger, ...):
// it is visited only when engaged.
// (A fold over the indices, not std::apply: each use instantiates a few functions, not the
// dozen layers of std::apply and std::invoke, and the loops use it for every hook.)
template <class... Callbacks, class F>
constexpr void for_each_callback(std::tuple<Callbacks...>& callbacks, F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (detail::visit_callback(std::get<I>(callbacks), f), ...);
  }(std::index_sequence_for<Callbacks...>{});
}

// Calls f(callback) for each callback that may have the hook, in order; nothing is
// instantiated for the others, and no loop at all when none may have it.
template <class Hook, class... Callbacks, class F>
constexpr void for_each_callback_with(Hook, std::tuple<Callbacks...>& callbacks, F&& f) {
  if constexpr ((may_have<Hook, ::volt::detail::unwrap_optional_t<Callbacks>> || ...)) {
    for_each_callback(callbacks, [&](auto& cb) {
      if constexpr (may_have<Hook, decltype(cb)>) f(cb);
    });
  }
}

// Calls the hook on every callback (in order), then on the module: Lightning's order for
// almost every hook.
template <class Hook, class Module, class... Callbacks, class Ctx, class... A>
constexpr void call_callbacks_then_module(Hook hook, std::tuple<Callbacks...>& callbacks, Module& module,
                                          Ctx& ctx, A&&... args) {
  for_each_callback_with(hook, callbacks, [&](auto& cb) { hooks::call(hook, cb, ctx, args...); });
  hooks::call(hook, module, ctx, std::forward<A>(args)...);
}

}  // namespace volt::hooks
