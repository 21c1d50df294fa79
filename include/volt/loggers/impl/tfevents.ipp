#pragma once
// Definitions of <volt/loggers/tfevents.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loggers/tfevents.hpp>

#include <unistd.h>
#include <boost/crc.hpp>
#include <fmt/format.h>

namespace volt::loggers::tfevents {

VOLT_INLINE std::uint32_t crc32c(std::string_view data) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

namespace detail {

VOLT_INLINE void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace detail

VOLT_INLINE std::string frame_record(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  detail::put_le(out, data.size(), 8);
  detail::put_le(out, masked_crc32c(std::string_view(out.data(), 8)), 4);
  out += data;
  detail::put_le(out, masked_crc32c(data), 4);
  return out;
}

VOLT_INLINE void ProtoWriter::varint(std::uint64_t v) {
  while (v >= 0x80) {
    bytes_ += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  bytes_ += static_cast<char>(v);
}

VOLT_INLINE void ProtoWriter::int_field(std::uint32_t field, std::int64_t v) {
  key(field, WireType::varint);
  varint(static_cast<std::uint64_t>(v));
}

VOLT_INLINE void ProtoWriter::double_field(std::uint32_t field, double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  key(field, WireType::fixed64);
  detail::put_le(bytes_, bits, 8);
}

VOLT_INLINE void ProtoWriter::float_field(std::uint32_t field, float v) {
  std::uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  key(field, WireType::fixed32);
  detail::put_le(bytes_, bits, 4);
}

VOLT_INLINE void ProtoWriter::bytes_field(std::uint32_t field, std::string_view v) {  // string, bytes, sub-message
  key(field, WireType::length_delimited);
  varint(v.size());
  bytes_ += v;
}

VOLT_INLINE std::string summary_event(double wall_time, std::int64_t step, std::string_view summary) {
  ProtoWriter e;
  e.double_field(1, wall_time);
  if (step != 0) e.int_field(2, step);
  e.bytes_field(5, summary);
  return std::move(e).take();
}

VOLT_INLINE std::string file_version_event(double wall_time) {
  ProtoWriter e;
  e.double_field(1, wall_time);
  e.bytes_field(3, file_version);
  return std::move(e).take();
}

VOLT_INLINE std::string scalar_summary(const std::vector<std::pair<std::string, float>>& values) {
  ProtoWriter s;
  for (const auto& [tag, v] : values) {
    ProtoWriter value;
    value.bytes_field(1, tag);
    value.float_field(2, v);  // in a oneof: written even when 0
    s.message_field(1, value);
  }
  return std::move(s).take();
}

VOLT_INLINE std::string scalar_event(double wall_time, std::int64_t step, const std::string& tag, float value) {
  return summary_event(wall_time, step, scalar_summary({{tag, value}}));
}

namespace hparams {

VOLT_INLINE std::optional<std::variant<double, std::string>> plugin_value(const reflect::HParamValue& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return std::nullopt;
}

VOLT_INLINE std::string plugin_summary(std::string_view tag, const ProtoWriter& plugin_data_content) {
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

VOLT_INLINE std::string experiment_summary(const reflect::HParamDict& hparams, const std::vector<std::string>& metric_names) {
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

VOLT_INLINE std::string session_start_info_summary(const reflect::HParamDict& hparams) {
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

VOLT_INLINE std::string session_end_info_summary() {
  ProtoWriter sei;
  sei.int_field(1, status_success);
  ProtoWriter data;
  data.message_field(4, sei);
  return plugin_summary(session_end_info_tag, data);
}

}  // namespace hparams

VOLT_INLINE std::string event_file_name(double wall_time) {
  static std::atomic<std::int64_t> next_uid{0};
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  return fmt::format("events.out.tfevents.{:010d}.{}.{}.{}", static_cast<std::int64_t>(std::floor(wall_time)), host,
                     static_cast<std::int64_t>(::getpid()), next_uid.fetch_add(1));
}

VOLT_INLINE void EventFileWriter::write_event(std::string_view event) {
  const std::string record = frame_record(event);
  if (std::fwrite(record.data(), 1, record.size(), file_.get()) != record.size())
    throw std::filesystem::filesystem_error("volt: could not write the TensorBoard event file", path_,
                                            std::error_code(errno, std::generic_category()));
}

VOLT_INLINE void EventFileWriter::flush() {
  if (file_ && std::fflush(file_.get()) != 0)
    throw std::filesystem::filesystem_error("volt: could not flush the TensorBoard event file", path_,
                                            std::error_code(errno, std::generic_category()));
}

VOLT_INLINE void EventFileWriter::close() {
  if (!file_) return;
  const int rc = std::fclose(file_.release());
  if (rc != 0)
    throw std::filesystem::filesystem_error("volt: could not close the TensorBoard event file", path_,
                                            std::error_code(errno, std::generic_category()));
}

}  // namespace volt::loggers::tfevents
