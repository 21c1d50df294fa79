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
// - add_image / add_histogram: SummaryWriter.add_image (a PNG in Summary.Value.image, read by
//   TensorBoard's Images tab) and add_histogram with its default "tensorflow" buckets (Summary.Value.histo).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <volt/loggers/image.hpp>  // make_grid, for add_image callers; declarations only in fast mode
#include <volt/reflect/hparams.hpp>
#include <volt/loggers/tfevents.hpp>
#include <volt/loggers/versioning.hpp>
#include <volt/detail/config.hpp>

namespace volt::loggers {

namespace tfevents {

// Summary{value: [{tag, image: Image{height = 1, width = 2, colorspace = 3, encoded_image_string = 4}}]}
// (tensorboard/compat/proto/summary.proto): Value's `image` is field 4.
VOLT_INLINE std::string image_summary(std::string_view tag, std::int64_t height, std::int64_t width, std::int64_t colorspace,
                                 std::string_view png);

// SummaryWriter's default histogram edges ("tensorflow"): -1e20 .. -1e-12, 0, 1e-12 .. 1e20 in
// steps of x1.1, computed with the same double arithmetic as torch/utils/tensorboard/writer.py.
VOLT_INLINE const std::vector<double>& default_histogram_edges();

// Summary{value: [{tag, histo: HistogramProto{min = 1, max = 2, num = 3, sum = 4, sum_squares = 5,
// bucket_limit = 6 (packed), bucket = 7 (packed)}}]}: Value's `histo` is field 5. The buckets are
// those of torch.utils.tensorboard's make_histogram: numpy.histogram over `edges`, trimmed to the
// bins from the one before the first non-empty bin to the last non-empty one; each count is
// reported with its bin's right edge. Values outside the edges count in num / sum but no bin.
VOLT_INLINE std::string histogram_summary(std::string_view tag, const std::vector<double>& values,
                                     const std::vector<double>& edges = default_histogram_edges());

}  // namespace tfevents

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

  VOLT_INLINE void log_metrics(const std::map<std::string, double>& metrics, std::int64_t step);

  // SummaryWriter.add_image(tag, image, step): `image` is (C, H, W) with C = 1, 3 or 4 (one
  // channel is shown as grey RGB, as torch converts it), uint8 or float in [0, 1]; a batch goes
  // through volt::make_grid first. Stored as a PNG, as TensorBoard's Images tab reads it.
  VOLT_INLINE void add_image(std::string_view tag, const torch::Tensor& image, std::int64_t step);

  // SummaryWriter.add_histogram(tag, values, step) with its default buckets: every element of
  // `values` (any shape, e.g. a weight tensor) counts.
  VOLT_INLINE void add_histogram(std::string_view tag, const torch::Tensor& values, std::int64_t step);

  template <class HParams>
  void log_hyperparams(const HParams& params) {
    log_hparam_dict(reflect::to_hparams(params));
  }

  // Lightning's log_hyperparams(params, metrics): `metrics` name the columns of the HParams
  // table and are logged as scalars at step 0.
  template <class HParams>
  void log_hyperparams(const HParams& params, const std::map<std::string, double>& metrics) {
    log_hparam_dict(reflect::to_hparams(params), metrics);  // to_hparams already flattens nested structs
  }

  // log_hyperparams' work once the values are a dict (type-independent: compiled once in fast mode).
  VOLT_INLINE void log_hparam_dict(const reflect::HParamDict& flat);  // with default_hp_metric's hp_metric
  VOLT_INLINE void log_hparam_dict(const reflect::HParamDict& flat, const std::map<std::string, double>& metrics);

  VOLT_INLINE void save();

  VOLT_INLINE void finalize(std::string_view status);

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
  VOLT_INLINE static double now();

  VOLT_INLINE tfevents::EventFileWriter& writer();

  VersionedLogDir dir_;
  bool default_hp_metric_;
  std::optional<tfevents::EventFileWriter> writer_;
  std::filesystem::path event_file_;
  reflect::HParamDict hparams_;
  bool opened_once_ = false;
};

}  // namespace volt::loggers

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loggers/impl/tensorboard_logger.ipp>
#endif
