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

}  // namespace volt::detail
