#pragma once
// volt::checkpoint::CheckpointError: what every checkpoint read or write throws when a file is
// missing, damaged, or does not fit the model. The message names the file and the first thing
// wrong, in the user's terms, so a failed resume needs no debugger; file() hands the path to
// code that wants to react (e.g. fall back to an earlier checkpoint).
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace volt::checkpoint {

class CheckpointError : public std::runtime_error {
 public:
  CheckpointError(const std::filesystem::path& file, const std::string& message)
      : std::runtime_error(message), file_(std::make_shared<const std::filesystem::path>(file)) {}

  // The file the message is about.
  const std::filesystem::path& file() const noexcept { return *file_; }

 private:
  // Shared, so that copying the exception (as throw/catch may) cannot throw.
  std::shared_ptr<const std::filesystem::path> file_;
};

}  // namespace volt::checkpoint
