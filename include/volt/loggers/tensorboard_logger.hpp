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
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/loggers/file_io.hpp>
#include <volt/loggers/image.hpp>
#include <volt/reflect/hparams.hpp>
#include <volt/reflect/hparams_yaml.hpp>
#include <volt/loggers/tfevents.hpp>
#include <volt/loggers/versioning.hpp>

namespace volt::loggers {

namespace tfevents {

// Summary{value: [{tag, image: Image{height = 1, width = 2, colorspace = 3, encoded_image_string = 4}}]}
// (tensorboard/compat/proto/summary.proto): Value's `image` is field 4.
inline std::string image_summary(std::string_view tag, std::int64_t height, std::int64_t width, std::int64_t colorspace,
                                 std::string_view png) {
  ProtoWriter image;
  image.int_field(1, height);
  image.int_field(2, width);
  image.int_field(3, colorspace);
  image.bytes_field(4, png);
  ProtoWriter value;
  value.bytes_field(1, tag);
  value.message_field(4, image);
  ProtoWriter summary;
  summary.message_field(1, value);
  return std::move(summary).take();
}

// SummaryWriter's default histogram edges ("tensorflow"): -1e20 .. -1e-12, 0, 1e-12 .. 1e20 in
// steps of x1.1, computed with the same double arithmetic as torch/utils/tensorboard/writer.py.
inline const std::vector<double>& default_histogram_edges() {
  static const std::vector<double> edges = [] {
    std::vector<double> positive;
    for (double v = 1e-12; v < 1e20; v *= 1.1) positive.push_back(v);
    std::vector<double> all;
    all.reserve(2 * positive.size() + 1);
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) all.push_back(-*it);
    all.push_back(0.0);
    all.insert(all.end(), positive.begin(), positive.end());
    return all;
  }();
  return edges;
}

// Summary{value: [{tag, histo: HistogramProto{min = 1, max = 2, num = 3, sum = 4, sum_squares = 5,
// bucket_limit = 6 (packed), bucket = 7 (packed)}}]}: Value's `histo` is field 5. The buckets are
// those of torch.utils.tensorboard's make_histogram: numpy.histogram over `edges`, trimmed to the
// bins from the one before the first non-empty bin to the last non-empty one; each count is
// reported with its bin's right edge. Values outside the edges count in num / sum but no bin.
inline std::string histogram_summary(std::string_view tag, const std::vector<double>& values,
                                     const std::vector<double>& edges = default_histogram_edges()) {
  if (values.empty()) throw std::invalid_argument(fmt::format("volt: add_histogram(\"{}\"): the values are empty.", tag));
  if (edges.size() < 2) throw std::invalid_argument("volt: a histogram needs at least two bin edges.");
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  // numpy.histogram: bin i holds edges[i] <= v < edges[i + 1], the last bin also v == edges.back().
  const std::size_t bins = edges.size() - 1;
  std::vector<double> counts(bins);
  for (std::size_t i = 0; i < bins; ++i) {
    const auto below = [&](double edge, bool inclusive) {
      return static_cast<double>((inclusive ? std::upper_bound(sorted.begin(), sorted.end(), edge)
                                            : std::lower_bound(sorted.begin(), sorted.end(), edge)) -
                                 sorted.begin());
    };
    counts[i] = below(edges[i + 1], i + 1 == bins) - below(edges[i], false);
  }
  std::size_t first = bins, last = 0;
  for (std::size_t i = 0; i < bins; ++i)
    if (counts[i] > 0) {
      first = std::min(first, i);
      last = i;
    }
  if (first == bins)  // torch raises "The histogram is empty" here
    throw std::invalid_argument(fmt::format("volt: add_histogram(\"{}\"): no value lies within the histogram's edges "
                                            "[{}, {}].",
                                            tag, edges.front(), edges.back()));
  std::vector<double> kept_counts, kept_limits;
  if (first > 0) kept_counts.assign(counts.begin() + static_cast<std::ptrdiff_t>(first - 1), counts.begin() + static_cast<std::ptrdiff_t>(last + 1));
  else {
    kept_counts.push_back(0.0);
    kept_counts.insert(kept_counts.end(), counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(last + 1));
  }
  kept_limits.assign(edges.begin() + static_cast<std::ptrdiff_t>(first), edges.begin() + static_cast<std::ptrdiff_t>(last + 2));

  double sum = 0, sum_squares = 0;
  for (double v : values) {
    sum += v;
    sum_squares += v * v;
  }
  const auto packed = [](const std::vector<double>& xs) {
    std::string bytes;  // a packed repeated double is the raw little-endian doubles
    for (double x : xs) {
      std::uint64_t bits;
      std::memcpy(&bits, &x, sizeof bits);
      detail::put_le(bytes, bits, 8);
    }
    return bytes;
  };
  ProtoWriter histo;  // proto3: zero doubles are left out, as protobuf's serializer does
  const auto put = [&histo](std::uint32_t field, double v) {
    if (v != 0.0) histo.double_field(field, v);
  };
  put(1, sorted.front());
  put(2, sorted.back());
  put(3, static_cast<double>(values.size()));
  put(4, sum);
  put(5, sum_squares);
  histo.bytes_field(6, packed(kept_limits));
  histo.bytes_field(7, packed(kept_counts));
  ProtoWriter value;
  value.bytes_field(1, tag);
  value.message_field(5, histo);
  ProtoWriter summary;
  summary.message_field(1, value);
  return std::move(summary).take();
}

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

  void log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) {
    auto& w = writer();
    for (const auto& [tag, value] : metrics)
      w.write_event(tfevents::scalar_event(now(), step, tag, static_cast<float>(value)));
  }

  // SummaryWriter.add_image(tag, image, step): `image` is (C, H, W) with C = 1, 3 or 4 (one
  // channel is shown as grey RGB, as torch converts it), uint8 or float in [0, 1]; a batch goes
  // through volt::make_grid first. Stored as a PNG, as TensorBoard's Images tab reads it.
  void add_image(std::string_view tag, const torch::Tensor& image, std::int64_t step) {
    torch::Tensor hwc = png::to_hwc_uint8(image, png::Rounding::truncate);
    if (hwc.size(2) == 1) hwc = torch::cat({hwc, hwc, hwc}, 2);
    const std::string encoded = png::encode_hwc(hwc);
    writer().write_event(
        tfevents::summary_event(now(), step, tfevents::image_summary(tag, hwc.size(0), hwc.size(1), hwc.size(2), encoded)));
  }

  // SummaryWriter.add_histogram(tag, values, step) with its default buckets: every element of
  // `values` (any shape, e.g. a weight tensor) counts.
  void add_histogram(std::string_view tag, const torch::Tensor& values, std::int64_t step) {
    if (!values.defined()) throw std::invalid_argument(fmt::format("volt: add_histogram(\"{}\"): the tensor is undefined.", tag));
    const torch::Tensor flat = values.detach().to(torch::kCPU, torch::kFloat64).contiguous().view(-1);
    const std::vector<double> xs(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
    for (double x : xs)
      if (!std::isfinite(x))
        throw std::invalid_argument(fmt::format("volt: add_histogram(\"{}\"): the values hold NaN or infinity, which "
                                                "a histogram cannot place; check the tensor before logging it.",
                                                tag));
    writer().write_event(tfevents::summary_event(now(), step, tfevents::histogram_summary(tag, xs)));
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
