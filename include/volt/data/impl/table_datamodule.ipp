#pragma once
// Definitions of <volt/data/table_datamodule.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/data/table_datamodule.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace volt::data {

VOLT_INLINE void TableDataModule::setup(Stage) {
  if (train_.has_value()) return;
  const CsvTable table = read_csv(options_.path, options_.delimiter);
  for (const auto* names : {&options_.numeric, &options_.categorical})
    for (const auto& name : *names) (void)table.column(name);  // a missing column first, by name
  (void)table.column(options_.target);
  const auto n = table.num_rows();
  const auto n_val = static_cast<std::int64_t>(std::llround(static_cast<double>(n) * options_.val_fraction));
  const auto n_test = static_cast<std::int64_t>(std::llround(static_cast<double>(n) * options_.test_fraction));
  const auto n_train = n - n_val - n_test;
  if (n_train < 2)
    throw std::invalid_argument(fmt::format(
        "volt::data::TableDataModule: {} has {} rows; with val_fraction = {} and test_fraction = {} the training "
        "split would have {} (at least 2 are needed to fit the statistics)",
        options_.path.string(), n, options_.val_fraction, options_.test_fraction, n_train));
  const torch::Tensor perm = epoch_permutation(seed(), 0, n);
  const auto* order = perm.data_ptr<std::int64_t>();
  std::vector<std::int64_t> train(order, order + n_train), val(order + n_train, order + n_train + n_val),
      test(order + n_train + n_val, order + n);

  if (!fitted_) fit(table, train);
  train_ = encode_rows(table, train, true);
  val_ = encode_rows(table, val, true);
  test_ = encode_rows(table, test, true);
}

VOLT_INLINE TensorBatchLoader<TableBatch> TableDataModule::train_dataloader() const {
  return TensorBatchLoader<TableBatch>(split(train_, "train"),
                                       {.batch_size = options_.batch_size, .shuffle = true, .seed = seed()});
}

VOLT_INLINE TensorBatchLoader<TableBatch> TableDataModule::val_dataloader() const {
  return TensorBatchLoader<TableBatch>(split(val_, "val"), {.batch_size = options_.batch_size});
}

VOLT_INLINE TensorBatchLoader<TableBatch> TableDataModule::test_dataloader() const {
  return TensorBatchLoader<TableBatch>(split(test_, "test"), {.batch_size = options_.batch_size});
}

VOLT_INLINE TensorBatchLoader<TableFeatures> TableDataModule::predict_dataloader() const {
  const TableBatch& rows = split(test_, "test");
  return TensorBatchLoader<TableFeatures>(TableFeatures{rows.numeric, rows.categorical},
                                          {.batch_size = options_.batch_size});
}

VOLT_INLINE TableFeatures TableDataModule::encode(const CsvTable& table) const {
  require_fitted("encode");
  std::vector<std::int64_t> all(static_cast<std::size_t>(table.num_rows()));
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  TableBatch rows = encode_rows(table, all, false);
  return TableFeatures{rows.numeric, rows.categorical};
}

VOLT_INLINE torch::Tensor TableDataModule::inverse_target(const torch::Tensor& standardized) const {
  require_fitted("inverse_target");
  if (!options_.standardize_target) return standardized;
  return standardized * target_std_ + target_mean_;
}

VOLT_INLINE std::int64_t TableDataModule::num_train_rows() const { return split(train_, "train").target.size(0); }

VOLT_INLINE std::int64_t TableDataModule::num_val_rows() const { return split(val_, "val").target.size(0); }

VOLT_INLINE std::int64_t TableDataModule::num_test_rows() const { return split(test_, "test").target.size(0); }

VOLT_INLINE std::vector<std::int64_t> TableDataModule::cardinalities() const {
  require_fitted("cardinalities");
  std::vector<std::int64_t> out;
  for (const auto& c : options_.categorical) out.push_back(static_cast<std::int64_t>(categories_.at(c).size()) + 1);
  return out;
}

VOLT_INLINE const TableOptions& TableDataModule::options() const noexcept { return options_; }

VOLT_INLINE void TableDataModule::state_dict_into(nlohmann::json& out) const { out = state_dict(); }

VOLT_INLINE nlohmann::json TableDataModule::state_dict() const {
  require_fitted("state_dict");
  nlohmann::json j;
  j["numeric"] = nlohmann::json::object();
  for (std::size_t c = 0; c < options_.numeric.size(); ++c)
    j["numeric"][options_.numeric[c]] = {{"mean", means_[c]}, {"std", stds_[c]}};
  j["categorical"] = categories_;
  j["target"] = {{"name", options_.target}, {"mean", target_mean_}, {"std", target_std_}};
  return j;
}

VOLT_INLINE void TableDataModule::load_state_dict(const nlohmann::json& state) {
  const auto fail = [](const std::string& what) {
    throw std::invalid_argument("volt::data::TableDataModule::load_state_dict: " + what);
  };
  std::vector<double> means, stds;
  std::map<std::string, std::vector<std::string>> categories;
  try {
    for (const auto& name : options_.numeric) {
      if (!state.at("numeric").contains(name))
        fail(fmt::format("the state has no statistics for numeric column \"{}\"; it was saved by a "
                         "TableDataModule with other columns",
                         name));
      means.push_back(state.at("numeric").at(name).at("mean").get<double>());
      stds.push_back(state.at("numeric").at(name).at("std").get<double>());
    }
    for (const auto& name : options_.categorical) {
      if (!state.at("categorical").contains(name))
        fail(fmt::format("the state has no categories for column \"{}\"; it was saved by a TableDataModule with "
                         "other columns",
                         name));
      categories[name] = state.at("categorical").at(name).get<std::vector<std::string>>();
    }
    target_mean_ = state.at("target").at("mean").get<double>();
    target_std_ = state.at("target").at("std").get<double>();
  } catch (const nlohmann::json::exception& e) {
    fail(fmt::format("the state is malformed ({})", e.what()));
  }
  means_ = std::move(means);
  stds_ = std::move(stds);
  categories_ = std::move(categories);
  fitted_ = true;
}

VOLT_INLINE std::uint64_t TableDataModule::seed() const { return options_.seed.value_or(volt::global_seed()); }

VOLT_INLINE void TableDataModule::check_options() const {
  const auto fail = [](const std::string& what) {
    throw std::invalid_argument("volt::data::TableDataModule: " + what);
  };
  if (options_.target.empty()) fail("TableOptions::target is empty; name the column to predict");
  if (options_.numeric.empty() && options_.categorical.empty())
    fail("TableOptions::numeric and ::categorical are both empty; name at least one feature column");
  for (const auto* fraction : {&options_.val_fraction, &options_.test_fraction})
    if (!(*fraction >= 0 && *fraction < 1))
      fail(fmt::format("{} = {} is invalid; allowed: 0 <= fraction < 1",
                       fraction == &options_.val_fraction ? "val_fraction" : "test_fraction", *fraction));
  if (options_.val_fraction + options_.test_fraction >= 1)
    fail(fmt::format("val_fraction + test_fraction = {} leaves no training rows; their sum must be < 1",
                     options_.val_fraction + options_.test_fraction));
  if (options_.batch_size < 1)
    fail(fmt::format("batch_size = {} is invalid; allowed: batch_size >= 1", options_.batch_size));
}

VOLT_INLINE void TableDataModule::require_fitted(const char* what) const {
  if (!fitted_)
    throw std::logic_error(fmt::format("volt::data::TableDataModule::{}: nothing is fitted yet; call setup() (the "
                                       "Trainer does) or load_state_dict() first",
                                       what));
}

VOLT_INLINE const TableBatch& TableDataModule::split(const std::optional<TableBatch>& rows, const char* name) const {
  if (!rows)
    throw std::logic_error(fmt::format("volt::data::TableDataModule: the {} split is not loaded; call setup() "
                                       "first (the Trainer does)",
                                       name));
  return *rows;
}

VOLT_INLINE bool TableDataModule::is_missing(const std::string& cell) {
  return cell.empty() || cell == "NA" || cell == "N/A" || cell == "NaN" || cell == "nan" || cell == "null";
}

VOLT_INLINE void TableDataModule::check_present(const CsvTable& table, std::size_t row, std::size_t column) {
  if (is_missing(table.rows[row][column]))
    throw CsvError(fmt::format("volt::data: {}: missing value (\"{}\"); fill it in or drop the row first (volt does "
                               "not impute)",
                               table.where(row, column), table.rows[row][column]));
}

VOLT_INLINE double TableDataModule::number(const CsvTable& table, std::size_t row, std::size_t column) {
  check_present(table, row, column);
  const std::string& cell = table.rows[row][column];
  std::size_t used = 0;
  double value = 0;
  bool ok = true;
  try {
    value = std::stod(cell, &used);  // skips leading spaces
  } catch (const std::exception&) {
    ok = false;
  }
  if (ok) {
    while (used < cell.size() && (cell[used] == ' ' || cell[used] == '\t')) ++used;  // and trailing ones
    ok = used == cell.size() && std::isfinite(value);
  }
  if (!ok)
    throw CsvError(fmt::format("volt::data: {}: \"{}\" is not a number, in a numeric column; fix the cell or list "
                               "the column under TableOptions::categorical",
                               table.where(row, column), cell));
  return value;
}

VOLT_INLINE void TableDataModule::fit(const CsvTable& table, const std::vector<std::int64_t>& train) {
  means_.clear();
  stds_.clear();
  categories_.clear();
  const auto moments = [&](std::size_t column) {
    double sum = 0, sum_sq = 0;
    for (const auto r : train) {
      const double v = number(table, static_cast<std::size_t>(r), column);
      sum += v;
      sum_sq += v * v;
    }
    const double n = static_cast<double>(train.size());
    const double mean = sum / n;
    const double var = std::max(0.0, sum_sq / n - mean * mean);
    const double std = std::sqrt(var);
    return std::pair{mean, std > 1e-12 ? std : 1.0};
  };
  for (const auto& name : options_.numeric) {
    const auto [mean, std] = moments(table.column(name));
    means_.push_back(mean);
    stds_.push_back(std);
  }
  for (const auto& name : options_.categorical) {
    const auto column = table.column(name);
    std::vector<std::string> values;
    for (const auto r : train) {
      check_present(table, static_cast<std::size_t>(r), column);
      values.push_back(table.rows[static_cast<std::size_t>(r)][column]);
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    categories_[name] = std::move(values);
  }
  const auto [target_mean, target_std] = moments(table.column(options_.target));
  target_mean_ = target_mean;
  target_std_ = target_std;
  fitted_ = true;
}

VOLT_INLINE TableBatch TableDataModule::encode_rows(const CsvTable& table, const std::vector<std::int64_t>& rows, bool with_target) const {
  const auto n = static_cast<std::int64_t>(rows.size());
  const auto n_numeric = static_cast<std::int64_t>(options_.numeric.size());
  const auto n_categorical = static_cast<std::int64_t>(options_.categorical.size());
  TableBatch out{torch::empty({n, n_numeric}, torch::kFloat32), torch::empty({n, n_categorical}, torch::kLong),
                 torch::empty({n, 1}, torch::kFloat32)};
  auto numeric = out.numeric.accessor<float, 2>();
  auto categorical = out.categorical.accessor<std::int64_t, 2>();
  auto target = out.target.accessor<float, 2>();
  std::vector<std::size_t> numeric_columns, categorical_columns;
  for (const auto& name : options_.numeric) numeric_columns.push_back(table.column(name));
  for (const auto& name : options_.categorical) categorical_columns.push_back(table.column(name));
  const std::size_t target_column = with_target ? table.column(options_.target) : 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto r = static_cast<std::size_t>(rows[static_cast<std::size_t>(i)]);
    for (std::int64_t c = 0; c < n_numeric; ++c)
      numeric[i][c] = static_cast<float>((number(table, r, numeric_columns[c]) - means_[c]) / stds_[c]);
    for (std::int64_t c = 0; c < n_categorical; ++c) {
      const auto column = categorical_columns[static_cast<std::size_t>(c)];
      check_present(table, r, column);
      const auto& known = categories_.at(options_.categorical[static_cast<std::size_t>(c)]);
      const auto it = std::lower_bound(known.begin(), known.end(), table.rows[r][column]);
      categorical[i][c] = it != known.end() && *it == table.rows[r][column] ? (it - known.begin()) + 1 : 0;
    }
    if (with_target) {
      const double y = number(table, r, target_column);
      target[i][0] = static_cast<float>(options_.standardize_target ? (y - target_mean_) / target_std_ : y);
    }
  }
  if (!with_target) out.target = torch::Tensor{};
  return out;
}

}  // namespace volt::data
