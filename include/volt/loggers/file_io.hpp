#pragma once
// File writes for loggers, chosen so that a crash (or a full disk) while writing leaves the
// previous content readable. Whole-file writes go to a temporary file in the same folder, are
// fsync'ed, then renamed over the target (rename is atomic on POSIX), so readers and a crash
// see either the old file or the new one. Appends cannot be made atomic cheaply: a crash may
// leave one torn last line, but never touches the lines already there. POSIX only.
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <volt/detail/config.hpp>

namespace volt::loggers {

namespace detail {

[[noreturn]] VOLT_INLINE void throw_io_error(std::string_view what, const std::filesystem::path& path, int err);

VOLT_INLINE void write_all(int fd, std::string_view data, const std::filesystem::path& path);

}  // namespace detail

// Replaces `path` with `content` atomically (temp file + fsync + rename).
VOLT_INLINE void write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Appends `content` to `path` (created if missing) with one write() call.
VOLT_INLINE void append_to_file(const std::filesystem::path& path, std::string_view content);

VOLT_INLINE std::string read_file(const std::filesystem::path& path);

}  // namespace volt::loggers

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loggers/impl/file_io.ipp>
#endif
