# cmake -P driver of the ctest test compiled_mode.defined_once: in the separately compiled mode
# volt's type-independent functions are compiled once, in volt::compiled, and in no test TU.
#   cmake -DVOLT_LIBRARY=<libvolt.a> -DVOLT_OBJECTS_DIR=<a target's object dir> [-DNM=nm]
#         -P cmake/VoltDefinedOnce.cmake
# Every function the library defines with external linkage and strong binding (nm type T) is
# looked up in every object file under VOLT_OBJECTS_DIR; defined there too, it fails.
cmake_minimum_required(VERSION 3.20)
if(NOT NM)
  set(NM nm)
endif()

execute_process(COMMAND "${NM}" --defined-only --extern-only "${VOLT_LIBRARY}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "FAIL: ${NM} ${VOLT_LIBRARY}: ${err}")
endif()
string(REGEX MATCHALL "[0-9a-f]+ T [^\n]+" lines "${out}")
set(symbols "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^[0-9a-f]+ T " "" symbol "${line}")
  list(APPEND symbols "${symbol}")
endforeach()
list(LENGTH symbols count)
# The check must be able to fail: the library has to hold volt's functions (CheckpointWriter::write_to).
if(count LESS 20 OR NOT out MATCHES "CheckpointWriter8write_to")
  message(FATAL_ERROR "FAIL: ${VOLT_LIBRARY} defines ${count} functions, not volt's type-independent code")
endif()

file(GLOB_RECURSE objects "${VOLT_OBJECTS_DIR}/*.o")
if(NOT objects)
  message(FATAL_ERROR "FAIL: no object files under ${VOLT_OBJECTS_DIR}")
endif()
set(failures "")
foreach(object IN LISTS objects)
  execute_process(COMMAND "${NM}" --defined-only --extern-only "${object}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE defined ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAIL: ${NM} ${object}: ${err}")
  endif()
  foreach(symbol IN LISTS symbols)
    string(FIND "${defined}" " ${symbol}\n" at)
    if(NOT at EQUAL -1)
      list(APPEND failures "${object}: ${symbol}")
    endif()
  endforeach()
endforeach()
list(LENGTH objects n_objects)
if(failures)
  list(JOIN failures "\n  " text)
  message(FATAL_ERROR "FAIL: volt's type-independent functions are also compiled in these TUs "
                      "(is VOLT_SEPARATE_COMPILATION missing there?):\n  ${text}")
endif()
message(STATUS "PASS: ${count} functions defined in ${VOLT_LIBRARY} only, none in ${n_objects} objects")
