#pragma once
// Forward declarations of volt's vocabulary types, for headers that only name them.
namespace volt {
class Context;
template <class Module>
class RunContext;
}  // namespace volt
