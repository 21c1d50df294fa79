#pragma once
// Definitions of <volt/loggers/versioning.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loggers/versioning.hpp>

namespace volt::loggers {

VOLT_INLINE std::optional<std::int64_t> parse_version_folder(std::string_view folder) {
  constexpr std::string_view prefix = "version_";
  if (folder.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view digits = folder.substr(prefix.size());
  digits = digits.substr(0, digits.find('_'));
  if (digits.empty()) return std::nullopt;
  for (char c : digits)
    if (c < '0' || c > '9') return std::nullopt;
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return v;
}

VOLT_INLINE std::int64_t next_version(const std::filesystem::path& root_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root_dir, ec)) return 0;
  std::optional<std::int64_t> highest;
  for (std::filesystem::directory_iterator it(root_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    if (auto v = parse_version_folder(it->path().filename().string()); v && (!highest || *v > *highest)) highest = v;
  }
  return highest ? *highest + 1 : 0;
}

VOLT_INLINE std::filesystem::path VersionedLogDir::root_dir() const {
  return name_.empty() ? save_dir_ : save_dir_ / name_;
}

VOLT_INLINE std::int64_t VersionedLogDir::version() const {
  if (!version_) version_ = next_version(root_dir());
  return *version_;
}

VOLT_INLINE void VersionedLogDir::choose_version(std::int64_t version) {
  if (!version_) version_ = version;
}

VOLT_INLINE std::filesystem::path VersionedLogDir::log_dir() const { return root_dir() / version_folder_name(version()); }

}  // namespace volt::loggers
