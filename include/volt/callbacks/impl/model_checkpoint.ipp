#pragma once
// Definitions of <volt/callbacks/model_checkpoint.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/callbacks/model_checkpoint.hpp>

#include <nlohmann/json.hpp>

namespace volt {

namespace callback_detail {

VOLT_INLINE bool save_on_train_epoch_end(std::optional<bool> option, const TrainerFlags& flags, bool validated_this_epoch) {
  if (option) return *option;
  if (flags.check_val_every_n_epoch != 1) return false;
  const bool no_validation = flags.num_val_batches ? *flags.num_val_batches == 0 : !validated_this_epoch;
  if (no_validation) return true;
  return flags.val_check_interval_is_one_epoch;
}

}  // namespace callback_detail

VOLT_INLINE void ModelCheckpoint::setup(Stage stage, Context& ctx) {
  if (options_.dirpath.empty())
    dirpath_ = resolve((ctx.first_logger_dir().empty() ? ctx.default_root_dir() : ctx.first_logger_dir()) / "checkpoints");
  if (stage == Stage::fit && ctx.is_global_zero() && options_.save_top_k != 0) {
    std::error_code ec;
    if (std::filesystem::is_directory(dirpath_, ec) && !std::filesystem::is_empty(dirpath_, ec))
      std::cerr << fmt::format("volt: warning: checkpoint directory {} exists and is not empty.\n",
                               dirpath_.string());
  }
  if (pending_state_) {
    const std::shared_ptr<const nlohmann::json> state = std::move(pending_state_);
    pending_state_.reset();
    load_state_dict(*state);
  }
  validation_has_run_ = false;
  warned_missing_monitor_ = false;
}

VOLT_INLINE void ModelCheckpoint::on_train_batch_end(Context& ctx) {
  if (should_skip_saving(ctx)) return;
  const bool skip_batch = every_n_train_steps_ < 1 || ctx.global_step() % every_n_train_steps_ != 0;
  bool skip_time = true;
  const auto now = std::chrono::steady_clock::now();
  if (options_.train_time_interval)
    skip_time = !last_time_checked_ || now - *last_time_checked_ < *options_.train_time_interval;
  if (skip_batch && skip_time) return;
  if (!skip_time) last_time_checked_ = now;
  const auto candidates = monitor_candidates(ctx);
  save_topk(ctx, candidates);
  save_last(ctx, candidates);
}

VOLT_INLINE void ModelCheckpoint::on_train_epoch_end(Context& ctx) {
  if (!should_skip_saving(ctx) && should_save_on_train_epoch_end(ctx)) save_on_epoch(ctx);
}

VOLT_INLINE void ModelCheckpoint::on_validation_end(Context& ctx) {
  if (ctx.sanity_checking() || ctx.stage() != Stage::fit) return;
  validation_has_run_ = true;
  validated_this_epoch_ = true;
  if (!should_skip_saving(ctx) && !should_save_on_train_epoch_end(ctx)) save_on_epoch(ctx);
}

VOLT_INLINE nlohmann::json ModelCheckpoint::state_dict() const {
  nlohmann::json best_k = nlohmann::json::object();
  for (const auto& [path, score] : best_k_models_) best_k[path] = callback_detail::score_to_json(score);
  auto optional_score = [](const std::optional<double>& s) {
    return s ? callback_detail::score_to_json(*s) : nlohmann::json(nullptr);
  };
  return {{"monitor", options_.monitor ? nlohmann::json(*options_.monitor) : nlohmann::json(nullptr)},
          {"best_model_score", optional_score(best_model_score_)},
          {"best_model_path", best_model_path_},
          {"current_score", optional_score(current_score_)},
          {"dirpath", dirpath_.string()},
          {"best_k_models", best_k},
          {"kth_best_model_path", kth_best_model_path_},
          {"kth_value", callback_detail::score_to_json(kth_value_)},
          {"last_model_path", last_model_path_}};
}

VOLT_INLINE void ModelCheckpoint::state_dict_into(nlohmann::json& out) const { out = state_dict(); }

VOLT_INLINE void ModelCheckpoint::load_state_dict(const nlohmann::json& state) {
  if (dirpath_.empty()) {
    pending_state_ = std::make_shared<const nlohmann::json>(state);
    return;
  }
  const std::string from_ckpt = state.contains("dirpath") && state["dirpath"].is_string()
                                    ? state["dirpath"].get<std::string>()
                                    : dirpath_.string();
  if (from_ckpt == dirpath_.string()) {
    best_model_score_ = optional_score(state, "best_model_score");
    if (state.contains("kth_best_model_path")) kth_best_model_path_ = state["kth_best_model_path"].get<std::string>();
    if (state.contains("kth_value") && !state["kth_value"].is_null())
      kth_value_ = callback_detail::score_from_json(state["kth_value"]);
    if (state.contains("best_k_models")) {
      best_k_models_.clear();
      for (const auto& [path, score] : state["best_k_models"].items())
        best_k_models_.emplace_back(path, callback_detail::score_from_json(score));
    }
    if (state.contains("last_model_path")) last_model_path_ = state["last_model_path"].get<std::string>();
    current_score_ = optional_score(state, "current_score");
  } else {
    std::cerr << fmt::format(
        "volt: warning: the checkpoint directory has changed from {} to {}, therefore best_model_score, "
        "kth_best_model_path, kth_value, last_model_path and best_k_models won't be reloaded. Only "
        "best_model_path will be reloaded.\n",
        from_ckpt, dirpath_.string());
  }
  if (state.contains("best_model_path")) best_model_path_ = state["best_model_path"].get<std::string>();
}

VOLT_INLINE std::string ModelCheckpoint::state_key() const {
  const std::string monitor = options_.monitor ? fmt::format("'{}'", *options_.monitor) : "None";
  const std::string interval =
      options_.train_time_interval ? fmt::format("{}", options_.train_time_interval->count()) : "None";
  return fmt::format(
      "ModelCheckpoint{{'monitor': {}, 'mode': '{}', 'every_n_train_steps': {}, 'every_n_epochs': {}, "
      "'train_time_interval': {}}}",
      monitor, to_string(options_.mode), every_n_train_steps_, every_n_epochs_, interval);
}

VOLT_INLINE std::string ModelCheckpoint::format_checkpoint_name(const FilenameValues& metrics, std::optional<std::string_view> filename,
                                   std::optional<std::int64_t> ver) const {
  std::string name = format_checkpoint_filename(filename.value_or(options_.filename), metrics,
                                                options_.auto_insert_metric_name);
  if (ver) name += fmt::format("{}v{}", checkpoint_join_char, *ver);
  name += file_extension;
  return dirpath_.empty() ? name : (dirpath_ / name).string();
}

VOLT_INLINE std::filesystem::path ModelCheckpoint::resolve(const std::filesystem::path& p) {
  std::error_code ec;
  auto abs = std::filesystem::weakly_canonical(std::filesystem::absolute(p), ec);
  return ec ? std::filesystem::absolute(p).lexically_normal() : abs;
}

VOLT_INLINE std::optional<double> ModelCheckpoint::optional_score(const nlohmann::json& state, const char* key) {
  if (!state.contains(key) || state[key].is_null()) return std::nullopt;
  return callback_detail::score_from_json(state[key]);
}

VOLT_INLINE void ModelCheckpoint::validate() const {
  auto fail = [](const std::string& what) { throw std::invalid_argument("volt: ModelCheckpoint: " + what); };
  if (options_.save_top_k < -1) fail(fmt::format("invalid value for save_top_k={}; it must be >= -1.", options_.save_top_k));
  if (every_n_train_steps_ < 0)
    fail(fmt::format("invalid value for every_n_train_steps={}; it must be >= 0.", every_n_train_steps_));
  if (every_n_epochs_ < 0) fail(fmt::format("invalid value for every_n_epochs={}; it must be >= 0.", every_n_epochs_));
  if (options_.train_time_interval && options_.train_time_interval->count() <= 0)
    fail("train_time_interval must be positive.");
  const int triggers = (every_n_train_steps_ >= 1) + (every_n_epochs_ >= 1) + (options_.train_time_interval ? 1 : 0);
  if (triggers > 1)
    fail(fmt::format(
        "the combination of every_n_train_steps={}, every_n_epochs={} and train_time_interval={} should be "
        "mutually exclusive; use one ModelCheckpoint per trigger.",
        every_n_train_steps_, every_n_epochs_,
        options_.train_time_interval ? fmt::format("{}s", options_.train_time_interval->count()) : "None"));
  if (!options_.monitor && options_.save_top_k != -1 && options_.save_top_k != 0 && options_.save_top_k != 1)
    fail(fmt::format(
        "save_top_k={} with no monitor is not a valid configuration: there is no quantity to rank the "
        "checkpoints by. Set `monitor`, or use save_top_k 1 (latest), -1 (all) or 0 (none).",
        options_.save_top_k));
  if (options_.monitor && options_.monitor->empty()) fail("monitor is an empty string; leave it unset for none.");
  if (options_.filename.empty()) fail("filename is empty.");
}

VOLT_INLINE bool ModelCheckpoint::should_skip_saving(const Context& ctx) const {
  return callback_detail::trainer_flags(ctx).fast_dev_run || ctx.stage() != Stage::fit || ctx.sanity_checking() ||
         last_global_step_saved_ == ctx.global_step();
}

VOLT_INLINE bool ModelCheckpoint::should_save_on_train_epoch_end(const Context& ctx) const {
  return callback_detail::save_on_train_epoch_end(options_.save_on_train_epoch_end,
                                                  callback_detail::trainer_flags(ctx), validated_this_epoch_);
}

VOLT_INLINE void ModelCheckpoint::save_on_epoch(Context& ctx) {
  const auto candidates = monitor_candidates(ctx);
  if (every_n_epochs_ >= 1 && (ctx.current_epoch() + 1) % every_n_epochs_ == 0) save_topk(ctx, candidates);
  save_last(ctx, candidates);
}

VOLT_INLINE FilenameValues ModelCheckpoint::monitor_candidates(const Context& ctx) {
  FilenameValues out;
  for (const auto& [name, value] : ctx.callback_metrics()) out.emplace(name, value);
  auto as_int = [&](const char* key, std::int64_t fallback) {
    auto it = out.find(key);
    const std::int64_t v =
        it != out.end() && std::isfinite(std::get<double>(it->second))
            ? static_cast<std::int64_t>(std::get<double>(it->second))
            : fallback;
    out.insert_or_assign(key, v);
  };
  // Rank 0's values on every rank: the same top-k decisions and best_model_path everywhere,
  // whatever each rank logged without sync_dist (Lightning broadcasts the file path).
  if (ctx.world_size() > 1 && !out.empty()) {
    std::vector<double> values;
    for (const auto& [name, value] : out) values.push_back(std::get<double>(value));
    const auto shared = ctx.broadcast(torch::tensor(values, torch::kFloat64), 0);
    std::size_t k = 0;
    for (auto& [name, value] : out) value = shared[static_cast<std::int64_t>(k++)].item<double>();
  }
  as_int("epoch", ctx.current_epoch());
  as_int("step", ctx.global_step());
  return out;
}

VOLT_INLINE std::optional<double> ModelCheckpoint::candidate_score(const FilenameValues& candidates, const std::string& name) {
  auto it = candidates.find(name);
  if (it == candidates.end()) return std::nullopt;
  if (const auto* d = std::get_if<double>(&it->second)) return *d;
  return static_cast<double>(std::get<std::int64_t>(it->second));
}

VOLT_INLINE void ModelCheckpoint::save_topk(Context& ctx, const FilenameValues& candidates) {
  if (options_.save_top_k == 0) return;
  if (options_.monitor) {
    if (!candidates.count(*options_.monitor)) {
      std::string available;
      for (const auto& [name, value] : candidates) available += (available.empty() ? "" : ", ") + fmt::format("'{}'", name);
      const std::string message = fmt::format(
          "ModelCheckpoint(monitor='{}') could not find the monitored key in the logged metrics: [{}]. HINT: Did "
          "you call ctx.log(\"{}\", value) in a hook that runs before this checkpoint?",
          *options_.monitor, available, *options_.monitor);
      if (validation_has_run_) throw std::runtime_error("volt: " + message);
      if (!warned_missing_monitor_ && ctx.is_global_zero()) std::cerr << "volt: warning: " << message << '\n';
      warned_missing_monitor_ = true;
    }
    save_monitor_checkpoint(ctx, candidates);
  } else {
    save_none_monitor_checkpoint(ctx, candidates);
  }
}

VOLT_INLINE bool ModelCheckpoint::check_monitor_top_k(std::optional<double> current) const {
  if (!current) return false;
  if (options_.save_top_k == -1) return true;
  if (static_cast<std::int64_t>(best_k_models_.size()) < options_.save_top_k) return true;
  return improves(options_.mode, *current, score_of(kth_best_model_path_));
}

VOLT_INLINE void ModelCheckpoint::save_monitor_checkpoint(Context& ctx, const FilenameValues& candidates) {
  const auto current = candidate_score(candidates, *options_.monitor);
  if (check_monitor_top_k(current)) {
    update_best_and_save(ctx, *current, candidates);
  } else if (options_.verbose && ctx.is_global_zero()) {
    std::cout << fmt::format("Epoch {:d}, global step {:d}: '{}' was not in top {}\n", ctx.current_epoch(),
                             ctx.global_step(), *options_.monitor, options_.save_top_k);
  }
}

VOLT_INLINE void ModelCheckpoint::save_none_monitor_checkpoint(Context& ctx, const FilenameValues& candidates) {
  const std::string filepath = shared_path(ctx, interpolated_filepath(candidates, best_model_path_));
  const std::string previous = std::exchange(best_model_path_, filepath);
  save(ctx, filepath);
  if (options_.save_top_k == 1 && !previous.empty() && should_remove(previous, filepath)) remove(ctx, previous);
}

VOLT_INLINE void ModelCheckpoint::update_best_and_save(Context& ctx, double current, const FilenameValues& candidates) {
  const auto size = static_cast<std::int64_t>(best_k_models_.size());
  const std::int64_t k = options_.save_top_k == -1 ? size + 1 : options_.save_top_k;
  std::optional<std::string> del_filepath;
  if (size == k && k > 0) {
    del_filepath = kth_best_model_path_;
    erase_model(*del_filepath);
  }
  if (std::isnan(current)) current = worst_score(options_.mode);  // a NaN is never kept as best

  const std::string filepath = shared_path(ctx, interpolated_filepath(candidates, del_filepath.value_or("")));
  current_score_ = current;
  if (auto it = find_model(filepath); it != best_k_models_.end()) it->second = current;
  else best_k_models_.emplace_back(filepath, current);

  auto by_score = [](const auto& a, const auto& b) { return a.second < b.second; };
  if (static_cast<std::int64_t>(best_k_models_.size()) == k) {
    const auto kth = options_.mode == Mode::min
                         ? std::max_element(best_k_models_.begin(), best_k_models_.end(), by_score)
                         : std::min_element(best_k_models_.begin(), best_k_models_.end(), by_score);
    kth_best_model_path_ = kth->first;
    kth_value_ = kth->second;
  }
  const auto best = options_.mode == Mode::min
                        ? std::min_element(best_k_models_.begin(), best_k_models_.end(), by_score)
                        : std::max_element(best_k_models_.begin(), best_k_models_.end(), by_score);
  best_model_path_ = best->first;
  best_model_score_ = best->second;

  if (options_.verbose && ctx.is_global_zero())
    std::cout << fmt::format("Epoch {:d}, global step {:d}: '{}' reached {:0.5f} (best {:0.5f}), saving model to "
                             "'{}' as top {}\n",
                             ctx.current_epoch(), ctx.global_step(), *options_.monitor, current, *best_model_score_,
                             filepath, k);
  save(ctx, filepath);
  if (del_filepath && should_remove(*del_filepath, filepath)) remove(ctx, *del_filepath);
}

VOLT_INLINE void ModelCheckpoint::save_last(Context& ctx, const FilenameValues& candidates) {
  if (!options_.save_last) return;
  std::string filepath = format_checkpoint_name(candidates, checkpoint_name_last);
  if (options_.enable_version_counter) {
    std::int64_t ver = starting_version;
    while (std::filesystem::exists(filepath) && filepath != last_model_path_)
      filepath = format_checkpoint_name(candidates, checkpoint_name_last, ver++);
  }
  filepath = shared_path(ctx, std::move(filepath));
  const std::string previous = std::exchange(last_model_path_, filepath);
  save(ctx, filepath);
  if (!previous.empty() && should_remove(previous, filepath)) remove(ctx, previous);
}

VOLT_INLINE std::string ModelCheckpoint::shared_path(const Context& ctx, std::string path) {
  if (ctx.world_size() <= 1) return path;
  const auto size = ctx.broadcast(torch::tensor(static_cast<std::int64_t>(path.size())), 0).item<std::int64_t>();
  auto bytes = torch::zeros({size}, torch::kUInt8);
  if (ctx.is_global_zero()) std::copy(path.begin(), path.end(), bytes.data_ptr<std::uint8_t>());
  bytes = ctx.broadcast(bytes, 0).contiguous();
  return {reinterpret_cast<const char*>(bytes.data_ptr<std::uint8_t>()), static_cast<std::size_t>(size)};
}

VOLT_INLINE std::string ModelCheckpoint::interpolated_filepath(const FilenameValues& candidates, const std::string& del_filepath) const {
  std::string filepath = format_checkpoint_name(candidates);
  if (options_.enable_version_counter) {
    std::int64_t ver = starting_version;
    while (std::filesystem::exists(filepath) && filepath != del_filepath)
      filepath = format_checkpoint_name(candidates, std::nullopt, ver++);
  }
  return filepath;
}

VOLT_INLINE void ModelCheckpoint::save(Context& ctx, const std::string& filepath) {
  if (ctx.is_global_zero()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(filepath).parent_path(), ec);
  }
  ctx.save_checkpoint(filepath, options_.save_weights_only);
  last_global_step_saved_ = ctx.global_step();
  last_checkpoint_saved_ = filepath;
}

VOLT_INLINE bool ModelCheckpoint::should_remove(const std::string& previous, const std::string& current) const {
  if (previous == current) return false;
  const auto prev = std::filesystem::absolute(previous).lexically_normal();
  const auto dir = std::filesystem::absolute(dirpath_).lexically_normal();
  auto d = dir.begin();
  auto p = prev.begin();
  for (; d != dir.end() && p != prev.end(); ++d, ++p) {
    if (d->empty()) break;  // a trailing separator
    if (*d != *p) return false;
  }
  return (d == dir.end() || d->empty()) && p != prev.end();
}

VOLT_INLINE void ModelCheckpoint::remove(const Context& ctx, const std::string& filepath) {
  if (!ctx.is_global_zero()) return;
  std::error_code ec;
  std::filesystem::remove(filepath, ec);
}

VOLT_INLINE std::vector<std::pair<std::string, double>>::iterator ModelCheckpoint::find_model(const std::string& path) {
  return std::find_if(best_k_models_.begin(), best_k_models_.end(), [&](const auto& e) { return e.first == path; });
}

VOLT_INLINE void ModelCheckpoint::erase_model(const std::string& path) {
  if (auto it = find_model(path); it != best_k_models_.end()) best_k_models_.erase(it);
}

VOLT_INLINE double ModelCheckpoint::score_of(const std::string& path) const {
  for (const auto& [p, s] : best_k_models_)
    if (p == path) return s;
  return kth_value_;
}

VOLT_INLINE ModelCheckpoint::ModelCheckpoint(Options options) : options_(std::move(options)) {
  // Lightning's __init_triggers: no trigger at all means once per epoch.
  if (!options_.every_n_train_steps && !options_.every_n_epochs && !options_.train_time_interval) {
    every_n_epochs_ = 1;
    every_n_train_steps_ = 0;
  } else {
    every_n_epochs_ = options_.every_n_epochs.value_or(0);
    every_n_train_steps_ = options_.every_n_train_steps.value_or(0);
  }
  validate();
  kth_value_ = worst_score(options_.mode);
  if (!options_.dirpath.empty()) dirpath_ = resolve(options_.dirpath);
}

VOLT_INLINE ModelCheckpoint::ModelCheckpoint(const ModelCheckpoint&) = default;
VOLT_INLINE ModelCheckpoint::ModelCheckpoint(ModelCheckpoint&&) noexcept = default;
VOLT_INLINE ModelCheckpoint& ModelCheckpoint::operator=(const ModelCheckpoint&) = default;
VOLT_INLINE ModelCheckpoint& ModelCheckpoint::operator=(ModelCheckpoint&&) noexcept = default;
VOLT_INLINE ModelCheckpoint::~ModelCheckpoint() = default;

}  // namespace volt
