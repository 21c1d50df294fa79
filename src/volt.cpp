// The one TU of volt::compiled: volt's type-independent code, compiled once per project
// (VOLT_SEPARATE_COMPILATION is a PUBLIC definition of that target). See include/volt/impl/src.hpp.
#include <volt/impl/src.hpp>
