# cmake -P script behind the ctest test `no_virtual_in_include`: volt has no virtual dispatch
# (see DESIGN.md), so the word `virtual` must not appear in include/volt outside `//` comments.
#   cmake -DVOLT_INCLUDE_DIR=<repo>/include/volt -P cmake/VoltNoVirtual.cmake
# Fails listing file:line: text for every hit. (A /* */ comment or a string still counts.)
cmake_minimum_required(VERSION 3.20)
if(NOT VOLT_INCLUDE_DIR OR NOT IS_DIRECTORY "${VOLT_INCLUDE_DIR}")
  message(FATAL_ERROR "VoltNoVirtual.cmake: -DVOLT_INCLUDE_DIR=<dir> must name a directory")
endif()

file(GLOB_RECURSE files LIST_DIRECTORIES false
     "${VOLT_INCLUDE_DIR}/*.hpp" "${VOLT_INCLUDE_DIR}/*.h" "${VOLT_INCLUDE_DIR}/*.ipp")
list(SORT files)
set(hits "")
set(count 0)
foreach(file IN LISTS files)
  file(READ "${file}" text)
  # Make the text a safe CMake list of lines: hide the characters that lists treat specially.
  string(REPLACE "\\" "<bs>" text "${text}")
  string(REPLACE ";" "<semi>" text "${text}")
  string(REPLACE "[" "<lb>" text "${text}")
  string(REPLACE "]" "<rb>" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(lineno 0)
  foreach(line IN LISTS lines)   # IN LISTS keeps empty elements, so line numbers stay right
    math(EXPR lineno "${lineno} + 1")
    string(REGEX REPLACE "//.*$" "" code "${line}")
    if(code MATCHES "(^|[^A-Za-z0-9_])virtual([^A-Za-z0-9_]|$)")
      file(RELATIVE_PATH rel "${VOLT_INCLUDE_DIR}/../.." "${file}")
      string(STRIP "${line}" shown)
      string(REPLACE "<bs>" "\\" shown "${shown}")
      string(REPLACE "<semi>" ";" shown "${shown}")
      string(REPLACE "<lb>" "[" shown "${shown}")
      string(REPLACE "<rb>" "]" shown "${shown}")
      string(APPEND hits "  ${rel}:${lineno}: ${shown}\n")
      math(EXPR count "${count} + 1")
    endif()
  endforeach()
endforeach()

list(LENGTH files nfiles)
if(count GREATER 0)
  message(FATAL_ERROR "volt has no virtual dispatch, but `virtual` appears ${count} time(s) in "
                      "include/volt:\n${hits}")
endif()
message(STATUS "no `virtual` in ${nfiles} header(s) under ${VOLT_INCLUDE_DIR}")
