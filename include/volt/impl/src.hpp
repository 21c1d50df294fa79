#pragma once
// volt's type-independent code, for the separately compiled mode (include/volt/detail/config.hpp).
// Include this from exactly one .cpp of a program whose TUs are all compiled with
// VOLT_SEPARATE_COMPILATION; the CMake target volt::compiled does that in src/volt.cpp:
//
//   // volt_impl.cpp, compiled with -DVOLT_SEPARATE_COMPILATION like the rest of the program
//   #include <volt/impl/src.hpp>
#if !defined(VOLT_SEPARATE_COMPILATION)
#error "volt: <volt/impl/src.hpp> is for the separately compiled mode: define VOLT_SEPARATE_COMPILATION for every TU (or link the CMake target volt::compiled), or leave it out and use volt header-only"
#endif

#include <volt/callbacks/impl/early_stopping.ipp>
#include <volt/callbacks/impl/filename_template.ipp>
#include <volt/callbacks/impl/gradient_accumulation_scheduler.ipp>
#include <volt/callbacks/impl/learning_rate_monitor.ipp>
#include <volt/callbacks/impl/mode.ipp>
#include <volt/callbacks/impl/model_checkpoint.ipp>
#include <volt/callbacks/impl/model_summary.ipp>
#include <volt/callbacks/impl/on_exception_checkpoint.ipp>
#include <volt/callbacks/impl/progress_bar.ipp>
#include <volt/callbacks/impl/stochastic_weight_averaging.ipp>
#include <volt/callbacks/impl/timer.ipp>
#include <volt/checkpoint/impl/atomic_file.ipp>
#include <volt/checkpoint/impl/checkpoint_file.ipp>
#include <volt/checkpoint/impl/checkpoint_hooks.ipp>
#include <volt/checkpoint/impl/error.ipp>
#include <volt/checkpoint/impl/module_state.ipp>
#include <volt/checkpoint/impl/safetensors.ipp>
#include <volt/checkpoint/impl/trainer_checkpoint.ipp>
#include <volt/core/impl/context.ipp>
#include <volt/core/impl/logger_refs.ipp>
#include <volt/core/impl/metrics.ipp>
#include <volt/core/impl/run_facade.ipp>
#include <volt/core/impl/trainer_options.ipp>
#include <volt/data/impl/distributed_sampler.ipp>
#include <volt/data/impl/fashion_mnist.ipp>
#include <volt/data/impl/idx.ipp>
#include <volt/data/impl/table_datamodule.ipp>
#include <volt/detail/impl/terminal.ipp>
#include <volt/impl/trainer.ipp>
#include <volt/loggers/impl/csv.ipp>
#include <volt/loggers/impl/csv_logger.ipp>
#include <volt/loggers/impl/file_io.ipp>
#include <volt/loggers/impl/html_report.ipp>
#include <volt/loggers/impl/image.ipp>
#include <volt/loggers/impl/tensorboard_logger.ipp>
#include <volt/loggers/impl/tfevents.ipp>
#include <volt/loggers/impl/versioning.ipp>
#include <volt/loops/impl/automatic_optimization.ipp>
#include <volt/loops/impl/evaluation_loop.ipp>
#include <volt/loops/impl/fit_loop.ipp>
#include <volt/loops/impl/fit_summary.ipp>
#include <volt/loops/impl/manual_optimization.ipp>
#include <volt/loops/impl/profiling.ipp>
#include <volt/loops/impl/results_table.ipp>
#include <volt/loops/impl/run_facade.ipp>
#include <volt/optim/impl/configure_optimizers.ipp>
#include <volt/optim/impl/optimizer_state.ipp>
#include <volt/optim/impl/scheduler.ipp>
#include <volt/optim/schedulers/impl/one_cycle_lr.ipp>
#include <volt/precision/impl/grad_scaler.ipp>
#include <volt/precision/impl/runtime.ipp>
#include <volt/reflect/impl/hparams.ipp>
#include <volt/reflect/impl/hparams_yaml.ipp>
#include <volt/reflect/impl/python_format.ipp>

// Templates that user TUs instantiate with volt's own arguments: declared `extern template` in
// their headers under VOLT_SEPARATE_COMPILATION, instantiated here once ({fmt}'s way).
#include <volt/callbacks/progress_bar.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/optim/optimizer_name.hpp>
#include <volt/optim/schedulers.hpp>

namespace volt {
template class BasicProgressBar<std::chrono::steady_clock>;
}  // namespace volt

namespace volt::data {
template class TensorBatchLoader<Example>;
}  // namespace volt::data

namespace volt::optim {
template class LRSchedulerBase<CosineAnnealingLR>;
template class LRSchedulerBase<ExponentialLR>;
template class LRSchedulerBase<LinearLR>;
template class LRSchedulerBase<MultiStepLR>;
template class LRSchedulerBase<OneCycleLR>;
template class LRSchedulerBase<StepLR>;
template std::string class_name<torch::optim::SGD>();
template std::string class_name<torch::optim::Adam>();
template std::string class_name<torch::optim::AdamW>();
template std::string class_name<torch::optim::RMSprop>();
template std::string class_name<torch::optim::Adagrad>();
template std::string class_name<torch::optim::LBFGS>();
}  // namespace volt::optim
