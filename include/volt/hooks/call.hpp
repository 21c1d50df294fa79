#pragma once
// Detecting and calling hooks. The loops write `hooks::call(hooks::on_train_epoch_start, model,
// ctx)`; when the type has no such hook the call compiles to nothing. A hook may take the
// arguments volt passes, a prefix of them (down to the tag's min_args), and a trailing
// volt::Context& or not: the longest form that fits wins, with Context preferred.
#include <cstddef>
#include <optional>
#include <tuple>
#include <utility>

#include <volt/fwd.hpp>
#include <volt/detail/meta.hpp>
#include <volt/hooks/tags.hpp>

namespace volt::hooks {

struct match {
  int arity = -1;  // how many of the passed arguments the hook takes; -1: no hook
  bool with_context = false;
  constexpr bool found() const noexcept { return arity >= 0; }
};

template <class Hook, class T, class... A>
concept invocable_as = requires(T& self, A&&... args) { Hook::invoke(self, std::forward<A>(args)...); };

namespace detail {
template <class Hook, class T, class Args, std::size_t N>
consteval match find_match() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    if constexpr (invocable_as<Hook, T, std::tuple_element_t<I, Args>..., Context&>)
      return match{static_cast<int>(N), true};
    else if constexpr (invocable_as<Hook, T, std::tuple_element_t<I, Args>...>)
      return match{static_cast<int>(N), false};
    else if constexpr (N > Hook::min_args)
      return find_match<Hook, T, Args, N - 1>();
    else
      return match{};
  }(std::make_index_sequence<N>{});
}
}  // namespace detail

// How `Hook` can be called on a T given arguments of types A... (as they will be passed).
template <class Hook, class T, class... A>
inline constexpr match match_v = sizeof...(A) < Hook::min_args
                                     ? match{}
                                     : detail::find_match<Hook, T, std::tuple<A&&...>, sizeof...(A)>();

// True when T has the hook in a form that takes (a prefix of) A....
template <class Hook, class T, class... A>
concept has = match_v<Hook, std::remove_cvref_t<T>, A...>.found();

// True when T declares a member named like the hook but no form of it fits A...: a near miss.
template <class Hook, class T, class... A>
concept near_miss = !has<Hook, T, A...> && Hook::template declared<std::remove_cvref_t<T>>;

// Calls the hook if T has it. A declared hook with the wrong signature is a compile error
// that quotes the expected signature; an absent hook generates no code.
template <class Hook, class T, class... A>
constexpr decltype(auto) call(Hook, T& self, Context& ctx, A&&... args) {
  constexpr match m = match_v<Hook, std::remove_const_t<T>, A...>;
  if constexpr (!m.found()) {
    if constexpr (Hook::template declared<std::remove_const_t<T>>)
      Hook::template signature_mismatch<std::remove_const_t<T>, A...>();
    return;
  } else {
    auto refs = std::forward_as_tuple(std::forward<A>(args)...);
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
template <class... Callbacks, class F>
constexpr void for_each_callback(std::tuple<Callbacks...>& callbacks, F&& f) {
  std::apply(
      [&](auto&... cb) {
        auto visit = [&](auto& one) {
          if constexpr (::volt::detail::is_specialization_of_v<std::remove_cvref_t<decltype(one)>, std::optional>) {
            if (one) f(*one);
          } else {
            f(one);
          }
        };
        (visit(cb), ...);
      },
      callbacks);
}

// Calls the hook on every callback (in order), then on the module: Lightning's order for
// almost every hook.
template <class Hook, class Module, class... Callbacks, class... A>
constexpr void call_callbacks_then_module(Hook hook, std::tuple<Callbacks...>& callbacks, Module& module,
                                          Context& ctx, A&&... args) {
  for_each_callback(callbacks, [&](auto& cb) { hooks::call(hook, cb, ctx, args...); });
  hooks::call(hook, module, ctx, std::forward<A>(args)...);
}

}  // namespace volt::hooks
