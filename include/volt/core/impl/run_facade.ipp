#pragma once
// Definitions of <volt/core/run_facade.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/core/run_facade.hpp>

namespace volt {

VOLT_INLINE RunFacade::RunFacade() = default;
VOLT_INLINE RunFacade::RunFacade(const RunFacade&) = default;
VOLT_INLINE RunFacade::RunFacade(RunFacade&&) noexcept = default;
VOLT_INLINE RunFacade& RunFacade::operator=(const RunFacade&) = default;
VOLT_INLINE RunFacade& RunFacade::operator=(RunFacade&&) noexcept = default;
VOLT_INLINE RunFacade::~RunFacade() = default;

}  // namespace volt
