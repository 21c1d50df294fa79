#pragma once
// The callbacks a run calls, fixed at compile time: the Trainer's, merged with those the
// module's configure_callbacks() returns, as Lightning's _attach_model_callbacks does:
//   - a module callback replaces every Trainer callback of its type or a base of it;
//   - the module's come after the Trainer's;
//   - checkpoint callbacks (a type with `static constexpr bool checkpoint_callback = true`, as
//     ModelCheckpoint and OnExceptionCheckpoint have) move to the end, keeping their order,
//     so they see what the other callbacks did (Lightning's _reorder_callbacks).
// The result is a std::tuple of references: the Trainer keeps owning its callbacks, and the
// module's live in the Trainer from one entry point to the next.
#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <volt/detail/meta.hpp>

namespace volt {

namespace detail {
template <class R>
struct callback_tuple {
  using type = std::tuple<std::remove_cvref_t<R>>;
  static type make(R&& r) { return type(std::forward<R>(r)); }
};
template <class... C>
struct callback_tuple<std::tuple<C...>> {
  using type = std::tuple<C...>;
  static type make(std::tuple<C...>&& r) { return std::move(r); }
};
}  // namespace detail

namespace diagnostic {
template <class Module, class Returned>
struct configure_callbacks_must_return_callbacks {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
}  // namespace diagnostic

// A checkpoint callback (Lightning's `Checkpoint` subclasses) runs after all others.
template <class T>
concept CheckpointCallback = requires {
  requires detail::unwrap_optional_t<T>::checkpoint_callback;
};

// What configure_callbacks() returned, as a std::tuple (one callback becomes a 1-tuple).
template <class Returned>
using callback_tuple_t = typename detail::callback_tuple<std::remove_cvref_t<Returned>>::type;

template <class Module, class Returned>
callback_tuple_t<Returned> as_callback_tuple(Returned&& returned) {
  using R = std::remove_cvref_t<Returned>;
  if constexpr (!std::is_class_v<R>) {
    static_assert(diagnostic::configure_callbacks_must_return_callbacks<Module, R>::value,
                  "volt: configure_callbacks must return a callback (an object) or a std::tuple of callbacks: "
                  "auto configure_callbacks() { return std::tuple{volt::EarlyStopping{...}, MyCallback{}}; }");
    return {};
  } else {
    return detail::callback_tuple<R>::make(R(std::forward<Returned>(returned)));
  }
}

// A callback that monitors metrics (Lightning's EarlyStopping and Checkpoint subclasses): at
// on_train_epoch_end it runs after the module's hook, so it sees what that hook logged.
template <class T>
concept MonitoringCallback = CheckpointCallback<T> || requires {
  requires detail::unwrap_optional_t<T>::monitoring_callback;
};

namespace detail {
// A Trainer callback T is dropped when a module callback is a T or derives from it.
template <class T, class... U>
inline constexpr bool overridden_by = (std::derived_from<unwrap_optional_t<U>, unwrap_optional_t<T>> || ...);

template <class TrainerCallbacks, class ModuleCallbacks>
struct callback_merge;

template <class... T, class... U>
struct callback_merge<std::tuple<T...>, std::tuple<U...>> {
  static constexpr std::size_t n_all = sizeof...(T) + sizeof...(U);
  using all = std::tuple<T..., U...>;
  static constexpr std::array<bool, n_all + 1> keep{!overridden_by<T, U...>..., (sizeof(U) > 0)..., false};
  static constexpr std::array<bool, n_all + 1> last{CheckpointCallback<T>..., CheckpointCallback<U>..., false};
  static constexpr std::size_t size = [] {
    std::size_t k = 0;
    for (std::size_t i = 0; i < n_all; ++i) k += keep[i] ? 1 : 0;
    return k;
  }();
  // Indices into `all`, in calling order: kept non-checkpoint callbacks, then kept checkpoint ones.
  static constexpr std::array<std::size_t, size + 1> order = [] {
    std::array<std::size_t, size + 1> out{};
    std::size_t k = 0;
    for (int pass = 0; pass < 2; ++pass)
      for (std::size_t i = 0; i < n_all; ++i)
        if (keep[i] && last[i] == (pass == 1)) out[k++] = i;
    return out;
  }();

  template <std::size_t I>
  static auto& get(std::tuple<T...>& trainer, std::tuple<U...>& module) {
    if constexpr (I < sizeof...(T)) return std::get<I>(trainer);
    else return std::get<I - sizeof...(T)>(module);
  }
  template <std::size_t... K>
  static auto make(std::tuple<T...>& trainer, std::tuple<U...>& module, std::index_sequence<K...>) {
    return std::tuple<std::tuple_element_t<order[K], all>&...>(get<order[K]>(trainer, module)...);
  }
};
}  // namespace detail

// The merged callbacks, as references into `trainer` and `module` (see the top of this file).
template <class... T, class... U>
auto merge_callbacks(std::tuple<T...>& trainer, std::tuple<U...>& module) {
  using M = detail::callback_merge<std::tuple<T...>, std::tuple<U...>>;
  return M::make(trainer, module, std::make_index_sequence<M::size>{});
}

}  // namespace volt
