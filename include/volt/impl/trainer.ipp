#pragma once
// Definitions of <volt/trainer.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/trainer.hpp>

namespace volt::detail {

VOLT_INLINE void check_root_dir_writable(const std::filesystem::path& root) {
  const auto fail = [&](const std::string& problem) {
    return std::invalid_argument(fmt::format("volt: TrainerOptions::default_root_dir=\"{}\" {}; fit writes its "
                                             "checkpoints and logs there. Give a folder this process can write.",
                                             root.string(), problem));
  };
  std::error_code ec;
  const std::filesystem::path wanted =
      std::filesystem::absolute(root.empty() ? std::filesystem::path(".") : root, ec).lexically_normal();
  if (ec) throw fail(fmt::format("cannot be resolved ({})", ec.message()));
  std::filesystem::path existing = wanted;
  while (!std::filesystem::exists(existing, ec) && existing.has_relative_path()) existing = existing.parent_path();
  if (!std::filesystem::is_directory(existing, ec))
    throw fail(existing == wanted ? std::string("is a file, not a folder")
                                  : fmt::format("cannot be created: \"{}\" is a file, not a folder", existing.string()));
  if (::access(existing.c_str(), W_OK | X_OK) != 0)
    throw fail(existing == wanted
                   ? fmt::format("is not writable ({})", std::strerror(errno))
                   : fmt::format("cannot be created in \"{}\" ({})", existing.string(), std::strerror(errno)));
}

VOLT_INLINE std::filesystem::path existing_ckpt_path(const std::string& requested, std::string_view entry) {
  if (!std::filesystem::exists(requested))
    throw std::invalid_argument(fmt::format("volt: {}(ckpt_path=\"{}\"): no such file. Give the path of a "
                                            "checkpoint, or \"last\" / \"best\".",
                                            entry, requested));
  return std::filesystem::path(requested);
}

VOLT_INLINE std::filesystem::path resolve_named_ckpt_path(std::string found, const std::string& requested,
                                                          std::string_view entry,
                                                          const std::filesystem::path& first_logger_dir,
                                                          const std::filesystem::path& default_root_dir) {
  if (found.empty() && requested == "last" && !first_logger_dir.empty()) {
    // A new run with a logger saves into a new version_N: resume from the newest earlier
    // version's checkpoints/last.ckpt (the folder ModelCheckpoint saves to by default).
    std::optional<std::int64_t> newest;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(first_logger_dir.parent_path(), ec), end; !ec && it != end;
         it.increment(ec)) {
      const auto version = loggers::parse_version_folder(it->path().filename().string());
      const auto last = it->path() / "checkpoints" / "last.ckpt";
      if (version && (!newest || *version > *newest) && std::filesystem::exists(last, ec)) {
        newest = version;
        found = last.string();
      }
    }
  }
  if (found.empty() && requested == "last") {
    const auto fallback = default_root_dir / "checkpoints" / "last.ckpt";
    if (std::filesystem::exists(fallback)) found = fallback.string();
  }
  if (found.empty())
    throw std::invalid_argument(fmt::format(
        "volt: {}(ckpt_path=\"{}\"): no {} checkpoint is known. Add a volt::ModelCheckpoint (with save_last=true "
        "for \"last\", or a monitor for \"best\") or pass a file path.",
        entry, requested, requested));
  return std::filesystem::path(found);
}

}  // namespace volt::detail
