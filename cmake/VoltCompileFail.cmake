# Compile-fail tests: a case is one .cpp whose mistake sits inside `#ifdef VOLT_COMPILE_FAIL`.
#
#   volt_add_compile_fail_test(<name> <source.cpp> [<regex>])
#
# builds <source.cpp> twice, as two object libraries that reuse the shared <torch/torch.h> PCH
# (cmake/VoltTorchPch.cmake):
#   volt_cf_<name>_twin   without the define: it must compile. Part of `all`, so the twins build
#                         in parallel with everything else and their tests find them up to date;
#   volt_cf_<name>_fail   with -DVOLT_COMPILE_FAIL: it must not (EXCLUDE_FROM_ALL). Only these
#                         builds run inside ctest, one at a time.
# and adds two ctest tests:
#   compile_fail.<name>.twin  passes if the twin builds;
#   compile_fail.<name>       builds the twin first (it must succeed: the failure must come from
#                             the mistake, not from a broken file), then the failing target; passes
#                             only if that build fails AND its output matches <regex> (CMake regex
#                             syntax). Otherwise it fails and prints the build output.
# Without <regex>, the regex is read from the source's `// expect: <regex>` line.
include_guard(GLOBAL)
include("${CMAKE_CURRENT_LIST_DIR}/VoltTorchPch.cmake")

set(_VOLT_COMPILE_FAIL_DRIVER "${CMAKE_CURRENT_LIST_DIR}/VoltCompileFailDriver.cmake")

# volt_read_compile_fail_expectation(<source> <out-var>): the text after `// expect: ` on the
# first such line of <source>; a fatal error when there is none.
function(volt_read_compile_fail_expectation source out_var)
  file(STRINGS "${source}" _lines REGEX "^[ \t]*//[ \t]*expect:" LIMIT_COUNT 1)
  if(NOT _lines)
    message(FATAL_ERROR "${source}: a compile-fail case must have a line `// expect: <regex>` "
                        "naming the diagnostic it must produce")
  endif()
  string(REGEX REPLACE "^[ \t]*//[ \t]*expect:[ \t]*" "" _regex "${_lines}")
  string(STRIP "${_regex}" _regex)
  if(_regex STREQUAL "")
    message(FATAL_ERROR "${source}: `// expect:` is followed by an empty regex")
  endif()
  set(${out_var} "${_regex}" PARENT_SCOPE)
endfunction()

function(volt_add_compile_fail_test name source)
  get_filename_component(source "${source}" ABSOLUTE)
  if(ARGC GREATER 2)
    set(regex "${ARGV2}")
  else()
    volt_read_compile_fail_expectation("${source}" regex)
  endif()

  set(twin volt_cf_${name}_twin)
  set(fail volt_cf_${name}_fail)
  add_library(${twin} OBJECT "${source}")
  add_library(${fail} OBJECT EXCLUDE_FROM_ALL "${source}")
  foreach(target IN ITEMS ${twin} ${fail})
    target_link_libraries(${target} PRIVATE volt::volt)
    volt_reuse_torch_pch(${target})
    # Plain diagnostics, whatever CMAKE_COLOR_DIAGNOSTICS says: the output is matched by a regex.
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
      target_compile_options(${target} PRIVATE -fdiagnostics-color=never)
    endif()
  endforeach()
  target_compile_definitions(${fail} PRIVATE VOLT_COMPILE_FAIL)

  # The regex goes through a file, so no character in it needs escaping on a command line.
  set(regex_file "${CMAKE_CURRENT_BINARY_DIR}/${name}.expect")
  file(WRITE "${regex_file}" "${regex}")

  set(common -DVOLT_BUILD_DIR=${CMAKE_BINARY_DIR} -DVOLT_CONFIG=$<CONFIG> -DVOLT_TWIN=${twin})
  add_test(NAME compile_fail.${name}.twin
           COMMAND "${CMAKE_COMMAND}" ${common} -P "${_VOLT_COMPILE_FAIL_DRIVER}")
  add_test(NAME compile_fail.${name}
           COMMAND "${CMAKE_COMMAND}" ${common} -DVOLT_FAIL=${fail} -DVOLT_REGEX_FILE=${regex_file}
                   -DVOLT_SOURCE=${source} -P "${_VOLT_COMPILE_FAIL_DRIVER}")
  # Both run `cmake --build` in the main build tree: never two at once (ctest -jN).
  set_tests_properties(compile_fail.${name}.twin compile_fail.${name} PROPERTIES
    RESOURCE_LOCK volt_build_tree
    LABELS compile_fail
    TIMEOUT 600)
  set_tests_properties(compile_fail.${name} PROPERTIES DEPENDS compile_fail.${name}.twin)
endfunction()
