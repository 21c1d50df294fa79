#pragma once
// TensorBoard event files without TensorFlow or protobuf: the TFRecord framing and the few
// protobuf messages a scalar logger needs, encoded by hand.
//
// Record:  uint64 length (little-endian) | uint32 masked_crc32c(length bytes) | data |
//          uint32 masked_crc32c(data), where masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8
//          and crc32c is CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected).
// Data:    a serialized tensorboard.Event (tensorboard/compat/proto/event.proto):
//            Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//            Summary { repeated Value value = 1; }
//            Value   { string tag = 1; float simple_value = 2; SummaryMetadata metadata = 9; }
//            SummaryMetadata { PluginData plugin_data = 1; }  PluginData { string plugin_name = 1; bytes content = 2; }
//          Fields are written in field-number order and proto3 defaults are left out, except
//          members of a oneof (file_version, summary, simple_value, google.protobuf.Value's kind),
//          which are written even when zero, as protobuf's own serializer does.
//
// Hyperparameters use TensorBoard's HParams plugin, exactly as torch.utils.tensorboard's
// `hparams()` writes them for Lightning's TensorBoardLogger: three summaries tagged
// "_hparams_/experiment", "_hparams_/session_start_info" and "_hparams_/session_end_info", each
// with plugin_name "hparams" and a serialized HParamsPluginData (plugins/hparams/plugin_data.proto,
// api.proto) as content. Supported subset: number, string and bool hyperparameters (bools become
// numbers 1.0 / 0.0, because Python's `isinstance(True, (int, float))` puts them there), metric
// names, status STATUS_SUCCESS; no discrete domains, no text summaries, no histograms or images.
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <unistd.h>

#include <boost/crc.hpp>
#include <fmt/format.h>

#include <volt/reflect/hparams.hpp>

namespace volt::loggers::tfevents {

// ---- CRC-32C and record framing --------------------------------------------------------------

inline std::uint32_t crc32c(std::string_view data) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

inline constexpr std::uint32_t mask_crc(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;  // uint32 wraparound is intended
}
inline constexpr std::uint32_t unmask_crc(std::uint32_t masked) {
  const std::uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}
inline std::uint32_t masked_crc32c(std::string_view data) { return mask_crc(crc32c(data)); }

namespace detail {
inline void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
}  // namespace detail

// One TFRecord around `data`.
inline std::string frame_record(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  detail::put_le(out, data.size(), 8);
  detail::put_le(out, masked_crc32c(std::string_view(out.data(), 8)), 4);
  out += data;
  detail::put_le(out, masked_crc32c(data), 4);
  return out;
}

// ---- protobuf wire format --------------------------------------------------------------------

enum class WireType : std::uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

// Appends fields to a message in the order they are called.
class ProtoWriter {
 public:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      bytes_ += static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    bytes_ += static_cast<char>(v);
  }
  void key(std::uint32_t field, WireType type) { varint((std::uint64_t{field} << 3) | static_cast<std::uint32_t>(type)); }
  // int32 / int64 / enum / bool: negative values take ten bytes (two's complement), as protobuf does.
  void int_field(std::uint32_t field, std::int64_t v) {
    key(field, WireType::varint);
    varint(static_cast<std::uint64_t>(v));
  }
  void double_field(std::uint32_t field, double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    key(field, WireType::fixed64);
    detail::put_le(bytes_, bits, 8);
  }
  void float_field(std::uint32_t field, float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    key(field, WireType::fixed32);
    detail::put_le(bytes_, bits, 4);
  }
  void bytes_field(std::uint32_t field, std::string_view v) {  // string, bytes, sub-message
    key(field, WireType::length_delimited);
    varint(v.size());
    bytes_ += v;
  }
  void message_field(std::uint32_t field, const ProtoWriter& m) { bytes_field(field, m.bytes()); }

  const std::string& bytes() const noexcept { return bytes_; }
  std::string take() && { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// ---- Event and Summary -----------------------------------------------------------------------

inline constexpr std::string_view file_version = "brain.Event:2";

// Event{wall_time, step, summary}: step 0 is the proto3 default and is left out.
inline std::string summary_event(double wall_time, std::int64_t step, std::string_view summary) {
  ProtoWriter e;
  e.double_field(1, wall_time);
  if (step != 0) e.int_field(2, step);
  e.bytes_field(5, summary);
  return std::move(e).take();
}

// The first event of every file: Event{wall_time, file_version: "brain.Event:2"}.
inline std::string file_version_event(double wall_time) {
  ProtoWriter e;
  e.double_field(1, wall_time);
  e.bytes_field(3, file_version);
  return std::move(e).take();
}

// Summary{value: [{tag, simple_value}...]}: what SummaryWriter.add_scalar writes, one value each.
inline std::string scalar_summary(const std::vector<std::pair<std::string, float>>& values) {
  ProtoWriter s;
  for (const auto& [tag, v] : values) {
    ProtoWriter value;
    value.bytes_field(1, tag);
    value.float_field(2, v);  // in a oneof: written even when 0
    s.message_field(1, value);
  }
  return std::move(s).take();
}

inline std::string scalar_event(double wall_time, std::int64_t step, const std::string& tag, float value) {
  return summary_event(wall_time, step, scalar_summary({{tag, value}}));
}

// ---- HParams plugin --------------------------------------------------------------------------

namespace hparams {

inline constexpr std::string_view plugin_name = "hparams";
inline constexpr std::string_view experiment_tag = "_hparams_/experiment";
inline constexpr std::string_view session_start_info_tag = "_hparams_/session_start_info";
inline constexpr std::string_view session_end_info_tag = "_hparams_/session_end_info";
inline constexpr std::int64_t data_type_string = 1, data_type_float64 = 3;  // api.proto DataType
inline constexpr std::int64_t status_success = 1;                           // api.proto Status

// A value torch's hparams() accepts: a number (int, float, bool) or a str. None is left out.
inline std::optional<std::variant<double, std::string>> plugin_value(const reflect::HParamValue& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return std::nullopt;
}

// Summary{value: [{tag, metadata: {plugin_data: {plugin_name: "hparams", content}}}]}
inline std::string plugin_summary(std::string_view tag, const ProtoWriter& plugin_data_content) {
  ProtoWriter plugin_data;
  plugin_data.bytes_field(1, plugin_name);
  plugin_data.bytes_field(2, plugin_data_content.bytes());
  ProtoWriter metadata;
  metadata.message_field(1, plugin_data);
  ProtoWriter value;
  value.bytes_field(1, tag);
  value.message_field(9, metadata);
  ProtoWriter summary;
  summary.message_field(1, value);
  return std::move(summary).take();
}

// HParamsPluginData{version: 0 (left out), experiment: Experiment{hparam_infos, metric_infos}}
inline std::string experiment_summary(const reflect::HParamDict& hparams, const std::vector<std::string>& metric_names) {
  ProtoWriter experiment;
  for (const auto& [name, v] : hparams) {
    const auto pv = plugin_value(v);
    if (!pv) continue;
    ProtoWriter info;  // HParamInfo{name = 1, type = 4}
    info.bytes_field(1, name);
    info.int_field(4, std::holds_alternative<double>(*pv) ? data_type_float64 : data_type_string);
    experiment.message_field(4, info);
  }
  for (const auto& metric : metric_names) {
    ProtoWriter metric_name;  // MetricName{tag = 2}
    metric_name.bytes_field(2, metric);
    ProtoWriter info;  // MetricInfo{name = 1}
    info.message_field(1, metric_name);
    experiment.message_field(5, info);
  }
  ProtoWriter data;
  data.message_field(2, experiment);
  return plugin_summary(experiment_tag, data);
}

// HParamsPluginData{session_start_info: SessionStartInfo{hparams: map<string, google.protobuf.Value>}}
inline std::string session_start_info_summary(const reflect::HParamDict& hparams) {
  ProtoWriter ssi;
  for (const auto& [name, v] : hparams) {
    const auto pv = plugin_value(v);
    if (!pv) continue;
    ProtoWriter value;  // google.protobuf.Value{number_value = 2 | string_value = 3}
    if (const auto* d = std::get_if<double>(&*pv))
      value.double_field(2, *d);
    else
      value.bytes_field(3, std::get<std::string>(*pv));
    ProtoWriter entry;  // map entry {key = 1, value = 2}
    entry.bytes_field(1, name);
    entry.message_field(2, value);
    ssi.message_field(1, entry);
  }
  ProtoWriter data;
  data.message_field(3, ssi);
  return plugin_summary(session_start_info_tag, data);
}

// HParamsPluginData{session_end_info: SessionEndInfo{status: STATUS_SUCCESS}}
inline std::string session_end_info_summary() {
  ProtoWriter sei;
  sei.int_field(1, status_success);
  ProtoWriter data;
  data.message_field(4, sei);
  return plugin_summary(session_end_info_tag, data);
}

}  // namespace hparams

// ---- the event file --------------------------------------------------------------------------

// TensorBoard's name: events.out.tfevents.<%010d wall time>.<hostname>.<pid>.<n>, n counting the
// writers this process has opened (tensorboard's _global_uid), so two writers never collide.
inline std::string event_file_name(double wall_time) {
  static std::atomic<std::int64_t> next_uid{0};
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  return fmt::format("events.out.tfevents.{:010d}.{}.{}.{}", static_cast<std::int64_t>(std::floor(wall_time)), host,
                     static_cast<std::int64_t>(::getpid()), next_uid.fetch_add(1));
}

// An open event file: creating one writes the file_version event; write_event appends one
// record. Records are buffered until flush() / close() / destruction. Each record carries its
// own CRCs, so a crash can at worst leave a torn last record, which readers detect and drop.
class EventFileWriter {
 public:
  EventFileWriter(const std::filesystem::path& log_dir, double wall_time)
      : path_(log_dir / event_file_name(wall_time)), file_(std::fopen(path_.c_str(), "wb")) {
    if (!file_)
      throw std::filesystem::filesystem_error("volt: could not create the TensorBoard event file", path_,
                                              std::error_code(errno, std::generic_category()));
    write_event(file_version_event(wall_time));
  }

  void write_event(std::string_view event) {
    const std::string record = frame_record(event);
    if (std::fwrite(record.data(), 1, record.size(), file_.get()) != record.size())
      throw std::filesystem::filesystem_error("volt: could not write the TensorBoard event file", path_,
                                              std::error_code(errno, std::generic_category()));
  }
  void flush() {
    if (file_ && std::fflush(file_.get()) != 0)
      throw std::filesystem::filesystem_error("volt: could not flush the TensorBoard event file", path_,
                                              std::error_code(errno, std::generic_category()));
  }
  void close() {
    if (!file_) return;
    const int rc = std::fclose(file_.release());
    if (rc != 0)
      throw std::filesystem::filesystem_error("volt: could not close the TensorBoard event file", path_,
                                              std::error_code(errno, std::generic_category()));
  }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  struct Closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::filesystem::path path_;
  std::unique_ptr<std::FILE, Closer> file_;
};

}  // namespace volt::loggers::tfevents
