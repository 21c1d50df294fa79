#pragma once
// Which kind of hook is running: Lightning's self.log defaults (on_step / on_epoch) depend on it.
namespace volt {

enum class HookFamily {
  none,           // outside any loop (setup, configure_optimizers, ...)
  train_step,     // training_step and the per-batch training hooks
  train_epoch,    // on_train_epoch_start / _end, training_epoch_end
  validation,     // every validation hook
  test,           // every test hook
  predict,        // predict hooks: logging is not allowed there
};

}  // namespace volt
