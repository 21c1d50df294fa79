#pragma once
// Lightning's run folders: <save_dir>/<name>/version_<N>. Without an explicit version a logger
// takes the next free one, found as Lightning's CSVLogger / TensorBoardLogger `_get_next_version`
// find it: among the folders of <save_dir>/<name> called "version_<digits>[_anything]", the
// largest number plus one; 0 when there are none or the folder does not exist yet.
//
// The choice is made on first use (first call of version() or log_dir(), or the first write),
// not at construction, again as Lightning does. Unlike Lightning, the Trainer makes all loggers
// of one run share a version before any of them writes (trainer.hpp), so a CSVLogger and a
// TensorBoardLogger over the same save_dir and name write into one version_N, not two.
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <volt/detail/config.hpp>

namespace volt::loggers {

// The folder name of a version: "version_3".
inline std::string version_folder_name(std::int64_t version) { return "version_" + std::to_string(version); }

// Lightning parses `name.split("_")[1]` and keeps it when it is all digits.
VOLT_INLINE std::optional<std::int64_t> parse_version_folder(std::string_view folder);

// The next free version under `root_dir` (= <save_dir>/<name>).
VOLT_INLINE std::int64_t next_version(const std::filesystem::path& root_dir);

// save_dir, name and (lazily) version of one run, and the paths derived from them.
class VersionedLogDir {
 public:
  VersionedLogDir(std::filesystem::path save_dir, std::string name, std::optional<std::int64_t> version)
      : save_dir_(std::move(save_dir)), name_(std::move(name)), version_(version) {}

  const std::filesystem::path& save_dir() const noexcept { return save_dir_; }
  const std::string& name() const noexcept { return name_; }
  // <save_dir>/<name>; with an empty name the versions sit directly in save_dir.
  VOLT_INLINE std::filesystem::path root_dir() const;
  VOLT_INLINE std::int64_t version() const;
  VOLT_INLINE std::filesystem::path log_dir() const;
  // Whether the version is fixed (given, or resolved by a first use), and fixing it from outside:
  // the Trainer gives all loggers of a run one version (trainer.hpp, share_logger_version).
  bool version_chosen() const noexcept { return version_.has_value(); }
  VOLT_INLINE void choose_version(std::int64_t version);

 private:
  std::filesystem::path save_dir_;
  std::string name_;
  mutable std::optional<std::int64_t> version_;  // resolved on first use; loggers live on one thread
};

}  // namespace volt::loggers

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loggers/impl/versioning.ipp>
#endif
