#pragma once
// volt::access: the one place that calls a user's hooks by name. A model may keep its hooks
// private and write `friend struct volt::access;` (the idea of range-v3's range_access).
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
  static constexpr bool NAME##_declared = requires { &T::NAME; };
  VOLT_HOOK_LIST(VOLT_ACCESS_MEMBER)
#undef VOLT_ACCESS_MEMBER
};

}  // namespace volt
