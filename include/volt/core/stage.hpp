#pragma once
// The stage a Trainer entry point runs, as passed to setup(stage) / teardown(stage).
#include <string_view>

namespace volt {

enum class Stage { fit, validate, test, predict };

constexpr std::string_view to_string(Stage s) noexcept {
  switch (s) {
    case Stage::fit: return "fit";
    case Stage::validate: return "validate";
    case Stage::test: return "test";
    case Stage::predict: return "predict";
  }
  return "?";
}

}  // namespace volt
