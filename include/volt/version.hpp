#pragma once
// volt's version, as written into checkpoints and printed by tools.
#define VOLT_VERSION_MAJOR 0
#define VOLT_VERSION_MINOR 1
#define VOLT_VERSION_PATCH 0

namespace volt {
inline constexpr const char* version = "0.1.0";
}  // namespace volt
