#pragma once
// Forward declarations of volt's vocabulary types, for headers that only name them (hooks/
// names volt::Context in signatures without depending on core/, which builds on hooks/).
namespace volt {
class Context;
}  // namespace volt
