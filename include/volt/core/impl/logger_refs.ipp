#pragma once
// Definitions of <volt/core/logger_refs.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/core/logger_refs.hpp>

namespace volt {

VOLT_INLINE void LoggerRefs::add_ref(std::any ref) { refs_.push_back(std::move(ref)); }

}  // namespace volt
