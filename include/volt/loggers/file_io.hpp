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

#include <fmt/format.h>

namespace volt::loggers {

namespace detail {

[[noreturn]] inline void throw_io_error(std::string_view what, const std::filesystem::path& path, int err) {
  throw std::filesystem::filesystem_error(fmt::format("volt: could not {} '{}'", what, path.string()), path,
                                          std::error_code(err, std::generic_category()));
}

inline void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io_error("write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace detail

// Replaces `path` with `content` atomically (temp file + fsync + rename).
inline void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  auto tmp = path;
  tmp += fmt::format(".tmp{}", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) detail::throw_io_error("create", tmp, errno);
  try {
    detail::write_all(fd, content, tmp);
    if (::fsync(fd) != 0) detail::throw_io_error("flush", tmp, errno);
  } catch (...) {
    ::close(fd);
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  if (::close(fd) != 0) {
    const int err = errno;
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    detail::throw_io_error("close", tmp, err);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    detail::throw_io_error("rename a temporary file onto", path, ec.value());
  }
}

// Appends `content` to `path` (created if missing) with one write() call.
inline void append_to_file(const std::filesystem::path& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) detail::throw_io_error("open", path, errno);
  try {
    detail::write_all(fd, content, path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) detail::throw_io_error("close", path, errno);
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) detail::throw_io_error("read", path, ENOENT);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace volt::loggers
