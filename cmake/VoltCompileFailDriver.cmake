# cmake -P driver of one compile-fail test; see cmake/VoltCompileFail.cmake.
#   -DVOLT_BUILD_DIR=<main build dir> -DVOLT_CONFIG=<config> -DVOLT_TWIN=<target>
#   [-DVOLT_FAIL=<target> -DVOLT_REGEX_FILE=<file> -DVOLT_SOURCE=<case.cpp>]
# With only VOLT_TWIN: passes if the twin builds. With VOLT_FAIL too: the twin must build,
# then VOLT_FAIL must fail to build with output matching the regex in VOLT_REGEX_FILE.
cmake_minimum_required(VERSION 3.20)

foreach(var VOLT_BUILD_DIR VOLT_TWIN)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "VoltCompileFailDriver.cmake: -D${var}=... is required")
  endif()
endforeach()

function(volt_build target out_rc out_log)
  set(config_args "")
  if(VOLT_CONFIG)
    set(config_args --config "${VOLT_CONFIG}")
  endif()
  execute_process(
    COMMAND "${CMAKE_COMMAND}" --build "${VOLT_BUILD_DIR}" --target "${target}" ${config_args}
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE log
    ERROR_VARIABLE log)  # the same variable for both: merged in order
  set(${out_rc} "${rc}" PARENT_SCOPE)
  set(${out_log} "${log}" PARENT_SCOPE)
endfunction()

volt_build("${VOLT_TWIN}" twin_rc twin_log)
if(NOT twin_rc EQUAL 0)
  message("${twin_log}")
  message(FATAL_ERROR "FAIL: the compiling twin `${VOLT_TWIN}` (the case without "
                      "VOLT_COMPILE_FAIL) does not build (exit ${twin_rc}); its output is above. "
                      "A compile-fail case only proves something when its twin compiles.")
endif()
if(NOT DEFINED VOLT_FAIL)
  message(STATUS "PASS: `${VOLT_TWIN}` builds")
  return()
endif()

file(READ "${VOLT_REGEX_FILE}" regex)
volt_build("${VOLT_FAIL}" fail_rc fail_log)
if(fail_rc EQUAL 0)
  message("${fail_log}")
  message(FATAL_ERROR "FAIL: `${VOLT_FAIL}` (${VOLT_SOURCE} with -DVOLT_COMPILE_FAIL) compiled, "
                      "but it must not; expected a diagnostic matching: ${regex}")
endif()
if(NOT fail_log MATCHES "${regex}")
  message("${fail_log}")
  message(FATAL_ERROR "FAIL: `${VOLT_FAIL}` (${VOLT_SOURCE} with -DVOLT_COMPILE_FAIL) failed to "
                      "build as it should, but its output (above) does not match: ${regex}")
endif()
set(matched "${CMAKE_MATCH_0}")
# `// expect-within: <bytes>`: the diagnostic must start within that many bytes of the
# compiler's first diagnostic line (so a message buried under pages of template context fails).
file(STRINGS "${VOLT_SOURCE}" within_lines REGEX "^[ \t]*//[ \t]*expect-within:" LIMIT_COUNT 1)
if(within_lines)
  string(REGEX REPLACE "^[ \t]*//[ \t]*expect-within:[ \t]*([0-9]+).*" "\\1" within "${within_lines}")
  set(first -1)
  foreach(marker "In file included from" ": In " "error:")
    string(FIND "${fail_log}" "${marker}" at)
    if(at GREATER -1 AND (first EQUAL -1 OR at LESS first))
      set(first ${at})
    endif()
  endforeach()
  string(FIND "${fail_log}" "${matched}" match_at)
  math(EXPR distance "${match_at} - ${first}")
  if(first EQUAL -1 OR distance GREATER within)
    message("${fail_log}")
    message(FATAL_ERROR "FAIL: `${VOLT_FAIL}`'s diagnostic starts ${distance} bytes after the compiler's first "
                        "diagnostic line; at most ${within} are allowed (`// expect-within:`).")
  endif()
  message(STATUS "the diagnostic starts ${distance} bytes into the compiler's output (at most ${within})")
endif()
message(STATUS "PASS: `${VOLT_FAIL}` fails to compile with: ${matched}")
