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

# defined_symbols(<out var> <file> [-C]): nm's list of what <file> defines with external linkage.
function(defined_symbols out file)
  execute_process(COMMAND "${NM}" ${ARGN} --defined-only --extern-only "${file}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE listing ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAIL: ${NM} ${ARGN} ${file}: ${err}")
  endif()
  set(${out} "${listing}" PARENT_SCOPE)
endfunction()

defined_symbols(out "${VOLT_LIBRARY}")
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
  defined_symbols(defined "${object}")
  foreach(symbol IN LISTS symbols)
    string(FIND "${defined}" " ${symbol}\n" at)
    if(NOT at EQUAL -1)
      list(APPEND failures "${object}: ${symbol}")
    endif()
  endforeach()
endforeach()
list(LENGTH objects n_objects)

# The templates volt instantiates once with its own arguments (`extern template` in their headers,
# the instantiation in include/volt/impl/src.hpp): their out-of-class members are weak symbols of
# the library (nm type W) that no test object may define again (T or W). Compared demangled.
set(volt_extern_template_members
    "volt::BasicProgressBar<std::chrono::_V2::steady_clock>::(start|draw|finish|finish_eval|write_line|on_train_end|on_train_epoch_start|on_validation_start|on_test_start|on_predict_start|on_exception)\\("
    "volt::data::TensorBatchLoader<torch::data::Example<at::Tensor, at::Tensor> >::(TensorBatchLoader|permute|validate|set_epoch|set_shuffle|set_distributed)\\("
    "volt::optim::LRSchedulerBase<volt::optim::[A-Za-z]+>::(attach|step|save|load|bind|step_to|apply)\\("
    " volt::optim::class_name<torch::optim::[A-Za-z]+>\\(\\)")
defined_symbols(out_demangled "${VOLT_LIBRARY}" -C)
string(REGEX MATCHALL "[0-9a-f]+ W [^\n]+" weak_lines "${out_demangled}")
set(instantiated "")
foreach(line IN LISTS weak_lines)
  string(REGEX REPLACE "^[0-9a-f]+ W " "" symbol "${line}")
  foreach(pattern IN LISTS volt_extern_template_members)
    if(symbol MATCHES "${pattern}")
      list(APPEND instantiated "${symbol}")
      break()
    endif()
  endforeach()
endforeach()
list(LENGTH instantiated n_instantiated)
# The check must be able to fail: ProgressBar's and TensorLoader's members are among them.
if(n_instantiated LESS 10 OR NOT out_demangled MATCHES "TensorBatchLoader<torch::data::Example<at::Tensor, at::Tensor> >::permute"
   OR NOT out_demangled MATCHES "BasicProgressBar<std::chrono::_V2::steady_clock>::draw")
  message(FATAL_ERROR "FAIL: ${VOLT_LIBRARY} holds ${n_instantiated} members of volt's explicit instantiations, "
                      "not ProgressBar's and TensorLoader's (include/volt/impl/src.hpp)")
endif()
foreach(object IN LISTS objects)
  defined_symbols(defined "${object}" -C)
  foreach(symbol IN LISTS instantiated)
    string(FIND "${defined}" " W ${symbol}\n" at_weak)
    string(FIND "${defined}" " T ${symbol}\n" at_strong)
    if(NOT at_weak EQUAL -1 OR NOT at_strong EQUAL -1)
      list(APPEND failures "${object}: ${symbol} (explicitly instantiated in the library)")
    endif()
  endforeach()
endforeach()

if(failures)
  list(JOIN failures "\n  " text)
  message(FATAL_ERROR "FAIL: volt's type-independent functions are also compiled in these TUs "
                      "(is VOLT_SEPARATE_COMPILATION missing there?):\n  ${text}")
endif()
message(STATUS "PASS: ${count} functions and ${n_instantiated} members of explicit instantiations defined in "
               "${VOLT_LIBRARY} only, none in ${n_objects} objects")
