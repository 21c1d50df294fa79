// expect: static assertion failed: volt: demo message: expected a volt::Stage
//
// Demonstrates the compile-fail machinery (see tests/compile_fail/CMakeLists.txt): passing
// something other than a volt::Stage to a function that asks for one is a compile error with a
// `volt:` message. Without VOLT_COMPILE_FAIL, the same file must compile (its "twin").
#include <volt/core/stage.hpp>

#include <type_traits>

namespace {

template <class T>
constexpr std::string_view stage_name(T stage) {
  static_assert(std::is_same_v<T, volt::Stage>, "volt: demo message: expected a volt::Stage");
  return volt::to_string(stage);
}

}  // namespace

std::string_view volt_compile_fail_demo() {
#ifdef VOLT_COMPILE_FAIL
  return stage_name(0);  // an int is not a Stage
#else
  return stage_name(volt::Stage::fit);
#endif
}
