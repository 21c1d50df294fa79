#pragma once
// Definitions of <volt/callbacks/on_exception_checkpoint.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/callbacks/on_exception_checkpoint.hpp>

#include <exception>
#include <iostream>
#include <stdexcept>
#include <system_error>

namespace volt {

VOLT_INLINE OnExceptionCheckpoint::OnExceptionCheckpoint(Options options) : options_(std::move(options)) {
  if (options_.dirpath.empty())
    throw std::invalid_argument("volt: OnExceptionCheckpoint needs a dirpath (.dirpath = \"checkpoints\").");
  if (options_.filename.empty()) throw std::invalid_argument("volt: OnExceptionCheckpoint: the filename cannot be empty.");
}

VOLT_INLINE void OnExceptionCheckpoint::on_exception(const std::exception& error, Context& ctx) {
  if (!ctx.can_save_checkpoint()) {
    std::cerr << "volt: OnExceptionCheckpoint: no checkpoint written for \"" << error.what()
              << "\": ctx.save_checkpoint() is not available (the failure came before fit installed it).\n";
    return;
  }
  try {
    if (ctx.is_global_zero()) {
      std::error_code ec;
      std::filesystem::create_directories(options_.dirpath, ec);
    }
    ctx.save_checkpoint(ckpt_path());  // overwrites a previous one
  } catch (const std::exception& save_error) {
    std::cerr << "volt: OnExceptionCheckpoint: could not write " << ckpt_path() << " (" << save_error.what()
              << ") while handling \"" << error.what() << "\".\n";
  }
}

VOLT_INLINE void OnExceptionCheckpoint::teardown(Stage, Context& ctx) {
  if (!ctx.is_global_zero()) return;
  std::error_code ec;
  std::filesystem::remove(ckpt_path(), ec);
}

}  // namespace volt
