#pragma once
// Definitions of <volt/loops/profiling.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loops/profiling.hpp>

#include <fmt/format.h>

namespace volt::loops {

VOLT_INLINE std::string join_action_name(std::string_view kind, std::string_view type, std::string_view hook) {
  return fmt::format("[{}]{}.{}", kind, type, hook);
}

}  // namespace volt::loops
