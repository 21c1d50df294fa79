#pragma once
// volt::ModelCheckpoint: Lightning 2.x's ModelCheckpoint (callbacks/model_checkpoint.py), with
// its parameters, defaults and rules:
//   - what: with `monitor`, the save_top_k best checkpoints by that metric stay on disk (a
//     checkpoint that falls out of the top k is deleted; -1 keeps all, 0 saves none); without
//     `monitor`, the latest checkpoint replaces the previous one (save_top_k 1), or all are kept
//     (-1). save_last also writes "last.ckpt" every time it saves.
//   - names: `filename` is a template ("{epoch}-{step}" -> "epoch=3-step=120.ckpt",
//     "{val_loss:.2f}" -> "val_loss=0.12", see filename_template.hpp); "epoch" and "step" are
//     the current epoch and global step unless a metric of that name was logged. A name that
//     already exists on disk gets "-v1", "-v2", ... (enable_version_counter).
//   - when: every_n_epochs (default 1 when no trigger is given) at the end of the training
//     epoch or of validation, following Lightning's _should_save_on_train_epoch_end;
//     every_n_train_steps and train_time_interval at on_train_batch_end. Never during the
//     sanity check, outside fit, under fast_dev_run, or twice at the same global step (so
//     nothing is saved before the first optimizer step).
//   - where: `dirpath`, made absolute. Unset, it is the first logger's
//     <save_dir>/<name>/version_<N>/checkpoints when the run has a logger (Lightning's default;
//     all loggers of a run share that version), else <TrainerOptions::default_root_dir>/checkpoints.
// Saving goes through ctx.save_checkpoint(path, save_weights_only): the Trainer writes the
// file (calling state_dict() on this callback, whose best/last paths are updated first, as in
// Lightning). Deleting is done here, on global rank 0, and only for files inside dirpath.
// Not supported (yet): save_last="link", Lightning's ckpt_path="last" lookup, the resume-path
// exception to deletion, and per-logger after_save_checkpoint notifications.
// Differences that come from C++: parameters are in Lightning's order (designated
// initializers must follow it); the monitored metric's value is read as a double.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json_fwd.hpp>

#include <volt/callbacks/filename_template.hpp>
#include <volt/callbacks/mode.hpp>
#include <volt/callbacks/trainer_flags.hpp>
#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>
#include <volt/detail/config.hpp>

namespace volt {

namespace callback_detail {
// Lightning's ModelCheckpoint._should_save_on_train_epoch_end: the option when given; else not
// when validation skips epochs, yes when there is no validation, else yes when validation runs
// once at the end of each epoch (so both training and validation metrics are there).
// Without num_val_batches from the Trainer, "no validation" is read as "no validation ended
// during this training epoch", which is the same thing when validation runs every epoch.
VOLT_INLINE bool save_on_train_epoch_end(std::optional<bool> option, const TrainerFlags& flags, bool validated_this_epoch);
}  // namespace callback_detail

class ModelCheckpoint {
 public:
  // Lightning's class attributes, fixed here.
  static constexpr std::string_view checkpoint_join_char = "-";
  static constexpr std::string_view checkpoint_name_last = "last";
  static constexpr std::string_view file_extension = ".ckpt";
  static constexpr std::int64_t starting_version = 1;
  // A Lightning Checkpoint callback: runs after the other callbacks (core/callback_list.hpp).
  static constexpr bool checkpoint_callback = true;

  struct Options {
    std::filesystem::path dirpath{};           // empty: <default_root_dir>/checkpoints
    std::string filename = "{epoch}-{step}";   // without ".ckpt"
    std::optional<std::string> monitor{};      // none: keep the latest checkpoint(s)
    bool verbose = false;                      // print each decision on rank 0
    bool save_last = false;                    // also write last.ckpt whenever saving
    std::int64_t save_top_k = 1;               // k best kept; -1 all; 0 none
    bool save_weights_only = false;
    Mode mode = Mode::min;
    bool auto_insert_metric_name = true;       // "{epoch}" -> "epoch=3" rather than "3"
    std::optional<std::int64_t> every_n_train_steps{};
    std::optional<std::chrono::duration<double>> train_time_interval{};
    std::optional<std::int64_t> every_n_epochs{};
    std::optional<bool> save_on_train_epoch_end{};  // none: Lightning's rule (see below)
    bool enable_version_counter = true;
  };

  // (Two constructors: a `= {}` default argument of a nested type with member initializers
  // is rejected by GCC inside the enclosing class.)
  ModelCheckpoint() : ModelCheckpoint(Options{}) {}
  VOLT_INLINE explicit ModelCheckpoint(Options options);
  // Declared here, defaulted in the .ipp: in the separately compiled mode a user TU calls them
  // instead of compiling the members' map / json / string destructors and moves again.
  VOLT_INLINE ModelCheckpoint(const ModelCheckpoint&);
  VOLT_INLINE ModelCheckpoint(ModelCheckpoint&&) noexcept;
  VOLT_INLINE ModelCheckpoint& operator=(const ModelCheckpoint&);
  VOLT_INLINE ModelCheckpoint& operator=(ModelCheckpoint&&) noexcept;
  VOLT_INLINE ~ModelCheckpoint();

  // ---- hooks (called by the Trainer) ----

  VOLT_INLINE void setup(Stage stage, Context& ctx);

  void on_train_start(Context&) { last_time_checked_ = std::chrono::steady_clock::now(); }

  void on_train_epoch_start(Context&) { validated_this_epoch_ = false; }

  // every_n_train_steps / train_time_interval.
  VOLT_INLINE void on_train_batch_end(Context& ctx);

  VOLT_INLINE void on_train_epoch_end(Context& ctx);

  VOLT_INLINE void on_validation_end(Context& ctx);

  // ---- checkpoint state (Lightning's state_dict / load_state_dict) ----

  // Lightning's keys. Scores are numbers, or "inf" / "-inf" / "nan"; a missing one is null.
  VOLT_INLINE nlohmann::json state_dict() const;
  // The same, written into `out`: what the Trainer calls (compiled; no JSON in a user TU).
  VOLT_INLINE void state_dict_into(nlohmann::json& out) const;

  // As Lightning: everything is restored when the checkpoint was written with the same dirpath,
  // else only best_model_path (with a warning). Loaded before setup() while dirpath is still
  // unresolved, the state is applied when setup() resolves it.
  VOLT_INLINE void load_state_dict(const nlohmann::json& state);

  // Lightning's state_key: tells apart several ModelCheckpoints in one checkpoint file.
  VOLT_INLINE std::string state_key() const;

  // ---- results ----

  const std::string& best_model_path() const noexcept { return best_model_path_; }
  std::optional<double> best_model_score() const noexcept { return best_model_score_; }
  const std::string& last_model_path() const noexcept { return last_model_path_; }
  // The kept checkpoints and their scores, in the order they were saved (Lightning's dict).
  const std::vector<std::pair<std::string, double>>& best_k_models() const noexcept { return best_k_models_; }
  const std::string& kth_best_model_path() const noexcept { return kth_best_model_path_; }
  double kth_value() const noexcept { return kth_value_; }
  std::optional<double> current_score() const noexcept { return current_score_; }
  // Resolved in the constructor when given, else in setup().
  const std::filesystem::path& dirpath() const noexcept { return dirpath_; }
  const Options& options() const noexcept { return options_; }
  std::int64_t every_n_epochs() const noexcept { return every_n_epochs_; }
  std::int64_t every_n_train_steps() const noexcept { return every_n_train_steps_; }

  // Lightning's format_checkpoint_name: <dirpath>/<formatted filename>[-v<ver>].ckpt.
  VOLT_INLINE std::string format_checkpoint_name(const FilenameValues& metrics, std::optional<std::string_view> filename = {},
                                     std::optional<std::int64_t> ver = {}) const;

 private:
  VOLT_INLINE static std::filesystem::path resolve(const std::filesystem::path& p);

  VOLT_INLINE static std::optional<double> optional_score(const nlohmann::json& state, const char* key);

  VOLT_INLINE void validate() const;

  VOLT_INLINE bool should_skip_saving(const Context& ctx) const;

  VOLT_INLINE bool should_save_on_train_epoch_end(const Context& ctx) const;

  VOLT_INLINE void save_on_epoch(Context& ctx);

  // Every logged metric, plus "epoch" and "step" as integers.
  VOLT_INLINE static FilenameValues monitor_candidates(const Context& ctx);

  VOLT_INLINE static std::optional<double> candidate_score(const FilenameValues& candidates, const std::string& name);

  VOLT_INLINE void save_topk(Context& ctx, const FilenameValues& candidates);

  VOLT_INLINE bool check_monitor_top_k(std::optional<double> current) const;

  VOLT_INLINE void save_monitor_checkpoint(Context& ctx, const FilenameValues& candidates);

  VOLT_INLINE void save_none_monitor_checkpoint(Context& ctx, const FilenameValues& candidates);

  VOLT_INLINE void update_best_and_save(Context& ctx, double current, const FilenameValues& candidates);

  VOLT_INLINE void save_last(Context& ctx, const FilenameValues& candidates);

  // Rank 0's path on every rank (Lightning broadcasts it): the "-v<n>" check looks at files rank
  // 0 may have just written, so only its answer counts.
  VOLT_INLINE static std::string shared_path(const Context& ctx, std::string path);

  // The formatted name, with "-v<n>" added while that file exists (unless it is the one about
  // to be replaced).
  VOLT_INLINE std::string interpolated_filepath(const FilenameValues& candidates, const std::string& del_filepath) const;

  VOLT_INLINE void save(Context& ctx, const std::string& filepath);

  // Lightning's _should_remove_checkpoint: never the file just written, never outside dirpath.
  VOLT_INLINE bool should_remove(const std::string& previous, const std::string& current) const;

  VOLT_INLINE static void remove(const Context& ctx, const std::string& filepath);

  VOLT_INLINE std::vector<std::pair<std::string, double>>::iterator find_model(const std::string& path);
  VOLT_INLINE void erase_model(const std::string& path);
  VOLT_INLINE double score_of(const std::string& path) const;

  Options options_;
  std::int64_t every_n_epochs_ = 1;
  std::int64_t every_n_train_steps_ = 0;
  std::filesystem::path dirpath_{};

  std::int64_t last_global_step_saved_ = 0;  // nothing to save before the first step
  std::optional<std::chrono::steady_clock::time_point> last_time_checked_{};
  std::optional<double> current_score_{};
  std::vector<std::pair<std::string, double>> best_k_models_{};
  std::string kth_best_model_path_{};
  double kth_value_ = 0.0;
  std::optional<double> best_model_score_{};
  std::string best_model_path_{};
  std::string last_model_path_{};
  std::string last_checkpoint_saved_{};

  bool validation_has_run_ = false;    // a missing monitor is an error once validation has run
  bool validated_this_epoch_ = false;  // stands in for num_val_batches (see should_save_on_train_epoch_end)
  bool warned_missing_monitor_ = false;
  // Immutable once set (shared by copies); a pointer, so this header needs only json_fwd.hpp.
  std::shared_ptr<const nlohmann::json> pending_state_{};
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/model_checkpoint.ipp>
#endif
