#pragma once
// CSV in the dialect Lightning's metrics.csv is written in: Python's csv module, "excel"
// dialect (delimiter ',', quotechar '"' doubled inside quotes, QUOTE_MINIMAL, rows ended by
// "\r\n"). Writing and reading both live here so that rewriting a file with a wider header and
// the HTML report read back exactly what was written.
#include <string>
#include <string_view>
#include <vector>

namespace volt::loggers::csv {

// QUOTE_MINIMAL: quote a field holding the delimiter, the quote char or a line break.
inline void append_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

inline void append_row(std::string& out, const std::vector<std::string>& fields) {
  // Python's writer quotes a row that is one empty field, so that it is not read back as no row.
  if (fields.size() == 1 && fields[0].empty()) {
    out += "\"\"\r\n";
    return;
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    append_field(out, fields[i]);
  }
  out += "\r\n";
}

// All rows of a CSV text. Accepts "\r\n", "\n" or "\r" line ends and quoted fields spanning
// lines; skips empty lines, as csv.DictReader does. A torn last line (no line end) is kept.
inline std::vector<std::vector<std::string>> parse(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, field_started = false;
  const auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  const auto end_row = [&] {
    if (field_started || !row.empty()) {
      end_field();
      rows.push_back(std::move(row));
    }
    row.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      in_quotes = true;
      field_started = true;
    } else if (c == ',') {
      field_started = true;  // the field after a comma exists even when empty
      end_field();
      field_started = true;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_row();
    } else {
      field += c;
      field_started = true;
    }
  }
  end_row();
  return rows;
}

}  // namespace volt::loggers::csv
