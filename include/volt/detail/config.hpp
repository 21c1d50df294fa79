#pragma once
// How volt's type-independent code is compiled (docs/performance.md, "Header-only or compiled").
//
// Header-only (the default): each header includes its implementation file (<header>/impl/*.ipp)
// and the definitions there are `inline`, compiled in every translation unit that uses them.
//
// VOLT_SEPARATE_COMPILATION (defined by the CMake target volt::compiled, or by hand on every TU of
// a project): the headers only declare those functions, and one TU of the project compiles them
// once, by including <volt/impl/src.hpp> (volt::compiled's src/volt.cpp does). Templates, the
// loops and everything that depends on a user's types stay in the headers in both modes; the
// templates volt itself instantiates with its own arguments (ProgressBar, TensorLoader, the
// built-in schedulers' LRSchedulerBase, torch optimizers' class_name) are declared `extern
// template` in this mode and instantiated once, in <volt/impl/src.hpp>, as {fmt} does.
// Every TU of one program must agree on the mode.
#if defined(VOLT_SEPARATE_COMPILATION) && defined(VOLT_HEADER_ONLY)
#error "volt: define either VOLT_SEPARATE_COMPILATION or VOLT_HEADER_ONLY, not both"
#endif

#if defined(VOLT_SEPARATE_COMPILATION)
#define VOLT_INLINE
#else
#if !defined(VOLT_HEADER_ONLY)
#define VOLT_HEADER_ONLY 1
#endif
#define VOLT_INLINE inline
#endif
