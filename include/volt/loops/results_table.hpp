#pragma once
// The table trainer.validate() and trainer.test() print when they end: Lightning's results
// table as `rich` draws it (heavy head, one row per metric, sorted by name, values as Python's
// repr of the float), e.g.
//   ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
//   ┃        Test metric        ┃       DataLoader 0        ┃
//   ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
//   │         test_acc          │    0.8478000164031982     │
//   │         test_loss         │    0.4216495156288147     │
//   └───────────────────────────┴───────────────────────────┘
// Columns are max(25, the longest text) wide plus one space of padding on each side, text
// centred as rich centres it (the odd space on the right). Lightning caps the width at half
// the terminal and wraps longer names inside the cell; volt widens the column instead, so a
// name is never split.
#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <volt/core/stage.hpp>
#include <volt/reflect/python_format.hpp>
#include <volt/detail/config.hpp>

namespace volt::detail::results {

VOLT_INLINE std::size_t columns_of(std::string_view s) noexcept;

VOLT_INLINE std::string repeat(std::string_view piece, std::size_t n);

// rich's justify="center": the excess split with the odd column on the right, plus padding.
VOLT_INLINE std::string centred(std::string_view text, std::size_t width);

}  // namespace volt::detail::results

namespace volt::loops {

// The header of the first column: Lightning's f"{stage} Metric".capitalize().
VOLT_INLINE std::string results_table_title(Stage stage);

// The table of `metrics` (empty: no table, as Lightning prints none).
VOLT_INLINE std::string results_table(Stage stage, const std::map<std::string, double>& metrics);

}  // namespace volt::loops

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loops/impl/results_table.ipp>
#endif
