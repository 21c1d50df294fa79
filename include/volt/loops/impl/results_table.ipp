#pragma once
// Definitions of <volt/loops/results_table.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loops/results_table.hpp>

namespace volt::detail::results {

VOLT_INLINE std::size_t columns_of(std::string_view s) noexcept {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0u) != 0x80u;
  return n;
}

VOLT_INLINE std::string repeat(std::string_view piece, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += piece;
  return out;
}

VOLT_INLINE std::string centred(std::string_view text, std::size_t width) {
  const std::size_t len = columns_of(text);
  const std::size_t excess = width > len ? width - len : 0;
  return std::string(1 + excess / 2, ' ') + std::string(text) + std::string(1 + excess - excess / 2, ' ');
}

}  // namespace volt::detail::results

namespace volt::loops {

VOLT_INLINE std::string results_table_title(Stage stage) {
  std::string title = std::string(to_string(stage)) + " metric";
  if (!title.empty() && title[0] >= 'a' && title[0] <= 'z') title[0] = static_cast<char>(title[0] - 'a' + 'A');
  return title;
}

VOLT_INLINE std::string results_table(Stage stage, const std::map<std::string, double>& metrics) {
  namespace r = volt::detail::results;
  if (metrics.empty()) return {};
  const std::string title = results_table_title(stage);
  const std::string column = "DataLoader 0";
  std::map<std::string, std::string> values;
  std::size_t width = std::max<std::size_t>({25, r::columns_of(title), r::columns_of(column)});
  for (const auto& [name, value] : metrics) {
    const auto& text = values[name] = reflect::python_repr(value);
    width = std::max({width, r::columns_of(name), r::columns_of(text)});
  }
  const std::string rule = r::repeat("\u2501", width + 2), thin = r::repeat("\u2500", width + 2);
  std::string out;
  out += "\u250F" + rule + "\u2533" + rule + "\u2513\n";
  out += "\u2503" + r::centred(title, width) + "\u2503" + r::centred(column, width) + "\u2503\n";
  out += "\u2521" + rule + "\u2547" + rule + "\u2529\n";
  for (const auto& [name, text] : values)
    out += "\u2502" + r::centred(name, width) + "\u2502" + r::centred(text, width) + "\u2502\n";
  out += "\u2514" + thin + "\u2534" + thin + "\u2518\n";
  return out;
}

}  // namespace volt::loops
