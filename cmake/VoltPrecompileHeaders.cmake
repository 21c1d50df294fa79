# volt_target_precompile_headers(<target> [HEADERS <header>...])
#
# Gives <target> a precompiled header with <torch/torch.h> and <volt/volt.hpp> (plus any
# HEADERS, e.g. <volt/cli/lightning_cli.hpp>), compiled with <target>'s own flags: -O level,
# -D macros (VOLT_SEPARATE_COMPILATION from volt::compiled included) and include paths. g++
# silently ignores a PCH built with other flags and parses everything again (<torch/torch.h>
# alone is ~10-25 s and >1 GB per TU), so -Winvalid-pch is added to say when that happens.
# Call it after target_link_libraries(<target> ... volt::volt or volt::compiled), for a target
# whose TUs all include volt; one PCH per target, built once before its TUs.
#
#   add_executable(train main.cpp model.cpp)
#   target_link_libraries(train PRIVATE volt::compiled)
#   volt_target_precompile_headers(train)
include_guard(GLOBAL)

function(volt_target_precompile_headers target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "HEADERS")
  if(NOT TARGET ${target})
    message(FATAL_ERROR "volt_target_precompile_headers: `${target}` is not a target; call it after add_executable/add_library")
  endif()
  target_precompile_headers(${target} PRIVATE <torch/torch.h> <volt/volt.hpp> ${arg_HEADERS})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Winvalid-pch)
  endif()
endfunction()
