#pragma once
// Reading a CSV file into cells, with the line each row came from, so that every later error
// (a non-numeric cell, a missing value) can name the file, line and column. RFC 4180: a header
// line, fields separated by the delimiter, "quoted" fields may hold delimiters, newlines and
// doubled quotes; \r\n line ends; blank lines are skipped.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace volt::data {

// A CSV file's problem: the message names "file:line:column" and what to fix.
class CsvError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CsvTable {
  std::filesystem::path path;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as long as header
  std::vector<std::int64_t> lines;             // the file line (1-based) each row starts on

  std::int64_t num_rows() const noexcept { return static_cast<std::int64_t>(rows.size()); }

  // The index of the column named `name`; an error listing the header when there is none.
  std::size_t column(std::string_view name) const {
    for (std::size_t c = 0; c < header.size(); ++c)
      if (header[c] == name) return c;
    throw CsvError(fmt::format("volt::data: {}:1: no column \"{}\"; the header has: {}", path.string(), name,
                               fmt::join(header, ", ")));
  }

  // "file:line:column (column "name")", for messages about one cell.
  std::string where(std::size_t row, std::size_t column) const {
    return fmt::format("{}:{}:{} (column \"{}\")", path.string(), lines[row], column + 1, header[column]);
  }
};

// Parses CSV text; `path` only names the source in messages.
inline CsvTable parse_csv(std::string_view text, const std::filesystem::path& path, char delimiter = ',') {
  CsvTable table;
  table.path = path;
  std::vector<std::string> record;
  std::string field;
  std::int64_t line = 1, record_line = 1;
  bool quoted = false, field_was_quoted = false, any_char = false;

  const auto fail = [&](std::int64_t at, const std::string& what) {
    throw CsvError(fmt::format("volt::data: {}:{}: {}", path.string(), at, what));
  };
  const auto end_record = [&] {
    record.push_back(std::move(field));
    field.clear();
    const bool blank = record.size() == 1 && record[0].empty() && !field_was_quoted;
    if (!blank) {
      if (table.header.empty()) {
        table.header = std::move(record);
      } else if (record.size() != table.header.size()) {
        fail(record_line, fmt::format("this row has {} fields but the header has {}{}; every row needs one field per "
                                      "column (quote a field that contains '{}')",
                                      record.size(), table.header.size(),
                                      record.size() < table.header.size()
                                          ? fmt::format(" (column {} \"{}\" and after are missing)", record.size() + 1,
                                                        table.header[record.size()])
                                          : std::string(""),
                                      delimiter));
      } else {
        table.rows.push_back(std::move(record));
        table.lines.push_back(record_line);
      }
    }
    record.clear();
    field_was_quoted = false;
  };

  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    any_char = true;
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (ch == '\n') ++line;
        field += ch;
      }
    } else if (ch == '"' && field.empty()) {
      quoted = field_was_quoted = true;
    } else if (ch == delimiter) {
      record.push_back(std::move(field));
      field.clear();
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      record_line = ++line;
    } else {
      field += ch;
    }
  }
  if (quoted) fail(record_line, "a quoted field is not closed; add the closing '\"'");
  if (!field.empty() || !record.empty() || field_was_quoted) end_record();
  if (!any_char || table.header.empty())
    throw CsvError(fmt::format("volt::data: {}: the file is empty; a CSV needs a header line and rows", path.string()));
  if (table.rows.empty())
    throw CsvError(fmt::format("volt::data: {}: the file has a header but no rows", path.string()));
  return table;
}

inline CsvTable read_csv(const std::filesystem::path& path, char delimiter = ',') {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw CsvError(fmt::format("volt::data: cannot open \"{}\"; check the path (relative paths start at the working "
                               "directory, {})",
                               path.string(), std::filesystem::current_path().string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_csv(text.str(), path, delimiter);
}

}  // namespace volt::data
