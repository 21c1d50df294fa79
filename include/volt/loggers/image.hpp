#pragma once
// Image batches for people and for TensorBoard: torchvision's make_grid, and PNG files encoded
// here with zlib (already a volt dependency), so no image library is needed.
//
//   auto grid = volt::make_grid(samples /*N,C,H,W*/, {.nrow = 8, .normalize = true, .value_range = {{-1, 1}}});
//   volt::write_png("samples.png", grid);                    // torchvision's save_image
//   tensorboard.add_image("samples", grid, ctx.global_step()); // loggers/tensorboard_logger.hpp
//
// PNG layout (RFC 2083 / ISO 15948): the 8-byte signature, then chunks
// `uint32 length (big-endian) | type | data | uint32 crc32(type + data)`: IHDR (width, height,
// bit depth 8, colour type 0 grey / 2 RGB / 6 RGBA, compression 0, filter 0, interlace 0), one
// IDAT with the zlib stream of the rows, each row preceded by its filter byte (0: none), IEND.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <torch/torch.h>

#include <volt/detail/config.hpp>

namespace volt {

// torchvision.utils.make_grid's arguments, with its defaults.
struct MakeGridOptions {
  std::int64_t nrow = 8;     // images per row
  std::int64_t padding = 2;  // pixels between images and around the grid
  bool normalize = false;    // shift to [0, 1] by value_range, or by the batch's min and max
  std::optional<std::pair<double, double>> value_range{};  // (low, high) for normalize
  bool scale_each = false;   // normalize each image by its own min and max
  double pad_value = 0.0;
};

// torchvision.utils.make_grid: N images (N,C,H,W; also C,H,W or H,W for one image) laid out
// nrow per row, on a canvas of pad_value. One-channel images become three channels, as
// torchvision makes them; a batch of one image is returned without padding, as torchvision does.
VOLT_INLINE torch::Tensor make_grid(const torch::Tensor& images, MakeGridOptions options = {});

namespace loggers::png {

// How a float image in [0, 1] becomes bytes: torchvision's save_image rounds (x * 255 + 0.5),
// torch.utils.tensorboard's add_image truncates (x * 255, then uint8).
enum class Rounding { nearest, truncate };

// (C, H, W) with C in {1, 3, 4}, uint8 or floating point in [0, 1], as (H, W, C) uint8 bytes on
// the CPU. A (H, W) tensor is one grey channel.
VOLT_INLINE torch::Tensor to_hwc_uint8(const torch::Tensor& image, Rounding rounding);

namespace detail {
VOLT_INLINE void put_be32(std::string& out, std::uint32_t v);
VOLT_INLINE void chunk(std::string& out, std::string_view type, std::string_view data);
}  // namespace detail

// The PNG bytes of an (H, W, C) uint8 tensor (C = 1, 3 or 4), as to_hwc_uint8 returns.
VOLT_INLINE std::string encode_hwc(const torch::Tensor& hwc);

}  // namespace loggers::png

// The PNG bytes of an image (C, H, W), C = 1, 3 or 4, uint8 or float in [0, 1] (rounded as
// torchvision's save_image does).
VOLT_INLINE std::string encode_png(const torch::Tensor& image);

// torchvision.utils.save_image for one image, e.g. a make_grid: written atomically, so a reader
// never sees half a file. The image is checked before anything is written.
VOLT_INLINE void write_png(const std::filesystem::path& path, const torch::Tensor& image);

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/loggers/impl/image.ipp>
#endif
