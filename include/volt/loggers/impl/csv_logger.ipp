#pragma once
// Definitions of <volt/loggers/csv_logger.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loggers/csv_logger.hpp>

namespace volt::loggers {

VOLT_INLINE CSVLogger::CSVLogger(Options options)
    : dir_(std::move(options.save_dir), std::move(options.name), options.version),
      flush_every_(options.flush_logs_every_n_steps) {
  if (flush_every_ < 1)
    throw std::invalid_argument(fmt::format(
        "volt: CSVLogger: flush_logs_every_n_steps must be at least 1, got {}", flush_every_));
}

VOLT_INLINE CSVLogger::~CSVLogger() {
  if (pending_.empty()) return;
  try {
    save();
  } catch (...) {  // a destructor must not throw; the rows are lost as they would be in Python
  }
}

VOLT_INLINE void CSVLogger::log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) {
  start();
  Row row;
  for (const auto& [key, value] : metrics) row[key] = format_value(key, value);
  row["step"] = reflect::python_repr(step);
  pending_.push_back(std::move(row));
  if ((step + 1) % flush_every_ == 0) save();
}

VOLT_INLINE void CSVLogger::log_hparam_dict(const reflect::HParamDict& flat) {
  hparams_.update(flat);
  start();
  write_file_atomically(log_dir() / hparams_file_name, reflect::hparams_yaml(hparams_));
}

VOLT_INLINE void CSVLogger::save() {
  start();
  if (pending_.empty()) return;
  std::set<std::string> seen(header_.begin(), header_.end());
  bool new_keys = false;
  for (const auto& row : pending_)
    for (const auto& [key, value] : row)
      if (seen.insert(key).second) new_keys = true;
  std::vector<std::string> header(seen.begin(), seen.end());  // sorted, as Lightning sorts

  const auto path = metrics_file_path();
  std::error_code ec;
  const bool file_exists = wrote_file_ && std::filesystem::is_regular_file(path, ec);
  if (!file_exists) {
    std::string out;
    csv::append_row(out, header);
    append_rows(out, header, pending_);
    write_file_atomically(path, out);
  } else if (new_keys) {
    write_file_atomically(path, rewritten(read_file(path), header));
  } else {
    std::string out;
    append_rows(out, header, pending_);
    append_to_file(path, out);
  }
  header_ = std::move(header);
  wrote_file_ = true;
  pending_.clear();
}

VOLT_INLINE void CSVLogger::finalize(std::string_view /*status*/) {
  if (started_) save();
}

VOLT_INLINE void CSVLogger::write_report(const RunSummary& summary) const {
  const auto csv = metrics_file_path();
  if (!std::filesystem::exists(csv)) return;
  HtmlReportExtras extras;
  if (!summary.best_model_path.empty())
    extras.best_checkpoint = {summary.best_model_path, summary.monitor, summary.best_model_score};
  write_html_report(csv, log_dir() / "report.html", extras);
}

VOLT_INLINE std::string CSVLogger::format_value(const std::string& key, double value) {
  if (key == "epoch" && std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 9.007199254740992e15)
    return reflect::python_repr(static_cast<std::int64_t>(value));
  return reflect::python_repr(value);
}

VOLT_INLINE void CSVLogger::append_rows(std::string& out, const std::vector<std::string>& header, const std::vector<Row>& rows) {
  std::vector<std::string> fields(header.size());
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      auto it = row.find(header[i]);
      fields[i] = it == row.end() ? std::string{} : it->second;
    }
    csv::append_row(out, fields);
  }
}

VOLT_INLINE std::string CSVLogger::rewritten(std::string_view old_text, const std::vector<std::string>& header) const {
  auto old_rows = csv::parse(old_text);
  std::vector<Row> rows;
  if (!old_rows.empty()) {
    const auto& old_header = old_rows.front();
    for (std::size_t r = 1; r < old_rows.size(); ++r) {
      Row row;
      for (std::size_t i = 0; i < old_header.size() && i < old_rows[r].size(); ++i) row[old_header[i]] = old_rows[r][i];
      rows.push_back(std::move(row));
    }
  }
  std::string out;
  csv::append_row(out, header);
  append_rows(out, header, rows);
  append_rows(out, header, pending_);
  return out;
}

VOLT_INLINE void CSVLogger::start() {
  if (started_) return;
  std::filesystem::create_directories(log_dir());
  started_ = true;
}

}  // namespace volt::loggers
