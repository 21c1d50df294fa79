#pragma once
// TableDataModule: a Lightning DataModule over a CSV table. setup() reads the file, splits the
// rows into train / val / test by fractions and a seed, standardizes the numeric columns with
// the mean and standard deviation of the training split only, maps each categorical column's
// values to ids (1.. for the categories of the training split, 0 for a value it never saw),
// and serves the splits as TensorBatchLoader<TableBatch>; predict serves the test split's
// features without the target.
//
// The fitted statistics and category maps are the DataModule's state: state_dict() /
// load_state_dict() put them in every checkpoint, and encode() applies them to new rows at
// inference, so a model and its preprocessing travel together.
//
// Every problem in the file is an error naming file:line:column before anything is trained.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include <volt/core/seed.hpp>
#include <volt/core/stage.hpp>
#include <volt/data/csv_table.hpp>
#include <volt/data/sampler.hpp>
#include <volt/data/tensor_batch_loader.hpp>
#include <volt/detail/config.hpp>

namespace volt::data {

// One batch of table rows: numeric float32 [B, numeric columns] (standardized), categorical
// int64 [B, categorical columns] (ids), target float32 [B, 1] (a regression head's shape).
struct TableBatch {
  BOOST_HANA_DEFINE_STRUCT(TableBatch, (torch::Tensor, numeric), (torch::Tensor, categorical), (torch::Tensor, target));
};
// The same rows without the target: what predict and encode() give.
struct TableFeatures {
  BOOST_HANA_DEFINE_STRUCT(TableFeatures, (torch::Tensor, numeric), (torch::Tensor, categorical));
};

struct TableOptions {
  std::filesystem::path path;
  std::vector<std::string> numeric;      // columns of numbers, standardized
  std::vector<std::string> categorical;  // columns of labels, mapped to ids
  std::string target;                    // a numeric column
  bool standardize_target = false;       // train on a standardized target; inverse_target() maps back
  double val_fraction = 0.1;
  double test_fraction = 0.1;
  std::int64_t batch_size = 64;
  // The split and the training order. Unset: the seed last given to volt::seed_everything.
  std::optional<std::uint64_t> seed{};
  char delimiter = ',';
};

class TableDataModule {
 public:
  explicit TableDataModule(TableOptions options) : options_(std::move(options)) { check_options(); }

  // Reads and splits the file once (the Trainer may call setup for every entry point). The
  // statistics are fitted on the training split unless load_state_dict() already gave them.
  VOLT_INLINE void setup(Stage = Stage::fit);

  VOLT_INLINE TensorBatchLoader<TableBatch> train_dataloader() const;
  VOLT_INLINE TensorBatchLoader<TableBatch> val_dataloader() const;
  VOLT_INLINE TensorBatchLoader<TableBatch> test_dataloader() const;
  VOLT_INLINE TensorBatchLoader<TableFeatures> predict_dataloader() const;

  // New rows (a CSV with the feature columns; the target column may be absent) encoded with
  // the fitted statistics, for inference after load_state_dict().
  VOLT_INLINE TableFeatures encode(const CsvTable& table) const;
  // A standardized target (or prediction) back in the target column's units.
  VOLT_INLINE torch::Tensor inverse_target(const torch::Tensor& standardized) const;

  // Rows per split (after setup()).
  VOLT_INLINE std::int64_t num_train_rows() const;
  VOLT_INLINE std::int64_t num_val_rows() const;
  VOLT_INLINE std::int64_t num_test_rows() const;
  // Ids per categorical column, the unseen id 0 included: the sizes of embedding tables.
  VOLT_INLINE std::vector<std::int64_t> cardinalities() const;
  VOLT_INLINE const TableOptions& options() const noexcept;

  // Lightning's LightningDataModule.state_dict(): the statistics fitted on the training split.
  VOLT_INLINE nlohmann::json state_dict() const;
  // The same, written into `out`: what the Trainer calls (compiled; no JSON in a user TU).
  VOLT_INLINE void state_dict_into(nlohmann::json& out) const;
  // Restores what state_dict() gave; the columns must be this module's. setup() then keeps
  // these statistics instead of fitting new ones.
  VOLT_INLINE void load_state_dict(const nlohmann::json& state);

 private:
  VOLT_INLINE std::uint64_t seed() const;

  VOLT_INLINE void check_options() const;

  VOLT_INLINE void require_fitted(const char* what) const;

  VOLT_INLINE const TableBatch& split(const std::optional<TableBatch>& rows, const char* name) const;

  VOLT_INLINE static bool is_missing(const std::string& cell);
  VOLT_INLINE static void check_present(const CsvTable& table, std::size_t row, std::size_t column);
  VOLT_INLINE static double number(const CsvTable& table, std::size_t row, std::size_t column);

  // Means, standard deviations (population, as scikit-learn's StandardScaler; 1 where a column
  // is constant) and category lists, from the training rows only.
  VOLT_INLINE void fit(const CsvTable& table, const std::vector<std::int64_t>& train);

  VOLT_INLINE TableBatch encode_rows(const CsvTable& table, const std::vector<std::int64_t>& rows, bool with_target) const;

  TableOptions options_;
  bool fitted_ = false;
  std::vector<double> means_, stds_;  // per numeric column, in options_.numeric's order
  std::map<std::string, std::vector<std::string>> categories_;  // sorted; id = position + 1
  double target_mean_ = 0, target_std_ = 1;
  std::optional<TableBatch> train_, val_, test_;
};

}  // namespace volt::data

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/data/impl/table_datamodule.ipp>
#endif
