#pragma once
// Definitions of <volt/data/idx.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/data/idx.hpp>

namespace volt::data {

namespace detail {

VOLT_INLINE int64_t gz_read_upto(gzFile gz, unsigned char* dst, int64_t n) {
  constexpr int64_t chunk = int64_t{1} << 30;
  int64_t done = 0;
  while (done < n) {
    const int got = gzread(gz, dst + done, static_cast<unsigned>(std::min(chunk, n - done)));
    if (got < 0) return -1;
    if (got == 0) break;
    done += got;
  }
  return done;
}

VOLT_INLINE std::string gz_error_text(gzFile gz) {
  int errnum = Z_OK;
  const char* msg = gzerror(gz, &errnum);
  if (errnum == Z_ERRNO) return std::strerror(errno);
  return msg != nullptr ? msg : "unknown zlib error";
}

VOLT_INLINE uint32_t load_be32(const unsigned char* p) noexcept {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace detail

VOLT_INLINE torch::Tensor read_idx(const std::filesystem::path& path, std::string_view fix) {
  namespace fs = std::filesystem;
  auto fail = [&](std::string_view problem) {
    return DatasetError(fmt::format("volt: cannot read IDX file \"{}\": {}; {}", path.string(),
                                    problem, fix));
  };

  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw fail("the file does not exist");
  if (fs::is_directory(status)) throw fail("it is a directory, not a file");
  const std::uintmax_t file_size = fs::file_size(path, ec);
  const bool size_known = !ec;

  errno = 0;
  detail::GzHandle gz{gzopen(path.c_str(), "rb")};
  if (!gz) {
    throw fail(fmt::format("cannot open it ({})",
                           errno != 0 ? std::strerror(errno) : "zlib could not allocate state"));
  }
  gzbuffer(gz.get(), 1u << 20);  // fewer, larger reads (must precede the first read)

  auto read = [&](unsigned char* dst, int64_t n) {
    const int64_t got = detail::gz_read_upto(gz.get(), dst, n);
    if (got < 0) {
      throw fail(fmt::format("it is not a readable gzip stream (zlib: {}); the file is corrupt",
                             detail::gz_error_text(gz.get())));
    }
    return got;
  };
  // A gzip stream cut short reads as a short read with zlib's error set to Z_BUF_ERROR.
  auto cut_short = [&] {
    int errnum = Z_OK;
    gzerror(gz.get(), &errnum);
    return errnum == Z_BUF_ERROR ? " (the gzip stream ends early)" : "";
  };

  std::array<unsigned char, 4> magic{};
  if (const int64_t got = read(magic.data(), 4); got < 4) {
    throw fail(fmt::format("expected a 4-byte magic number, found {} bytes{}", got, cut_short()));
  }
  const uint32_t magic_value = detail::load_be32(magic.data());
  const int ndims = magic[3];
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || ndims < 1) {
    throw fail(fmt::format(
        "bad magic number 0x{:08X}: expected 0x000008NN, an IDX file of unsigned bytes with NN "
        "dimensions (0x00000803 for images, 0x00000801 for labels)",
        magic_value));
  }

  std::vector<unsigned char> dims_raw(static_cast<std::size_t>(4 * ndims));
  if (const int64_t got = read(dims_raw.data(), 4 * ndims); got < 4 * ndims) {
    throw fail(fmt::format("expected {} bytes of dimension sizes after the magic number, found {}{}",
                           4 * ndims, got, cut_short()));
  }
  std::vector<int64_t> shape(static_cast<std::size_t>(ndims));
  int64_t total = 1;
  for (int d = 0; d < ndims; ++d) {
    const uint32_t size = detail::load_be32(dims_raw.data() + 4 * d);
    if (size > static_cast<uint32_t>(INT32_MAX)) {
      throw fail(fmt::format("dimension {} has size {}, which is negative as a signed int32; the "
                             "header is corrupt",
                             d, static_cast<int32_t>(size)));
    }
    shape[static_cast<std::size_t>(d)] = size;
    if (__builtin_mul_overflow(total, int64_t{size}, &total)) {
      throw fail("the dimension sizes multiply past 2^63 bytes; the header is corrupt");
    }
  }
  const char* what = ndims == 3 ? "image data" : ndims == 1 ? "label data" : "data";
  auto truncated = [&](int64_t found) {
    return fail(fmt::format("truncated: expected {} bytes of {}, found {} (the header says "
                            "shape {}){}",
                            total, what, found, fmt::join(shape, "x"), cut_short()));
  };

  // A corrupt header can claim terabytes: before allocating, bound what the file can hold
  // (its size when plain; deflate expands at most ~1032:1 when gzipped).
  const int64_t header = 4 + 4 * ndims;
  if (size_known) {
    const int64_t on_disk = static_cast<int64_t>(file_size);
    const int64_t bound = gzdirect(gz.get()) != 0 ? on_disk - header
                          : on_disk > INT64_MAX / 1100 ? INT64_MAX
                                                       : on_disk * 1100;
    if (total > bound) {
      std::array<unsigned char, 1 << 16> sink{};
      int64_t found = 0;
      for (int64_t got; (got = read(sink.data(), sink.size())) > 0;) found += got;
      throw truncated(found);
    }
  }

  torch::Tensor out = torch::empty(shape, torch::TensorOptions().dtype(torch::kUInt8));
  if (const int64_t got = read(out.data_ptr<uint8_t>(), total); got < total) throw truncated(got);
  // Read on to the end: only there does zlib check the gzip trailer (CRC-32 and length of the
  // data), so a flipped byte inside the data is caught here instead of training on it.
  std::array<unsigned char, 4096> extra{};
  int64_t trailing = 0;
  for (int64_t got; (got = read(extra.data(), static_cast<int64_t>(extra.size()))) > 0;) trailing += got;
  if (trailing > 0)
    throw fail(fmt::format("it has {} bytes{} after the {} bytes of {} its header announces (shape {}); the file is "
                           "corrupt or not an IDX file",
                           trailing, gzdirect(gz.get()) != 0 ? "" : " of decompressed data", total, what,
                           fmt::join(shape, "x")));
  if (*cut_short() != '\0')
    throw fail("the gzip stream ends before its trailer (CRC-32 and length); the file is truncated");
  return out;
}

VOLT_INLINE torch::Tensor read_idx(const std::filesystem::path& path) {
  return read_idx(path, idx_default_fix);
}

VOLT_INLINE void write_idx(const std::filesystem::path& path, const torch::Tensor& tensor) {
  auto fail = [&](std::string_view problem) {
    return DatasetError(fmt::format("volt: cannot write IDX file \"{}\": {}", path.string(), problem));
  };
  if (!tensor.defined() || tensor.scalar_type() != torch::kUInt8 || tensor.dim() < 1 ||
      tensor.dim() > 255) {
    throw std::invalid_argument(fmt::format(
        "volt::data::write_idx: the tensor must be uint8 with 1 to 255 dimensions; got {}",
        tensor.defined() ? fmt::format("{} with {} dimensions",
                                       std::string(c10::toString(tensor.scalar_type())),
                                       tensor.dim())
                         : std::string("an undefined tensor")));
  }
  const torch::Tensor t = tensor.contiguous().cpu();
  std::vector<unsigned char> header{0, 0, 0x08, static_cast<unsigned char>(t.dim())};
  for (int64_t size : t.sizes()) {
    if (size > INT32_MAX) throw fail(fmt::format("a dimension of size {} exceeds int32", size));
    for (int shift = 24; shift >= 0; shift -= 8) {
      header.push_back(static_cast<unsigned char>((static_cast<uint64_t>(size) >> shift) & 0xFF));
    }
  }
  const bool gzip = path.extension() == ".gz";
  errno = 0;
  detail::GzHandle gz{gzopen(path.c_str(), gzip ? "wb" : "wbT")};  // "T": plain, no gzip
  if (!gz) {
    throw fail(errno != 0 ? std::strerror(errno) : "zlib could not allocate state");
  }
  auto write = [&](const unsigned char* src, int64_t n) {
    constexpr int64_t chunk = int64_t{1} << 30;
    for (int64_t done = 0; done < n;) {
      const int put = gzwrite(gz.get(), src + done, static_cast<unsigned>(std::min(chunk, n - done)));
      if (put <= 0) throw fail(detail::gz_error_text(gz.get()));
      done += put;
    }
  };
  write(header.data(), static_cast<int64_t>(header.size()));
  write(t.data_ptr<uint8_t>(), t.numel());
  if (gzclose(gz.release()) != Z_OK) throw fail("closing it failed (disk full?)");
}

}  // namespace volt::data
