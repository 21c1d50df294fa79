#pragma once
// write_atomically: a file that is either the old version or the complete new one, never a torn
// mix, even if the writer throws half way or the process dies. A crash while Lightning writes
// last.ckpt in place can destroy the only checkpoint of a long run; here the bytes go to a
// temporary file in the target's directory (same filesystem, so rename(2) is atomic), which is
// flushed and fsync'ed before it is renamed over the target, and the directory is fsync'ed after
// so that the rename itself survives a power loss.
//
//   volt::checkpoint::write_atomically(path, [&](std::ostream& out) { out << ...; });
//   volt::checkpoint::write_atomically(path, [&](const std::filesystem::path& tmp) { torch::save(x, tmp.string()); });
//
// If the writer (or the flush, fsync or rename) fails, the temporary file is removed and the
// exception propagates: the previous file at `target` is untouched. Only a process killed
// between creating and renaming the temporary leaves it behind, as `<target>.tmp-<pid>-<random>`;
// the next successful write into the same folder removes such leftovers of processes that no
// longer run (any target's: a killed periodic save is not written again under its name).
// The new file gets the default permissions (0666 & ~umask), not those of the file it replaces.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <concepts>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include <volt/checkpoint/error.hpp>
#include <volt/detail/config.hpp>

namespace volt::checkpoint {

// A writer that fills a stream (preferred when a callable accepts both).
template <class Fn>
concept StreamWriter = std::invocable<Fn&, std::ostream&>;
// A writer that creates the file itself from a path (torch::save, third-party writers).
template <class Fn>
concept PathWriter = std::invocable<Fn&, const std::filesystem::path&>;

namespace detail {

inline std::string errno_message(int err) { return std::system_category().message(err); }

VOLT_INLINE CheckpointError write_error(const std::filesystem::path& target, const std::string& what);

// Creates an empty `<target>.tmp-<pid>-<random>` with O_EXCL, so that two writers (threads or
// processes) never share a temporary file.
VOLT_INLINE std::filesystem::path create_temporary_next_to(const std::filesystem::path& target);

inline int retry_on_eintr(auto syscall) {
  int rc = 0;
  do {
    rc = syscall();
  } while (rc < 0 && errno == EINTR);
  return rc;
}

// Makes the temporary file's bytes durable before it takes the target's name: without this a
// power loss after the rename can leave a target of the right size full of zeros.
VOLT_INLINE void fsync_file(const std::filesystem::path& tmp, const std::filesystem::path& target);

// Makes the rename durable. Best effort where a filesystem cannot sync directories (EINVAL,
// ENOTSUP) or the directory cannot be opened for reading; a real I/O error is reported.
VOLT_INLINE void fsync_directory(const std::filesystem::path& dir, const std::filesystem::path& target);

// The pid in "<anything>.tmp-<pid>-<16 hex digits>", the name create_temporary_next_to gives.
VOLT_INLINE std::optional<long> temporary_owner(std::string_view name);

// Removes the temporaries that killed writers left in `dir`. A file whose writer may still run
// (its pid exists, or is this process) is kept. Best effort: errors are ignored.
VOLT_INLINE void remove_stale_temporaries(const std::filesystem::path& dir);

}  // namespace detail

template <class Fn>
requires StreamWriter<Fn> || PathWriter<Fn>
void write_atomically(const std::filesystem::path& target, Fn&& write) {
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const std::filesystem::path tmp = detail::create_temporary_next_to(target);
  try {
    if constexpr (StreamWriter<Fn>) {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw detail::write_error(target, "cannot open the temporary file for writing");
      std::invoke(write, static_cast<std::ostream&>(out));
      out.flush();
      if (!out) throw detail::write_error(target, "writing failed (is the disk full?)");
      out.close();
      if (out.fail()) throw detail::write_error(target, "closing the temporary file failed (is the disk full?)");
    } else {
      std::invoke(write, std::as_const(tmp));
    }
    detail::fsync_file(tmp, target);
    std::error_code ec;
    std::filesystem::rename(tmp, target, ec);
    if (ec)
      throw detail::write_error(target, fmt::format("renaming the temporary file over it failed ({})", ec.message()));
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  detail::fsync_directory(dir, target);
  detail::remove_stale_temporaries(dir);
}

}  // namespace volt::checkpoint

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/checkpoint/impl/atomic_file.ipp>
#endif
