#pragma once
// CSV in the dialect Lightning's metrics.csv is written in: Python's csv module, "excel"
// dialect (delimiter ',', quotechar '"' doubled inside quotes, QUOTE_MINIMAL, rows ended by
// "\r\n"). Writing and reading both live here so that rewriting a file with a wider header and
// the HTML report read back exactly what was written.
#include <string>
#include <string_view>
#include <vector>
#include <volt/detail/config.hpp>

namespace volt::loggers::csv {

// QUOTE_MINIMAL: quote a field holding the delimiter, the quote char or a line break.
VOLT_INLINE void append_field(std::string& out, std::string_view field);

VOLT_INLINE void append_row(std::string& out, const std::vector<std::string>& fields);

// All rows of a CSV text. Accepts "\r\n", "\n" or "\r" line ends and quoted fields spanning
// lines; skips empty lines, as csv.DictReader does. A torn last line (no line end) is kept.
VOLT_INLINE std::vector<std::vector<std::string>> parse(std::string_view text);

}  // namespace volt::loggers::csv

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loggers/impl/csv.ipp>
#endif
