#pragma once
// One tag per hook (volt::hooks::training_step, volt::hooks::on_train_epoch_start, ...). A tag
// knows its name, how to call the hook through volt::access, whether a type declares a member
// of that name, and the diagnostic to give when that member has the wrong signature.
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <volt/hooks/access.hpp>
#include <volt/hooks/hook_list.hpp>

namespace volt::diagnostic {
// Never defined true: the compiler's note on a failed static_assert prints these template
// arguments, which puts the user's type and the argument types into the diagnostic.
template <class Type, class Hook, class... Args>
struct hook_signature_does_not_match {
  static constexpr bool value = false;  // declared here, so g++'s note names this type
};
}  // namespace volt::diagnostic

namespace volt::hooks {

#define VOLT_HOOK_TAG(NAME, MIN_ARGS, SIGNATURE)                                                   \
  struct NAME##_t {                                                                                \
    static constexpr std::string_view name = #NAME;                                                \
    static constexpr std::string_view signature = SIGNATURE;                                       \
    static constexpr std::size_t min_args = MIN_ARGS;                                              \
    template <class T, class... A>                                                                 \
    static constexpr auto invoke(T& self, A&&... args)                                             \
        -> decltype(::volt::access::NAME(self, std::forward<A>(args)...)) {                        \
      return ::volt::access::NAME(self, std::forward<A>(args)...);                                 \
    }                                                                                              \
    template <class T>                                                                             \
    static constexpr bool declared = ::volt::access::template NAME##_declared<T>;                  \
    template <class T>                                                                             \
    static constexpr bool named = ::volt::hooks::named::NAME<T>;                                   \
    template <class T, class... A>                                                                 \
    static constexpr void signature_mismatch() {                                                   \
      static_assert(::volt::diagnostic::hook_signature_does_not_match<T, NAME##_t, A...>::value,   \
                    "volt: `" #NAME "` is declared but cannot be called with the arguments volt "  \
                    "passes. Expected: " SIGNATURE                                                 \
                    " (later parameters may be left out; the trailing volt::Context& is optional)"); \
    }                                                                                              \
  };                                                                                               \
  inline constexpr NAME##_t NAME{};

VOLT_HOOK_LIST(VOLT_HOOK_TAG)
#undef VOLT_HOOK_TAG

}  // namespace volt::hooks
