# cmake -P driver of the ctest tests consumer.find_package and consumer.add_subdirectory:
# configures, builds and runs the project in tests/consumer/ against volt.
#   cmake -DVOLT_CONSUMER_MODE=find_package|add_subdirectory [-DVOLT_CONSUMER_TARGET=volt::volt|volt::compiled]
#         -DVOLT_CONSUMER_PARAMS=<file written by tests/CMakeLists.txt> -P cmake/VoltConsumerTest.cmake
# find_package: `cmake --install` the volt build tree into <work>/prefix first, then configure the
# consumer with CMAKE_PREFIX_PATH=<work>/prefix and check that volt_DIR was found there.
# Everything happens in a fresh <work> directory inside the volt build tree.
cmake_minimum_required(VERSION 3.20)

if(NOT VOLT_CONSUMER_MODE MATCHES "^(find_package|add_subdirectory)$")
  message(FATAL_ERROR "-DVOLT_CONSUMER_MODE=find_package|add_subdirectory is required")
endif()
# Sets VOLT_SOURCE_DIR VOLT_BINARY_DIR VOLT_CONSUMER_SOURCE_DIR VOLT_CONSUMER_WORK_DIR
# VOLT_GENERATOR VOLT_MAKE_PROGRAM VOLT_CXX_COMPILER VOLT_BUILD_TYPE VOLT_PREFIX_PATH VOLT_TORCH_DIR.
include("${VOLT_CONSUMER_PARAMS}")
if(NOT VOLT_CONSUMER_TARGET)
  set(VOLT_CONSUMER_TARGET volt::volt)
endif()
if(NOT VOLT_CONSUMER_TARGET MATCHES "^volt::(volt|compiled)$")
  message(FATAL_ERROR "-DVOLT_CONSUMER_TARGET must be volt::volt or volt::compiled")
endif()
string(REPLACE "volt::" "" target_name "${VOLT_CONSUMER_TARGET}")

set(work "${VOLT_CONSUMER_WORK_DIR}/${VOLT_CONSUMER_MODE}-${target_name}")
set(prefix "${work}/prefix")
set(build "${work}/build")
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}")

# Each step runs in the work dir: the consumer, like any volt program with the default
# default_root_dir, writes lightning_logs/ into its working directory, and the work dir is removed
# by the next run of this test (ctest's own directory is shared by every test).
function(run_step what)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${work}" RESULT_VARIABLE rc OUTPUT_VARIABLE log
                  ERROR_VARIABLE log)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message("${log}")
    message(FATAL_ERROR "FAIL (consumer.${VOLT_CONSUMER_MODE}): ${what} failed (exit ${rc}); "
                        "output above.\n  command: ${cmd}")
  endif()
  message(STATUS "${what}: ok")
  set(step_log "${log}" PARENT_SCOPE)
endfunction()

set(configure_args
  -S "${VOLT_CONSUMER_SOURCE_DIR}" -B "${build}"
  -G "${VOLT_GENERATOR}"
  "-DCMAKE_CXX_COMPILER=${VOLT_CXX_COMPILER}"
  "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON"
  "-DVOLT_CONSUMER_TARGET=${VOLT_CONSUMER_TARGET}")
if(VOLT_MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${VOLT_MAKE_PROGRAM}")
endif()
if(VOLT_BUILD_TYPE)
  list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${VOLT_BUILD_TYPE}")
endif()

set(prefix_path "${VOLT_PREFIX_PATH}")   # the parent build's CMAKE_PREFIX_PATH (e.g. a CUDA libtorch)
if(VOLT_CONSUMER_MODE STREQUAL "find_package")
  set(install_config "")
  if(VOLT_BUILD_TYPE)
    set(install_config --config "${VOLT_BUILD_TYPE}")
  endif()
  run_step("cmake --install of the volt build tree into ${prefix}"
           "${CMAKE_COMMAND}" --install "${VOLT_BINARY_DIR}" --prefix "${prefix}" ${install_config})
  list(PREPEND prefix_path "${prefix}")
else()
  list(APPEND configure_args -DVOLT_CONSUMER_USE_SUBDIRECTORY=ON "-DVOLT_SOURCE_DIR=${VOLT_SOURCE_DIR}")
endif()
if(VOLT_TORCH_DIR)
  list(APPEND configure_args "-DTorch_DIR=${VOLT_TORCH_DIR}")   # the same libtorch as volt's build
endif()
# CMAKE_PREFIX_PATH is a list: it goes through an initial-cache file, not a -D argument.
file(WRITE "${work}/init-cache.cmake" "set(CMAKE_PREFIX_PATH [==[${prefix_path}]==] CACHE STRING \"\")\n")
list(APPEND configure_args -C "${work}/init-cache.cmake")

run_step("configure the consumer" "${CMAKE_COMMAND}" ${configure_args})

if(VOLT_CONSUMER_MODE STREQUAL "find_package")
  # The package must come from the fresh install, not from the build tree or elsewhere.
  file(STRINGS "${build}/CMakeCache.txt" volt_dir_line REGEX "^volt_DIR:")
  string(REGEX REPLACE "^volt_DIR:[A-Z]+=" "" volt_dir "${volt_dir_line}")
  file(REAL_PATH "${volt_dir}" volt_dir)
  file(REAL_PATH "${prefix}" real_prefix)
  string(FIND "${volt_dir}" "${real_prefix}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "FAIL (consumer.find_package): volt was found in `${volt_dir}`, "
                        "not in the install prefix `${real_prefix}`")
  endif()
  message(STATUS "volt package found in ${volt_dir}")
endif()

set(build_config "")
if(VOLT_BUILD_TYPE)
  set(build_config --config "${VOLT_BUILD_TYPE}")
endif()
run_step("build the consumer" "${CMAKE_COMMAND}" --build "${build}" ${build_config})

set(exe "")
foreach(candidate "${build}/volt_consumer" "${build}/${VOLT_BUILD_TYPE}/volt_consumer"
                  "${build}/volt_consumer.exe" "${build}/${VOLT_BUILD_TYPE}/volt_consumer.exe")
  if(EXISTS "${candidate}" AND NOT IS_DIRECTORY "${candidate}")
    set(exe "${candidate}")
    break()
  endif()
endforeach()
if(NOT exe)
  message(FATAL_ERROR "FAIL (consumer.${VOLT_CONSUMER_MODE}): no volt_consumer executable in ${build}")
endif()
run_step("run the consumer" "${exe}")
# The program says which mode it was compiled in; it must be the one of the target it linked.
if(VOLT_CONSUMER_TARGET STREQUAL "volt::compiled")
  set(expected_mode "compiled")
else()
  set(expected_mode "header-only")
endif()
if(NOT step_log MATCHES "volt mode: ${expected_mode}\n")
  message(FATAL_ERROR "FAIL (consumer.${VOLT_CONSUMER_MODE}): linked ${VOLT_CONSUMER_TARGET} but the program "
                      "was not compiled in ${expected_mode} mode; its output:\n${step_log}")
endif()
message(STATUS "consumer output:\n${step_log}")
message(STATUS "PASS: consumer.${VOLT_CONSUMER_MODE} with ${VOLT_CONSUMER_TARGET}")
