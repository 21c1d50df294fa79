# The one precompiled <torch/torch.h> shared by the header self-containment TUs and the
# compile-fail cases (the unit-test binary volt_tests has its own PCH, with Catch2 in it).
#
#   volt_reuse_torch_pch(<target>)
#
# gives <target> the PCH of the target `volt_torch_pch` (target_precompile_headers REUSE_FROM).
# A reused PCH is only valid when <target> is compiled with the flags it was built with: both
# link volt::volt and nothing else that changes flags; extra -D macros are fine as long as
# torch's headers do not use them (that is how the compile-fail cases add -DVOLT_COMPILE_FAIL).
# g++ silently ignores an invalid PCH and parses <torch/torch.h> again (~25 s, ~1.1 GB), so
# every user gets -Werror=invalid-pch: an unusable PCH is a build error, not a slow build.
include_guard(GLOBAL)

if(NOT TARGET volt_torch_pch)
  set(_volt_pch_stub "${CMAKE_BINARY_DIR}/volt_torch_pch/volt_torch_pch.cpp")
  file(CONFIGURE OUTPUT "${_volt_pch_stub}"
       CONTENT "// Owner of the shared <torch/torch.h> precompiled header; see cmake/VoltTorchPch.cmake.\n")
  add_library(volt_torch_pch OBJECT "${_volt_pch_stub}")
  target_link_libraries(volt_torch_pch PRIVATE volt::volt)
  target_compile_options(volt_torch_pch PRIVATE -Winvalid-pch)
  target_precompile_headers(volt_torch_pch PRIVATE <torch/torch.h>)
endif()

function(volt_reuse_torch_pch target)
  target_precompile_headers(${target} REUSE_FROM volt_torch_pch)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Werror=invalid-pch)
  endif()
endfunction()
