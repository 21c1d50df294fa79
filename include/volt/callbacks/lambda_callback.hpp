#pragma once
// volt::LambdaCallback: Lightning's LambdaCallback (callbacks/lambda_function.py), a callback
// made of one callable per hook:
//
//   auto cb = volt::LambdaCallback{
//       volt::lambda::on_train_epoch_end([&](volt::Context& ctx) { ... }),
//       volt::lambda::on_train_batch_end([&](const auto& out, const auto& batch, std::int64_t i) { ... })};
//   volt::Trainer<Model, Data, volt::SingleDevice, volt::precision::FP32, decltype(cb)> trainer{{}, cb};
//
// Why this design: each volt::lambda::<hook>(f) is a tiny struct whose one member function is
// named like the hook and calls f; LambdaCallback<Parts...> derives from the parts, so it has
// exactly the hooks it was given and the Trainer finds them at compile time like any
// callback's. A hook that was not given does not exist: nothing is generated or called for it,
// and there is no std::function, no allocation and no indirect call (a captureless lambda
// adds no storage). The price is that the callback's type names its lambdas (use decltype).
//
// Each callable may take what the hook passes (the same parameters as the module's hook of that
// name), any prefix of them, each optionally followed by volt::Context& -- the rule for module
// hooks; the longest form that fits wins, with the Context preferred. A callable that fits none
// is a compile error naming the hook. Giving the same hook twice is a compile error too.
#include <cstddef>
#include <iterator>
#include <tuple>
#include <type_traits>
#include <utility>

#include <volt/core/context.hpp>

namespace volt {

namespace callback_detail {

struct LambdaForm {
  int arity = -1;  // how many of the hook's arguments the callable takes; -1: no form fits
  bool with_context = false;
};

// The longest prefix of Args (a std::tuple of the hook's argument types) that F accepts,
// with a trailing Context& first (when there is one to pass), then without.
template <class F, class Args, std::size_t N, bool HasContext>
consteval LambdaForm find_lambda_form() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    if constexpr (HasContext && std::is_invocable_v<F&, std::tuple_element_t<I, Args>..., Context&>)
      return LambdaForm{static_cast<int>(N), true};
    else if constexpr (std::is_invocable_v<F&, std::tuple_element_t<I, Args>...>)
      return LambdaForm{static_cast<int>(N), false};
    else if constexpr (N > 0)
      return find_lambda_form<F, Args, N - 1, HasContext>();
    else
      return LambdaForm{};
  }(std::make_index_sequence<N>{});
}

template <class... A>
struct ends_with_context : std::false_type {};
template <class A>
struct ends_with_context<A> : std::is_same<std::remove_cvref_t<A>, Context> {};
template <class A, class B, class... Rest>
struct ends_with_context<A, B, Rest...> : ends_with_context<B, Rest...> {};

// The hook's arguments as the Trainer passes them: (args..., Context&). A direct call without
// the Context (as a test may make) is accepted too.
template <class F, class... A>
consteval LambdaForm lambda_form() {
  if constexpr (ends_with_context<A...>::value) {
    using All = std::tuple<A&&...>;
    return []<std::size_t... I>(std::index_sequence<I...>) {
      return find_lambda_form<F, std::tuple<std::tuple_element_t<I, All>...>, sizeof...(I), true>();
    }(std::make_index_sequence<sizeof...(A) - 1>{});
  } else {
    return find_lambda_form<F, std::tuple<A&&...>, sizeof...(A), false>();
  }
}

template <LambdaForm Form, class F, class... A>
void call_lambda(F& fn, A&&... args) {
  auto refs = std::forward_as_tuple(std::forward<A>(args)...);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    if constexpr (Form.with_context)
      fn(std::get<I>(std::move(refs))..., std::get<sizeof...(A) - 1>(refs));
    else
      fn(std::get<I>(std::move(refs))...);
  }(std::make_index_sequence<static_cast<std::size_t>(Form.arity)>{});
}

}  // namespace callback_detail

// The hooks a LambdaCallback can have: Lightning's LambdaCallback arguments that volt calls.
#define VOLT_LAMBDA_CALLBACK_HOOKS(X)                                                                           \
  X(setup) X(teardown) X(on_fit_start) X(on_fit_end) X(on_sanity_check_start) X(on_sanity_check_end)         \
  X(on_train_start) X(on_train_end) X(on_train_epoch_start) X(on_train_epoch_end) X(on_train_batch_start)   \
  X(on_train_batch_end) X(on_validation_start) X(on_validation_end) X(on_validation_epoch_start)             \
  X(on_validation_epoch_end) X(on_validation_batch_start) X(on_validation_batch_end) X(on_test_start)       \
  X(on_test_end) X(on_test_epoch_start) X(on_test_epoch_end) X(on_test_batch_start) X(on_test_batch_end)    \
  X(on_predict_start) X(on_predict_end) X(on_predict_epoch_start) X(on_predict_epoch_end)                   \
  X(on_predict_batch_start) X(on_predict_batch_end) X(on_before_zero_grad) X(on_before_backward)            \
  X(on_after_backward) X(on_before_optimizer_step) X(on_exception) X(on_save_checkpoint) X(on_load_checkpoint)

namespace lambda {

// volt::lambda::NAME(f) -> NAME_fn<F>, a one-hook callback part.
#define VOLT_LAMBDA_PART(NAME)                                                                                  \
  template <class F>                                                                                           \
  struct NAME##_fn {                                                                                           \
    [[no_unique_address]] F fn;                                                                                \
    template <class... A>                                                                                      \
    void NAME(A&&... args) {                                                                                   \
      constexpr auto form = ::volt::callback_detail::lambda_form<F, A...>();                                   \
      static_assert(form.arity >= 0,                                                                           \
                    "volt: the callable given to volt::lambda::" #NAME "() cannot take the arguments of the " \
                    "hook `" #NAME "`: it must accept them, or a prefix of them, optionally followed by "       \
                    "volt::Context& (see the hook's signature in volt/hooks/hook_list.hpp).");                 \
      if constexpr (form.arity >= 0) ::volt::callback_detail::call_lambda<form>(fn, std::forward<A>(args)...);  \
    }                                                                                                          \
  };                                                                                                           \
  template <class F>                                                                                           \
  constexpr NAME##_fn<std::decay_t<F>> NAME(F&& f) {                                                           \
    return {std::forward<F>(f)};                                                                               \
  }
VOLT_LAMBDA_CALLBACK_HOOKS(VOLT_LAMBDA_PART)
#undef VOLT_LAMBDA_PART

}  // namespace lambda

namespace callback_detail {
// Which hook a part is for (none: not a part), to refuse one hook given twice with a clear message.
enum class LambdaHook {
  none,
#define VOLT_LAMBDA_HOOK_ENUM(NAME) NAME,
  VOLT_LAMBDA_CALLBACK_HOOKS(VOLT_LAMBDA_HOOK_ENUM)
#undef VOLT_LAMBDA_HOOK_ENUM
};
template <class T>
inline constexpr LambdaHook lambda_hook_of = LambdaHook::none;
#define VOLT_LAMBDA_HOOK_OF(NAME) \
  template <class F>              \
  inline constexpr LambdaHook lambda_hook_of<lambda::NAME##_fn<F>> = LambdaHook::NAME;
VOLT_LAMBDA_CALLBACK_HOOKS(VOLT_LAMBDA_HOOK_OF)
#undef VOLT_LAMBDA_HOOK_OF

template <class... Parts>
consteval bool distinct_hooks() {
  constexpr LambdaHook hooks[] = {LambdaHook::none, lambda_hook_of<Parts>...};
  for (std::size_t i = 1; i < std::size(hooks); ++i)
    for (std::size_t j = i + 1; j < std::size(hooks); ++j)
      if (hooks[i] == hooks[j]) return false;
  return true;
}
}  // namespace callback_detail

template <class... Parts>
struct LambdaCallback : Parts... {
  static_assert(((callback_detail::lambda_hook_of<Parts> != callback_detail::LambdaHook::none) && ...),
                "volt::LambdaCallback is made of parts from volt::lambda::<hook>(callable), e.g. "
                "volt::lambda::on_train_epoch_end([](volt::Context& ctx) { ... }).");
  static_assert(callback_detail::distinct_hooks<Parts...>(),
                "volt::LambdaCallback: the same hook is given twice; combine the two callables into one.");

  explicit constexpr LambdaCallback(Parts... parts) : Parts(std::move(parts))... {}
};
template <class... Parts>
LambdaCallback(Parts...) -> LambdaCallback<Parts...>;

}  // namespace volt

#undef VOLT_LAMBDA_CALLBACK_HOOKS
