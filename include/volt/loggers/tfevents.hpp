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

#include <volt/reflect/hparams.hpp>
#include <volt/detail/config.hpp>

namespace volt::loggers::tfevents {

// ---- CRC-32C and record framing --------------------------------------------------------------

VOLT_INLINE std::uint32_t crc32c(std::string_view data);

inline constexpr std::uint32_t mask_crc(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;  // uint32 wraparound is intended
}
inline constexpr std::uint32_t unmask_crc(std::uint32_t masked) {
  const std::uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}
inline std::uint32_t masked_crc32c(std::string_view data) { return mask_crc(crc32c(data)); }

namespace detail {
VOLT_INLINE void put_le(std::string& out, std::uint64_t v, int bytes);
}  // namespace detail

// One TFRecord around `data`.
VOLT_INLINE std::string frame_record(std::string_view data);

// ---- protobuf wire format --------------------------------------------------------------------

enum class WireType : std::uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

// Appends fields to a message in the order they are called.
class ProtoWriter {
 public:
  VOLT_INLINE void varint(std::uint64_t v);
  void key(std::uint32_t field, WireType type) { varint((std::uint64_t{field} << 3) | static_cast<std::uint32_t>(type)); }
  // int32 / int64 / enum / bool: negative values take ten bytes (two's complement), as protobuf does.
  VOLT_INLINE void int_field(std::uint32_t field, std::int64_t v);
  VOLT_INLINE void double_field(std::uint32_t field, double v);
  VOLT_INLINE void float_field(std::uint32_t field, float v);
  VOLT_INLINE void bytes_field(std::uint32_t field, std::string_view v);
  void message_field(std::uint32_t field, const ProtoWriter& m) { bytes_field(field, m.bytes()); }

  const std::string& bytes() const noexcept { return bytes_; }
  std::string take() && { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// ---- Event and Summary -----------------------------------------------------------------------

inline constexpr std::string_view file_version = "brain.Event:2";

// Event{wall_time, step, summary}: step 0 is the proto3 default and is left out.
VOLT_INLINE std::string summary_event(double wall_time, std::int64_t step, std::string_view summary);

// The first event of every file: Event{wall_time, file_version: "brain.Event:2"}.
VOLT_INLINE std::string file_version_event(double wall_time);

// Summary{value: [{tag, simple_value}...]}: what SummaryWriter.add_scalar writes, one value each.
VOLT_INLINE std::string scalar_summary(const std::vector<std::pair<std::string, float>>& values);

VOLT_INLINE std::string scalar_event(double wall_time, std::int64_t step, const std::string& tag, float value);

// ---- HParams plugin --------------------------------------------------------------------------

namespace hparams {

inline constexpr std::string_view plugin_name = "hparams";
inline constexpr std::string_view experiment_tag = "_hparams_/experiment";
inline constexpr std::string_view session_start_info_tag = "_hparams_/session_start_info";
inline constexpr std::string_view session_end_info_tag = "_hparams_/session_end_info";
inline constexpr std::int64_t data_type_string = 1, data_type_float64 = 3;  // api.proto DataType
inline constexpr std::int64_t status_success = 1;                           // api.proto Status

// A value torch's hparams() accepts: a number (int, float, bool) or a str. None is left out.
VOLT_INLINE std::optional<std::variant<double, std::string>> plugin_value(const reflect::HParamValue& v);

// Summary{value: [{tag, metadata: {plugin_data: {plugin_name: "hparams", content}}}]}
VOLT_INLINE std::string plugin_summary(std::string_view tag, const ProtoWriter& plugin_data_content);

// HParamsPluginData{version: 0 (left out), experiment: Experiment{hparam_infos, metric_infos}}
VOLT_INLINE std::string experiment_summary(const reflect::HParamDict& hparams, const std::vector<std::string>& metric_names);

// HParamsPluginData{session_start_info: SessionStartInfo{hparams: map<string, google.protobuf.Value>}}
VOLT_INLINE std::string session_start_info_summary(const reflect::HParamDict& hparams);

// HParamsPluginData{session_end_info: SessionEndInfo{status: STATUS_SUCCESS}}
VOLT_INLINE std::string session_end_info_summary();

}  // namespace hparams

// ---- the event file --------------------------------------------------------------------------

// TensorBoard's name: events.out.tfevents.<%010d wall time>.<hostname>.<pid>.<n>, n counting the
// writers this process has opened (tensorboard's _global_uid), so two writers never collide.
VOLT_INLINE std::string event_file_name(double wall_time);

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

  VOLT_INLINE void write_event(std::string_view event);
  VOLT_INLINE void flush();
  VOLT_INLINE void close();
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  struct Closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::filesystem::path path_;
  std::unique_ptr<std::FILE, Closer> file_;
};

}  // namespace volt::loggers::tfevents

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loggers/impl/tfevents.ipp>
#endif
