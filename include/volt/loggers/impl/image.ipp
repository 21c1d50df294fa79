#pragma once
// Definitions of <volt/loggers/image.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/loggers/image.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <zlib.h>
#include <volt/loggers/file_io.hpp>

namespace volt {

VOLT_INLINE torch::Tensor make_grid(const torch::Tensor& images, MakeGridOptions options) {
  if (!images.defined()) throw std::invalid_argument("volt: make_grid: the image tensor is undefined.");
  torch::Tensor t = images;
  if (t.dim() == 2) t = t.unsqueeze(0);
  if (t.dim() == 3) {
    if (t.size(0) == 1) t = torch::cat({t, t, t}, 0);
    t = t.unsqueeze(0);
  }
  if (t.dim() != 4)
    throw std::invalid_argument(fmt::format("volt: make_grid expects images as (N, C, H, W), (C, H, W) or (H, W); "
                                            "got a tensor of {} dimensions.",
                                            images.dim()));
  if (t.size(0) == 0) throw std::invalid_argument("volt: make_grid: the batch holds no image (N = 0).");
  if (options.nrow < 1) throw std::invalid_argument(fmt::format("volt: make_grid: nrow must be >= 1, got {}.", options.nrow));
  if (options.padding < 0)
    throw std::invalid_argument(fmt::format("volt: make_grid: padding must be >= 0, got {}.", options.padding));
  if (t.size(1) == 1) t = torch::cat({t, t, t}, 1);

  if (options.normalize) {
    t = t.clone();
    const auto norm_ip = [](torch::Tensor img, double low, double high) {
      img.clamp_(low, high);
      img.sub_(low).div_(std::max(high - low, 1e-5));
    };
    const auto norm_range = [&](torch::Tensor img) {
      if (options.value_range)
        norm_ip(img, options.value_range->first, options.value_range->second);
      else
        norm_ip(img, img.min().item<double>(), img.max().item<double>());
    };
    if (options.scale_each)
      for (std::int64_t i = 0; i < t.size(0); ++i) norm_range(t[i]);
    else
      norm_range(t);
  }
  if (t.size(0) == 1) return t.squeeze(0);

  const std::int64_t nmaps = t.size(0);
  const std::int64_t xmaps = std::min(options.nrow, nmaps);
  const std::int64_t ymaps = (nmaps + xmaps - 1) / xmaps;
  const std::int64_t height = t.size(2) + options.padding, width = t.size(3) + options.padding;
  torch::Tensor grid = torch::full({t.size(1), height * ymaps + options.padding, width * xmaps + options.padding},
                                   options.pad_value, t.options());
  for (std::int64_t k = 0; k < nmaps; ++k) {
    const std::int64_t y = k / xmaps, x = k % xmaps;
    grid.narrow(1, y * height + options.padding, height - options.padding)
        .narrow(2, x * width + options.padding, width - options.padding)
        .copy_(t[k]);
  }
  return grid;
}

namespace loggers::png {

VOLT_INLINE torch::Tensor to_hwc_uint8(const torch::Tensor& image, Rounding rounding) {
  if (!image.defined()) throw std::invalid_argument("volt: the image tensor is undefined.");
  torch::Tensor t = image.detach().to(torch::kCPU);
  if (t.dim() == 2) t = t.unsqueeze(0);
  if (t.dim() != 3 || !(t.size(0) == 1 || t.size(0) == 3 || t.size(0) == 4))
    throw std::invalid_argument(fmt::format("volt: an image must be (C, H, W) with C = 1, 3 or 4 channels (or (H, W)); "
                                            "got sizes {}. Lay a batch out with volt::make_grid first.",
                                            fmt::join(image.sizes(), ", ")));
  if (t.size(1) == 0 || t.size(2) == 0) throw std::invalid_argument("volt: an image must have at least one pixel.");
  if (t.scalar_type() != torch::kByte) {
    if (!t.is_floating_point())
      throw std::invalid_argument(fmt::format("volt: an image must be uint8 or floating point in [0, 1]; got {}.",
                                              c10::toString(t.scalar_type())));
    t = t.to(torch::kFloat32).mul(255.0);
    if (rounding == Rounding::nearest) t = t.add(0.5);
    t = t.clamp(0.0, 255.0).to(torch::kByte);
  }
  return t.permute({1, 2, 0}).contiguous();
}

namespace detail {

VOLT_INLINE void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

VOLT_INLINE void chunk(std::string& out, std::string_view type, std::string_view data) {
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out += type;
  out += data;
  const auto* bytes = reinterpret_cast<const Bytef*>(out.data() + start);
  put_be32(out, static_cast<std::uint32_t>(::crc32(0L, bytes, static_cast<uInt>(out.size() - start))));
}

}  // namespace detail

VOLT_INLINE std::string encode_hwc(const torch::Tensor& hwc) {
  const auto height = static_cast<std::uint32_t>(hwc.size(0)), width = static_cast<std::uint32_t>(hwc.size(1));
  const auto channels = static_cast<std::size_t>(hwc.size(2));
  const std::size_t row_bytes = width * channels;
  std::string raw;
  raw.reserve(height * (row_bytes + 1));
  const auto* pixels = hwc.data_ptr<std::uint8_t>();
  for (std::uint32_t y = 0; y < height; ++y) {
    raw += '\0';  // filter type 0: the row as it is
    raw.append(reinterpret_cast<const char*>(pixels + y * row_bytes), row_bytes);
  }
  uLongf packed_size = ::compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  if (::compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(raw.data()),
                  static_cast<uLong>(raw.size()), Z_DEFAULT_COMPRESSION) != Z_OK)
    throw std::runtime_error("volt: zlib could not compress the PNG image data.");
  packed.resize(packed_size);

  std::string ihdr;
  detail::put_be32(ihdr, width);
  detail::put_be32(ihdr, height);
  const char colour_type = channels == 1 ? 0 : channels == 3 ? 2 : 6;
  ihdr += std::string{'\x08', colour_type, '\0', '\0', '\0'};  // depth 8, colour, compression, filter, interlace

  std::string png("\x89PNG\r\n\x1a\n", 8);
  detail::chunk(png, "IHDR", ihdr);
  detail::chunk(png, "IDAT", packed);
  detail::chunk(png, "IEND", {});
  return png;
}

}  // namespace loggers::png

VOLT_INLINE std::string encode_png(const torch::Tensor& image) {
  return loggers::png::encode_hwc(loggers::png::to_hwc_uint8(image, loggers::png::Rounding::nearest));
}

VOLT_INLINE void write_png(const std::filesystem::path& path, const torch::Tensor& image) {
  const std::string bytes = encode_png(image);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  loggers::write_file_atomically(path, bytes);
}

}  // namespace volt
