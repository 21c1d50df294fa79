#pragma once
// Definitions of <volt/checkpoint/error.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/checkpoint/error.hpp>

namespace volt::checkpoint {

VOLT_INLINE CheckpointError::CheckpointError(const std::filesystem::path& file, const std::string& message)
    : std::runtime_error(message), file_(std::make_shared<const std::filesystem::path>(file)) {}

}  // namespace volt::checkpoint
