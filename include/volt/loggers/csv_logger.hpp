#pragma once
// volt::loggers::CSVLogger: Lightning's CSVLogger (lightning.pytorch.loggers.CSVLogger over
// lightning.fabric's _ExperimentWriter), writing the files Lightning 2.2 and later write, byte
// for byte. Lightning 2.1.x writes the header keys in the order it first saw them (no sort):
// against a 2.1 file the columns may come in another order; the rows and values are the same.
//
//   <save_dir>/<name>/version_<N>/metrics.csv   one row per log_metrics call, plus a `step`
//                                               column; header = sorted union of all keys seen;
//                                               missing values are empty cells; "\r\n" row ends
//                                               (Python's csv module); floats as Python's repr
//   <save_dir>/<name>/version_<N>/hparams.yaml  yaml.dump of the hyperparameters, rewritten on
//                                               each log_hyperparams call
//
// Rows are buffered and written by save(), which log_metrics calls itself when
// (step + 1) % flush_logs_every_n_steps == 0 (Lightning's Trainer also calls save() after each
// log_metrics). A save that meets keys the file does not have yet rewrites the whole file under
// the wider header, as Lightning 2.x does; other saves append.
//
// Where volt differs, and why:
// - A value logged under the key "epoch" that is a whole number is written as an integer ("0",
//   not "0.0"): Lightning's Trainer adds `epoch` as a Python int, while volt's metric maps hold
//   doubles. Every other value is written as a float.
// - Lightning deletes an old metrics.csv of the same version folder when the logger starts; volt
//   replaces it at the first save instead (temp file + rename, like every full rewrite here), so
//   a crash before that save loses nothing. The destructor saves rows still buffered.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <volt/loggers/csv.hpp>
#include <volt/loggers/file_io.hpp>
#include <volt/reflect/hparams.hpp>
#include <volt/reflect/hparams_yaml.hpp>
#include <volt/loggers/html_report.hpp>
#include <volt/loggers/logger.hpp>
#include <volt/reflect/python_format.hpp>
#include <volt/loggers/versioning.hpp>
#include <volt/detail/config.hpp>

namespace volt::loggers {

struct CSVLoggerOptions {
  std::filesystem::path save_dir;
  std::string name = "lightning_logs";
  std::optional<std::int64_t> version{};  // nullopt: the next free version_<N>
  std::int64_t flush_logs_every_n_steps = 100;
};

class CSVLogger {
 public:
  using Options = CSVLoggerOptions;
  static constexpr std::string_view metrics_file_name = "metrics.csv";
  static constexpr std::string_view hparams_file_name = "hparams.yaml";

  VOLT_INLINE explicit CSVLogger(Options options);

  // Move-only: two copies would write one file. No assignment: it would drop buffered rows.
  CSVLogger(const CSVLogger&) = delete;
  CSVLogger& operator=(const CSVLogger&) = delete;
  CSVLogger(CSVLogger&& other) noexcept = default;
  CSVLogger& operator=(CSVLogger&&) = delete;

  VOLT_INLINE ~CSVLogger();

  VOLT_INLINE void log_metrics(const std::map<std::string, double>& metrics, std::int64_t step);

  // Adds to the hyperparameters logged so far and rewrites hparams.yaml.
  template <class HParams>
  void log_hyperparams(const HParams& params) {
    log_hparam_dict(reflect::to_hparams(params));
  }
  // The same once the values are a dict (type-independent: compiled once in fast mode).
  VOLT_INLINE void log_hparam_dict(const reflect::HParamDict& flat);

  // Writes the buffered rows to metrics.csv.
  VOLT_INLINE void save();

  // Lightning: a logger that never started does nothing; otherwise it saves. The status does not
  // change what a CSV file holds.
  VOLT_INLINE void finalize(std::string_view /*status*/);
  // Called by the Trainer after finalize: the HTML report of metrics.csv's curves beside it (a
  // file a person can open instead of reading the CSV), with what the run adds (the best
  // checkpoint; hparams.yaml is read from beside metrics.csv). Nothing when no metrics were written.
  VOLT_INLINE void write_report(const RunSummary& summary = {}) const;

  std::filesystem::path log_dir() const { return dir_.log_dir(); }
  std::string name() const { return dir_.name(); }
  std::int64_t version() const { return dir_.version(); }
  VersionedLogDir& versioned_log_dir() noexcept { return dir_; }  // for the Trainer's shared version
  const std::filesystem::path& save_dir() const noexcept { return dir_.save_dir(); }
  std::filesystem::path root_dir() const { return dir_.root_dir(); }
  std::filesystem::path metrics_file_path() const { return log_dir() / metrics_file_name; }
  // Everything log_hyperparams has been given, in first-logged order.
  const reflect::HParamDict& hparams() const noexcept { return hparams_; }

 private:
  using Row = std::map<std::string, std::string>;  // key -> formatted cell

  VOLT_INLINE static std::string format_value(const std::string& key, double value);

  VOLT_INLINE static void append_rows(std::string& out, const std::vector<std::string>& header, const std::vector<Row>& rows);

  // The file on disk under `header`, then the buffered rows: csv.DictReader + DictWriter.
  VOLT_INLINE std::string rewritten(std::string_view old_text, const std::vector<std::string>& header) const;

  // Lightning's `experiment` property: the first write fixes the version and makes the folder.
  VOLT_INLINE void start();

  VersionedLogDir dir_;
  std::int64_t flush_every_;
  std::vector<Row> pending_;          // rows not yet in metrics.csv
  std::vector<std::string> header_;   // the header of metrics.csv as this logger last wrote it
  reflect::HParamDict hparams_;
  bool started_ = false;
  bool wrote_file_ = false;           // false: the next save replaces any metrics.csv already there
};

}  // namespace volt::loggers

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loggers/impl/csv_logger.ipp>
#endif
