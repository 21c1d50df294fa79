#pragma once
// volt::access: the one place that calls a user's hooks by name. A model may keep its hooks
// private and write `friend struct volt::access;` (the idea of range-v3's range_access).
#include <type_traits>
#include <utility>

#include <volt/hooks/hook_list.hpp>

namespace volt {

struct access {
#define VOLT_ACCESS_MEMBER(NAME, MIN_ARGS, SIGNATURE)                                      \
  template <class T, class... A>                                                          \
  static constexpr auto NAME(T& self, A&&... args) -> decltype(self.NAME(std::forward<A>(args)...)) { \
    return self.NAME(std::forward<A>(args)...);                                           \
  }                                                                                       \
  template <class T>                                                                      \
  static constexpr bool NAME##_declared = requires { &T::NAME; };                         \
  template <class T>                                                                      \
  static auto NAME##_member() -> decltype(&T::NAME);  /* its type, for diagnostics */
  VOLT_HOOK_LIST(VOLT_ACCESS_MEMBER)
#undef VOLT_ACCESS_MEMBER
};

// Whether a type has any member of a hook's name: a plain function, an overload set or a
// member template (`&T::name` sees only the first). A class deriving from T and from a decoy
// with a data member of that name makes `&mixed::name` ambiguous exactly when T has one; one
// decoy struct holds every hook's name, so a type costs one class instantiation.
namespace hooks::named {
#define VOLT_NAME_DECOY(NAME, MIN_ARGS, SIGNATURE) int NAME;
struct decoys {
  VOLT_HOOK_LIST(VOLT_NAME_DECOY)
};
#undef VOLT_NAME_DECOY
template <class T>
struct mixed : T, decoys {};
#define VOLT_NAME_PROBE(NAME, MIN_ARGS, SIGNATURE) \
  template <class T>                               \
  concept NAME = std::is_class_v<T> && !std::is_final_v<T> && !requires { &mixed<T>::NAME; };
VOLT_HOOK_LIST(VOLT_NAME_PROBE)
#undef VOLT_NAME_PROBE
}  // namespace hooks::named

}  // namespace volt
