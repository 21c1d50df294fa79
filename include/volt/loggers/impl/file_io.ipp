#pragma once
// Definitions of <volt/loggers/file_io.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loggers/file_io.hpp>

#include <fmt/format.h>

namespace volt::loggers {

namespace detail {

[[noreturn]] VOLT_INLINE void throw_io_error(std::string_view what, const std::filesystem::path& path, int err) {
  throw std::filesystem::filesystem_error(fmt::format("volt: could not {} '{}'", what, path.string()), path,
                                          std::error_code(err, std::generic_category()));
}

VOLT_INLINE void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
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

VOLT_INLINE void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
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

VOLT_INLINE void append_to_file(const std::filesystem::path& path, std::string_view content) {
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

VOLT_INLINE std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) detail::throw_io_error("read", path, ENOENT);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace volt::loggers
