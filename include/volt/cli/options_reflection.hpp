#pragma once
// volt's own options structs, reflected for the CLI from outside (BOOST_HANA_ADAPT_STRUCT), so
// they stay aggregates and designated initializers keep working: `{.max_epochs = 3}`. Also the
// group name each component gets on the command line (`--model_checkpoint.monitor`) and the
// options type of a DataModule.
//
// A user's callback or logger joins the CLI the same way: give it `using Options = ...;` (a
// BOOST_HANA struct) and a constructor taking it, and a `static constexpr std::string_view
// cli_name = "my_callback";` or a specialization of volt::cli::component_name.
#include <array>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/adapt_struct.hpp>

#include <volt/callbacks/early_stopping.hpp>
#include <volt/callbacks/learning_rate_monitor.hpp>
#include <volt/callbacks/model_checkpoint.hpp>
#include <volt/callbacks/on_exception_checkpoint.hpp>
#include <volt/callbacks/timer.hpp>
#include <volt/cli/option_table.hpp>
#include <volt/cli/value.hpp>
#include <volt/core/trainer_options.hpp>
#include <volt/data/fashion_mnist.hpp>
#include <volt/loggers/csv_logger.hpp>
#include <volt/loggers/tensorboard_logger.hpp>

// Lightning's Trainer flags, in TrainerOptions' order.
BOOST_HANA_ADAPT_STRUCT(volt::TrainerOptions, logger, fast_dev_run, max_epochs, min_epochs, max_steps, min_steps,
                        max_time, limit_train_batches, limit_val_batches, limit_test_batches, limit_predict_batches,
                        overfit_batches, val_check_interval, check_val_every_n_epoch, num_sanity_val_steps,
                        log_every_n_steps, enable_checkpointing, enable_progress_bar, enable_model_summary,
                        accumulate_grad_batches, gradient_clip_val, gradient_clip_algorithm, deterministic,
                        inference_mode, detect_anomaly, barebones, terminate_on_nan, default_root_dir);

BOOST_HANA_ADAPT_STRUCT(volt::ModelCheckpoint::Options, dirpath, filename, monitor, verbose, save_last, save_top_k,
                        save_weights_only, mode, auto_insert_metric_name, every_n_train_steps, train_time_interval,
                        every_n_epochs, save_on_train_epoch_end, enable_version_counter);

BOOST_HANA_ADAPT_STRUCT(volt::EarlyStopping::Options, monitor, min_delta, patience, verbose, mode, strict,
                        check_finite, stopping_threshold, divergence_threshold, check_on_train_epoch_end,
                        log_rank_zero_only);

BOOST_HANA_ADAPT_STRUCT(volt::LearningRateMonitor::Options, logging_interval, log_momentum, log_weight_decay);

BOOST_HANA_ADAPT_STRUCT(volt::Timer::Options, duration, interval, verbose);

BOOST_HANA_ADAPT_STRUCT(volt::OnExceptionCheckpoint::Options, dirpath, filename);

BOOST_HANA_ADAPT_STRUCT(volt::loggers::CSVLoggerOptions, save_dir, name, version, flush_logs_every_n_steps);

BOOST_HANA_ADAPT_STRUCT(volt::loggers::TensorBoardLoggerOptions, save_dir, name, version, default_hp_metric);

BOOST_HANA_ADAPT_STRUCT(volt::data::FashionMNISTOptions, root, batch_size, eval_batch_size, val_size, seed);

namespace volt::cli {

// The key of a callback's or logger's group: `static constexpr std::string_view cli_name` on the
// type, or a specialization of this template.
template <class T>
struct component_name {
  static constexpr std::string_view value = T::cli_name;
};
template <> struct component_name<ModelCheckpoint> { static constexpr std::string_view value = "model_checkpoint"; };
template <> struct component_name<EarlyStopping> { static constexpr std::string_view value = "early_stopping"; };
template <> struct component_name<LearningRateMonitor> { static constexpr std::string_view value = "lr_monitor"; };
template <> struct component_name<Timer> { static constexpr std::string_view value = "timer"; };
template <> struct component_name<OnExceptionCheckpoint> { static constexpr std::string_view value = "on_exception_checkpoint"; };
template <> struct component_name<loggers::CSVLogger> { static constexpr std::string_view value = "csv_logger"; };
template <> struct component_name<loggers::TensorBoardLogger> { static constexpr std::string_view value = "tensorboard_logger"; };

template <>
struct enum_names<Timer::Interval> {
  static constexpr std::array values{std::pair<std::string_view, Timer::Interval>{"step", Timer::Interval::step},
                                     std::pair<std::string_view, Timer::Interval>{"epoch", Timer::Interval::epoch}};
};

// A DataModule's options: its `Options` member type, or a specialization of this template.
template <class D>
struct datamodule_options {
  using type = typename D::Options;
};
template <> struct datamodule_options<data::FashionMNIST> { using type = data::FashionMNISTOptions; };

#if defined(VOLT_SEPARATE_COMPILATION)
// The walk of each of these structs into the CLI's option table (hana's accessors, one lambda per
// field) does not depend on the program: compiled once, in volt::compiled (impl/src_cli.hpp).
extern template void OptionTable::add_group(const std::string&, TrainerOptions&);
extern template void OptionTable::add_group(const std::string&, ModelCheckpoint::Options&);
extern template void OptionTable::add_group(const std::string&, EarlyStopping::Options&);
extern template void OptionTable::add_group(const std::string&, LearningRateMonitor::Options&);
extern template void OptionTable::add_group(const std::string&, Timer::Options&);
extern template void OptionTable::add_group(const std::string&, OnExceptionCheckpoint::Options&);
extern template void OptionTable::add_group(const std::string&, loggers::CSVLoggerOptions&);
extern template void OptionTable::add_group(const std::string&, loggers::TensorBoardLoggerOptions&);
extern template void OptionTable::add_group(const std::string&, data::FashionMNISTOptions&);
#endif

}  // namespace volt::cli
