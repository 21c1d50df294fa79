#pragma once
// volt::checkpoint::CheckpointError: what every checkpoint read or write throws when a file is
// missing, damaged, or does not fit the model. The message names the file and the first thing
// wrong, in the user's terms, so a failed resume needs no debugger; file() hands the path to
// code that wants to react (e.g. fall back to an earlier checkpoint).
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <volt/detail/config.hpp>

namespace volt::checkpoint {

class CheckpointError : public std::runtime_error {
 public:
  // Compiled once in the separately compiled mode: the templates that throw it (the loops'
  // resume, load_from_checkpoint) would otherwise instantiate make_shared<const path> in every TU.
  VOLT_INLINE CheckpointError(const std::filesystem::path& file, const std::string& message);

  // The file the message is about.
  const std::filesystem::path& file() const noexcept { return *file_; }

 private:
  // Shared, so that copying the exception (as throw/catch may) cannot throw.
  std::shared_ptr<const std::filesystem::path> file_;
};

}  // namespace volt::checkpoint

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/checkpoint/impl/error.ipp>
#endif
