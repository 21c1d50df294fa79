#pragma once
// Reading (and writing) IDX files, the format of MNIST and Fashion-MNIST: a big-endian magic
// number 0x000008NN (0x08: unsigned bytes, NN: number of dimensions), NN big-endian int32
// sizes, then the bytes in row-major order. Files may be gzipped: zlib's gzread reads plain
// files too, so one code path serves both.
//
// Every failure is a DatasetError whose message names the file, what is wrong with it, and
// what to do about it, because a data problem found at startup should not need a debugger.
// A gzipped file is read to its end, so its trailer's CRC-32 and length are checked: a file
// that `gzip -t` rejects is rejected here too.
#include <torch/types.h>

#include <fmt/format.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>
#include <volt/detail/config.hpp>

namespace volt::data {

// A dataset file is missing, unreadable or malformed; the message says which, and the fix.
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The fix read_idx(path) suggests when the caller has no better one.
inline constexpr std::string_view idx_default_fix =
    "check the path, or re-create the file (an IDX file: magic 0x000008NN, NN big-endian int32 "
    "sizes, then the bytes; optionally gzipped)";

namespace detail {

struct GzCloser {
  void operator()(gzFile_s* f) const noexcept { gzclose(f); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

// gzread's length is an unsigned int and its result an int: read large spans in chunks.
// Returns the number of bytes read (short only at end of file), or -1 on a stream error.
VOLT_INLINE int64_t gz_read_upto(gzFile gz, unsigned char* dst, int64_t n);

VOLT_INLINE std::string gz_error_text(gzFile gz);

VOLT_INLINE uint32_t load_be32(const unsigned char* p) noexcept;

}  // namespace detail

// Reads an unsigned-byte IDX file (plain or .gz) into a uint8 tensor of the stored shape,
// e.g. [60000, 28, 28] for MNIST images, [60000] for labels. `fix` is the advice appended
// to every error message (a dataset knows better than this function how to get its files).
VOLT_INLINE torch::Tensor read_idx(const std::filesystem::path& path, std::string_view fix);

VOLT_INLINE torch::Tensor read_idx(const std::filesystem::path& path);

// Writes a uint8 tensor as an IDX file, gzipped when the name ends in ".gz" (for tests, and
// for exporting data in the format the datasets here read).
VOLT_INLINE void write_idx(const std::filesystem::path& path, const torch::Tensor& tensor);

}  // namespace volt::data

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/data/impl/idx.ipp>
#endif
