// volt::compiled's second TU: volt::cli's type-independent code (it needs yaml-cpp, so it is an
// object of its own that only programs using the CLI pull in). See include/volt/impl/src_cli.hpp.
#include <volt/impl/src_cli.hpp>
