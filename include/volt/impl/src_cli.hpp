#pragma once
// volt::cli's type-independent code, for the separately compiled mode: the second TU of
// volt::compiled (src/volt_cli.cpp), apart from <volt/impl/src.hpp> because it needs yaml-cpp.
// In the static library it is its own object file, which the linker takes only into programs that
// call volt::cli (and link yaml-cpp, as volt::cli does); a program without the CLI needs neither.
// Without CMake: compile one more .cpp that includes this header, with VOLT_SEPARATE_COMPILATION,
// into a program that uses <volt/cli/lightning_cli.hpp>.
#if !defined(VOLT_SEPARATE_COMPILATION)
#error "volt: <volt/impl/src_cli.hpp> is for the separately compiled mode: define VOLT_SEPARATE_COMPILATION for every TU (or link the CMake target volt::compiled), or leave it out and use volt header-only"
#endif

#include <volt/cli/impl/config.ipp>
#include <volt/cli/impl/lightning_cli.ipp>
#include <volt/cli/impl/value.ipp>
#include <volt/cli/impl/option_table.ipp>

// volt's own options structs, walked into the CLI's option table once here (extern template in
// <volt/cli/options_reflection.hpp>).
#include <volt/cli/options_reflection.hpp>

namespace volt::cli {
template void OptionTable::add_group(const std::string&, TrainerOptions&);
template void OptionTable::add_group(const std::string&, ModelCheckpoint::Options&);
template void OptionTable::add_group(const std::string&, EarlyStopping::Options&);
template void OptionTable::add_group(const std::string&, LearningRateMonitor::Options&);
template void OptionTable::add_group(const std::string&, Timer::Options&);
template void OptionTable::add_group(const std::string&, OnExceptionCheckpoint::Options&);
template void OptionTable::add_group(const std::string&, loggers::CSVLoggerOptions&);
template void OptionTable::add_group(const std::string&, loggers::TensorBoardLoggerOptions&);
template void OptionTable::add_group(const std::string&, data::FashionMNISTOptions&);
}  // namespace volt::cli
