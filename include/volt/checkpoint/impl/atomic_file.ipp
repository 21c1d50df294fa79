#pragma once
// Definitions of <volt/checkpoint/atomic_file.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/checkpoint/atomic_file.hpp>

namespace volt::checkpoint {

namespace detail {

VOLT_INLINE CheckpointError write_error(const std::filesystem::path& target, const std::string& what) {
  return CheckpointError(target, fmt::format("volt: cannot write \"{}\": {}; the previous file, if any, is unchanged",
                                             target.string(), what));
}

VOLT_INLINE std::filesystem::path create_temporary_next_to(const std::filesystem::path& target) {
  std::random_device random;
  int err = 0;
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::filesystem::path tmp = target;
    tmp += fmt::format(".tmp-{}-{:08x}{:08x}", static_cast<long>(::getpid()), random(), random());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      ::close(fd);
      return tmp;
    }
    err = errno;
    if (err != EEXIST && err != EINTR) break;
  }
  throw write_error(target, fmt::format("cannot create a temporary file next to it ({})", errno_message(err)));
}

VOLT_INLINE void fsync_file(const std::filesystem::path& tmp, const std::filesystem::path& target) {
  const int fd = retry_on_eintr([&] { return ::open(tmp.c_str(), O_WRONLY | O_CLOEXEC); });
  if (fd < 0)
    throw write_error(target, fmt::format("cannot reopen the temporary file to sync it ({})", errno_message(errno)));
  const int rc = retry_on_eintr([&] { return ::fsync(fd); });
  const int err = rc < 0 ? errno : 0;
  ::close(fd);
  if (err != 0) throw write_error(target, fmt::format("fsync of the temporary file failed ({})", errno_message(err)));
}

VOLT_INLINE void fsync_directory(const std::filesystem::path& dir, const std::filesystem::path& target) {
  const int fd = retry_on_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return;
  const int rc = retry_on_eintr([&] { return ::fsync(fd); });
  const int err = rc < 0 ? errno : 0;
  ::close(fd);
  if (err != 0 && err != EINVAL && err != ENOTSUP && err != EROFS)
    throw CheckpointError(target, fmt::format("volt: \"{}\" was written, but syncing its directory failed ({}); the "
                                              "new file may not survive a power loss",
                                              target.string(), errno_message(err)));
}

VOLT_INLINE std::optional<long> temporary_owner(std::string_view name) {
  const auto at = name.rfind(".tmp-");
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  const std::string_view rest = name.substr(at + 5);
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos || dash == 0 || rest.size() - dash - 1 != 16) return std::nullopt;
  long pid = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + dash, pid);
  if (ec != std::errc{} || end != rest.data() + dash || pid <= 0) return std::nullopt;
  for (char c : rest.substr(dash + 1))
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  return pid;
}

VOLT_INLINE void remove_stale_temporaries(const std::filesystem::path& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto pid = temporary_owner(it->path().filename().native());
    if (!pid || *pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(*pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code ignored;
    std::filesystem::remove(it->path(), ignored);
  }
}

}  // namespace detail

}  // namespace volt::checkpoint
