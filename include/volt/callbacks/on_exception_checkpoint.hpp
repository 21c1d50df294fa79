#pragma once
// volt::OnExceptionCheckpoint: Lightning 2.x's OnExceptionCheckpoint
// (callbacks/on_exception_checkpoint.py). When trainer.fit() fails with an exception, the
// Trainer calls on_exception before rethrowing, and this writes <dirpath>/<filename>.ckpt
// through ctx.save_checkpoint, so the run can be resumed from where it failed. At teardown
// (a stage that ended normally) that file is removed, as Lightning removes it: a stale
// on-exception checkpoint from an earlier failure is not left to be resumed from by mistake.
// `dirpath` is required, as in Lightning (an exception can come before any setup hook).
// Saving while handling the exception must not hide it: when the checkpoint cannot be written
// (the failure came before the optimizers existed, or the write itself fails), a message goes to
// std::cerr and the original exception is the one the Trainer rethrows.
// Several processes (DDP): global rank 0 writes the file and no rank waits at a barrier, because
// the error may be one rank's own (the others are then at their next collective, not here).
// When another rank threw, rank 0's next collective fails at once ("Connection reset by peer")
// and rank 0 writes the checkpoint then, from the weights every rank shares after each step.
#include <filesystem>
#include <string>
#include <utility>

#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>
#include <volt/detail/config.hpp>

namespace volt {

class OnExceptionCheckpoint {
 public:
  static constexpr const char* file_extension = ".ckpt";
  // A Lightning Checkpoint callback: runs after the other callbacks (core/callback_list.hpp).
  static constexpr bool checkpoint_callback = true;

  struct Options {
    std::filesystem::path dirpath{};         // required
    std::string filename = "on_exception";   // without the extension
  };

  VOLT_INLINE explicit OnExceptionCheckpoint(Options options);

  std::filesystem::path ckpt_path() const { return options_.dirpath / (options_.filename + file_extension); }
  const Options& options() const noexcept { return options_; }

  // ---- hooks ----

  VOLT_INLINE void on_exception(const std::exception& error, Context& ctx);

  VOLT_INLINE void teardown(Stage, Context& ctx);

 private:
  Options options_;
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/on_exception_checkpoint.ipp>
#endif
