#pragma once
// Definitions of <volt/loggers/tensorboard_logger.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loggers/tensorboard_logger.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <volt/loggers/file_io.hpp>
#include <volt/reflect/hparams_yaml.hpp>

namespace volt::loggers {

namespace tfevents {

VOLT_INLINE std::string image_summary(std::string_view tag, std::int64_t height, std::int64_t width, std::int64_t colorspace,
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

VOLT_INLINE const std::vector<double>& default_histogram_edges() {
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

VOLT_INLINE std::string histogram_summary(std::string_view tag, const std::vector<double>& values,
                                     const std::vector<double>& edges) {
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

VOLT_INLINE void TensorBoardLogger::log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) {
  auto& w = writer();
  for (const auto& [tag, value] : metrics)
    w.write_event(tfevents::scalar_event(now(), step, tag, static_cast<float>(value)));
}

VOLT_INLINE void TensorBoardLogger::add_image(std::string_view tag, const torch::Tensor& image, std::int64_t step) {
  torch::Tensor hwc = png::to_hwc_uint8(image, png::Rounding::truncate);
  if (hwc.size(2) == 1) hwc = torch::cat({hwc, hwc, hwc}, 2);
  const std::string encoded = png::encode_hwc(hwc);
  writer().write_event(
      tfevents::summary_event(now(), step, tfevents::image_summary(tag, hwc.size(0), hwc.size(1), hwc.size(2), encoded)));
}

VOLT_INLINE void TensorBoardLogger::add_histogram(std::string_view tag, const torch::Tensor& values, std::int64_t step) {
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

VOLT_INLINE void TensorBoardLogger::log_hparam_dict(const reflect::HParamDict& flat) {
  log_hparam_dict(flat, default_hp_metric_ ? std::map<std::string, double>{{"hp_metric", -1.0}}
                                           : std::map<std::string, double>{});
}

VOLT_INLINE void TensorBoardLogger::log_hparam_dict(const reflect::HParamDict& flat,
                                                    const std::map<std::string, double>& metrics) {
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

VOLT_INLINE void TensorBoardLogger::save() {
  if (!writer_ && !opened_once_) writer();  // Lightning's save() creates the experiment
  if (writer_) writer_->flush();
  const auto yaml_path = log_dir() / hparams_file_name;
  std::error_code ec;
  if (std::filesystem::is_directory(log_dir(), ec) && !std::filesystem::exists(yaml_path, ec))
    write_file_atomically(yaml_path, reflect::hparams_yaml(hparams_));
}

VOLT_INLINE void TensorBoardLogger::finalize(std::string_view status) {
  if (writer_) {
    writer_->flush();
    writer_->close();
    writer_.reset();
  }
  if (status == "success") save();
}

VOLT_INLINE double TensorBoardLogger::now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

VOLT_INLINE tfevents::EventFileWriter& TensorBoardLogger::writer() {
  if (!writer_) {
    std::filesystem::create_directories(log_dir());
    writer_.emplace(log_dir(), now());
    event_file_ = writer_->path();
    opened_once_ = true;
  }
  return *writer_;
}

}  // namespace volt::loggers
