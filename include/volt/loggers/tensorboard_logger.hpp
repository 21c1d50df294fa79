#pragma once
// volt::loggers::TensorBoardLogger: Lightning's TensorBoardLogger, writing the event file that
// torch.utils.tensorboard's SummaryWriter would, without TensorFlow or protobuf (tfevents.hpp):
//
//   <save_dir>/<name>/version_<N>/events.out.tfevents.<time>.<host>.<pid>.<n>
//   <save_dir>/<name>/version_<N>/hparams.yaml   (written by save() when it does not exist yet)
//
// - log_metrics: one Event{wall_time, step, Summary{Value{tag, simple_value}}} per metric, as
//   add_scalar writes them (values stored as float32, as TensorBoard stores scalars).
// - log_hyperparams: the HParams plugin (see tfevents.hpp for the supported subset), as
//   Lightning does it: nested structs are flattened to "a/b" keys, values TensorBoard cannot
//   show (None) become strings, then, with default_hp_metric, the scalar hp_metric = -1 at
//   step 0 followed by the experiment, session-start and session-end summaries. Without
//   default_hp_metric (and no metrics) Lightning writes no plugin data, and neither does volt;
//   hparams.yaml holds the values either way.
// - save() flushes; finalize() flushes and closes the file, and on "success" also writes
//   hparams.yaml, like Lightning. Logging after finalize() opens a new event file, as a closed
//   SummaryWriter does.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <volt/loggers/file_io.hpp>
#include <volt/reflect/hparams.hpp>
#include <volt/reflect/hparams_yaml.hpp>
#include <volt/loggers/tfevents.hpp>
#include <volt/loggers/versioning.hpp>

namespace volt::loggers {

struct TensorBoardLoggerOptions {
  std::filesystem::path save_dir;
  std::string name = "lightning_logs";
  std::optional<std::int64_t> version{};  // nullopt: the next free version_<N>
  bool default_hp_metric = true;          // log hp_metric = -1 with the hyperparameters
};

class TensorBoardLogger {
 public:
  using Options = TensorBoardLoggerOptions;
  static constexpr std::string_view hparams_file_name = "hparams.yaml";

  explicit TensorBoardLogger(Options options)
      : dir_(std::move(options.save_dir), std::move(options.name), options.version),
        default_hp_metric_(options.default_hp_metric) {}

  // Move-only: two copies would write one file.
  TensorBoardLogger(const TensorBoardLogger&) = delete;
  TensorBoardLogger& operator=(const TensorBoardLogger&) = delete;
  TensorBoardLogger(TensorBoardLogger&&) noexcept = default;
  TensorBoardLogger& operator=(TensorBoardLogger&&) = delete;
  ~TensorBoardLogger() = default;  // the event file is flushed and closed by its writer

  void log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) {
    auto& w = writer();
    for (const auto& [tag, value] : metrics)
      w.write_event(tfevents::scalar_event(now(), step, tag, static_cast<float>(value)));
  }

  template <class HParams>
  void log_hyperparams(const HParams& params) {
    log_hyperparams(params, default_hp_metric_ ? std::map<std::string, double>{{"hp_metric", -1.0}}
                                               : std::map<std::string, double>{});
  }

  // Lightning's log_hyperparams(params, metrics): `metrics` name the columns of the HParams
  // table and are logged as scalars at step 0.
  template <class HParams>
  void log_hyperparams(const HParams& params, const std::map<std::string, double>& metrics) {
    const reflect::HParamDict flat = reflect::to_hparams(params);  // to_hparams already flattens nested structs
    hparams_.update(flat);
    if (metrics.empty()) return;
    reflect::HParamDict shown;
    for (const auto& [key, value] : flat)  // Lightning's _sanitize_params: None -> "None"
      shown.set(key, std::holds_alternative<std::monostate>(value) ? reflect::HParamValue{std::string("None")} : value);
    log_metrics(metrics, 0);
    std::vector<std::string> metric_names;
    for (const auto& [name, value] : metrics) metric_names.push_back(name);
    auto& w = writer();
    w.write_event(tfevents::summary_event(now(), 0, tfevents::hparams::experiment_summary(shown, metric_names)));
    w.write_event(tfevents::summary_event(now(), 0, tfevents::hparams::session_start_info_summary(shown)));
    w.write_event(tfevents::summary_event(now(), 0, tfevents::hparams::session_end_info_summary()));
  }

  void save() {
    if (!writer_ && !opened_once_) writer();  // Lightning's save() creates the experiment
    if (writer_) writer_->flush();
    const auto yaml_path = log_dir() / hparams_file_name;
    std::error_code ec;
    if (std::filesystem::is_directory(log_dir(), ec) && !std::filesystem::exists(yaml_path, ec))
      write_file_atomically(yaml_path, reflect::hparams_yaml(hparams_));
  }

  void finalize(std::string_view status) {
    if (writer_) {
      writer_->flush();
      writer_->close();
      writer_.reset();
    }
    if (status == "success") save();
  }

  std::filesystem::path log_dir() const { return dir_.log_dir(); }
  std::string name() const { return dir_.name(); }
  std::int64_t version() const { return dir_.version(); }
  VersionedLogDir& versioned_log_dir() noexcept { return dir_; }  // for the Trainer's shared version
  const std::filesystem::path& save_dir() const noexcept { return dir_.save_dir(); }
  std::filesystem::path root_dir() const { return dir_.root_dir(); }
  // The event file being written (or last written); empty before the first write.
  const std::filesystem::path& event_file_path() const noexcept { return event_file_; }
  const reflect::HParamDict& hparams() const noexcept { return hparams_; }

 private:
  static double now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  tfevents::EventFileWriter& writer() {
    if (!writer_) {
      std::filesystem::create_directories(log_dir());
      writer_.emplace(log_dir(), now());
      event_file_ = writer_->path();
      opened_once_ = true;
    }
    return *writer_;
  }

  VersionedLogDir dir_;
  bool default_hp_metric_;
  std::optional<tfevents::EventFileWriter> writer_;
  std::filesystem::path event_file_;
  reflect::HParamDict hparams_;
  bool opened_once_ = false;
};

}  // namespace volt::loggers
