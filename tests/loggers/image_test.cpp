// make_grid against torchvision's layout written out by hand (python3-torch has no torchvision),
// and PNG files decoded by a reader written here (its own CRC-32, zlib's inflate) and, where
// Debian's python3-pil is installed, by Pillow.
#include <volt/loggers/image.hpp>

#include <catch2/catch.hpp>

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace {

std::uint32_t bitwise_crc32(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ ((crc & 1u) ? 0xEDB88320u : 0u);
  }
  return crc ^ 0xFFFFFFFFu;
}

std::uint32_t be32(std::string_view s) {
  return (std::uint32_t{static_cast<unsigned char>(s[0])} << 24) | (std::uint32_t{static_cast<unsigned char>(s[1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(s[2])} << 8) | std::uint32_t{static_cast<unsigned char>(s[3])};
}

struct DecodedPng {
  std::uint32_t width = 0, height = 0;
  int colour_type = -1;
  std::vector<std::string> chunk_types;
  std::vector<std::uint8_t> pixels;  // rows without filter bytes
};

// Accepts only what volt writes (8-bit, no interlace, filter 0 on every row) and checks every CRC.
DecodedPng decode_png(std::string_view file) {
  if (file.substr(0, 8) != std::string_view("\x89PNG\r\n\x1a\n", 8)) throw std::runtime_error("bad signature");
  file.remove_prefix(8);
  DecodedPng png;
  std::string idat;
  while (!file.empty()) {
    const std::uint32_t len = be32(file);
    const std::string_view type_and_data = file.substr(4, 4 + len);
    if (be32(file.substr(8 + len)) != bitwise_crc32(type_and_data)) throw std::runtime_error("chunk CRC mismatch");
    const std::string type(type_and_data.substr(0, 4));
    const std::string_view data = type_and_data.substr(4);
    png.chunk_types.push_back(type);
    if (type == "IHDR") {
      png.width = be32(data);
      png.height = be32(data.substr(4));
      if (data[8] != 8 || data[10] != 0 || data[11] != 0 || data[12] != 0) throw std::runtime_error("unexpected IHDR");
      png.colour_type = data[9];
    } else if (type == "IDAT") {
      idat += data;
    }
    file.remove_prefix(12 + len);
  }
  const int channels = png.colour_type == 0 ? 1 : png.colour_type == 2 ? 3 : 4;
  const std::size_t row = png.width * channels;
  std::vector<std::uint8_t> raw(png.height * (row + 1));
  uLongf raw_size = raw.size();
  if (::uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK ||
      raw_size != raw.size())
    throw std::runtime_error("inflate failed");
  for (std::uint32_t y = 0; y < png.height; ++y) {
    if (raw[y * (row + 1)] != 0) throw std::runtime_error("unexpected filter");
    png.pixels.insert(png.pixels.end(), raw.begin() + y * (row + 1) + 1, raw.begin() + (y + 1) * (row + 1));
  }
  return png;
}

torch::Tensor chw(std::vector<float> values, std::int64_t c, std::int64_t h, std::int64_t w) {
  return torch::tensor(values).reshape({c, h, w});
}

}  // namespace

TEST_CASE("make_grid lays images out as torchvision's make_grid", "[loggers][image]") {
  // Three one-channel 2x2 images with values 1, 2, 3; nrow 2, padding 1, pad_value 0.5.
  const auto images = torch::stack({torch::full({1, 2, 2}, 1.0f), torch::full({1, 2, 2}, 2.0f), torch::full({1, 2, 2}, 3.0f)});
  const auto grid = volt::make_grid(images, {.nrow = 2, .padding = 1, .pad_value = 0.5});
  // torchvision: xmaps = 2, ymaps = 2, canvas (3, 3 * 2 + 1, 3 * 2 + 1); grey becomes three channels.
  const float p = 0.5f;
  const auto expected_plane = torch::tensor(std::vector<float>{p, p, p, p, p, p, p,  //
                                             p, 1, 1, p, 2, 2, p,  //
                                             p, 1, 1, p, 2, 2, p,  //
                                             p, p, p, p, p, p, p,  //
                                             p, 3, 3, p, p, p, p,  //
                                             p, 3, 3, p, p, p, p,  //
                                             p, p, p, p, p, p, p})
                                  .reshape({7, 7});
  REQUIRE(grid.sizes() == torch::IntArrayRef({3, 7, 7}));
  for (int c = 0; c < 3; ++c) CHECK(torch::equal(grid[c], expected_plane));

  SECTION("the default options: nrow 8, padding 2, pad_value 0") {
    const auto batch = torch::ones({10, 3, 4, 5});
    const auto g = volt::make_grid(batch);
    // xmaps = 8, ymaps = 2: (3, 6 * 2 + 2, 7 * 8 + 2)
    CHECK(g.sizes() == torch::IntArrayRef({3, 14, 58}));
    CHECK(g.sum().item<double>() == 10 * 3 * 4 * 5);
    CHECK(g[0][2][2].item<float>() == 1.0f);
    CHECK(g[0][1][2].item<float>() == 0.0f);
  }
  SECTION("normalize with value_range maps [-1, 1] to [0, 1] and clamps") {
    const auto pair = torch::stack({chw({-1, 0, 1, 3}, 1, 2, 2), chw({-3, -0.5f, 0.5f, 1}, 1, 2, 2)});
    const auto g = volt::make_grid(pair, {.padding = 0, .normalize = true, .value_range = {{-1.0, 1.0}}});
    REQUIRE(g.sizes() == torch::IntArrayRef({3, 2, 4}));
    CHECK(torch::allclose(g[0], torch::tensor({0.0f, 0.5f, 0.0f, 0.25f, 1.0f, 1.0f, 0.75f, 1.0f}).reshape({2, 4})));
    CHECK(pair.min().item<float>() == -3.0f);  // the input is left as it was
  }
  SECTION("normalize without a range uses the batch's min and max; scale_each each image's own") {
    const auto pair = torch::stack({chw({0, 1, 2, 4}, 1, 2, 2), chw({10, 12, 14, 18}, 1, 2, 2)});
    const auto whole = volt::make_grid(pair, {.padding = 0, .normalize = true});
    CHECK(torch::allclose(whole[0], torch::tensor({0.0f, 1 / 18.f, 10 / 18.f, 12 / 18.f,  //
                                                   2 / 18.f, 4 / 18.f, 14 / 18.f, 1.0f})
                                        .reshape({2, 4})));
    const auto each = volt::make_grid(pair, {.padding = 0, .normalize = true, .scale_each = true});
    CHECK(torch::allclose(each[0], torch::tensor({0.0f, 0.25f, 0.0f, 0.25f, 0.5f, 1.0f, 0.5f, 1.0f}).reshape({2, 4})));
  }
  SECTION("one image comes back as (C, H, W) without padding, as torchvision returns it") {
    CHECK(volt::make_grid(torch::ones({1, 1, 4, 5})).sizes() == torch::IntArrayRef({3, 4, 5}));
    CHECK(volt::make_grid(torch::ones({4, 5})).sizes() == torch::IntArrayRef({3, 4, 5}));
  }
  SECTION("bad input names the problem") {
    CHECK_THROWS_WITH(volt::make_grid(torch::ones({2, 2, 2, 2, 2})), Catch::Contains("(N, C, H, W)"));
    CHECK_THROWS_WITH(volt::make_grid(torch::ones({2, 1, 2, 2}), {.nrow = 0}), Catch::Contains("nrow must be >= 1"));
  }
}

TEST_CASE("encode_png writes a PNG that decodes to the image's bytes", "[loggers][image]") {
  SECTION("RGB, float in [0, 1], rounded as torchvision's save_image") {
    // 3 channels, 2 rows, 3 columns.
    const auto img = chw({0.0f, 0.5f, 1.0f, 0.2f, 0.4f, 2.0f,          // R
                          1.0f, 1.0f, 1.0f, 0.0f, 0.0f, 0.0f,          // G
                          0.1f, 0.9f, 0.003f, -1.0f, 0.25f, 0.75f},    // B
                         3, 2, 3);
    const auto png = decode_png(volt::encode_png(img));
    CHECK(png.chunk_types == std::vector<std::string>{"IHDR", "IDAT", "IEND"});
    CHECK(png.width == 3);
    CHECK(png.height == 2);
    CHECK(png.colour_type == 2);
    // floor(x * 255 + 0.5), clamped: (R, G, B) per pixel, row by row.
    CHECK(png.pixels == std::vector<std::uint8_t>{0, 255, 26, 128, 255, 230, 255, 255, 1,  //
                                                  51, 0, 0, 102, 0, 64, 255, 0, 191});
  }
  SECTION("grey and RGBA uint8 keep their bytes") {
    const auto grey = torch::arange(0, 12, torch::kByte).reshape({1, 3, 4});
    const auto g = decode_png(volt::encode_png(grey));
    CHECK(g.colour_type == 0);
    CHECK(g.pixels == std::vector<std::uint8_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    const auto rgba = torch::arange(0, 8, torch::kByte).reshape({4, 1, 2});
    const auto r = decode_png(volt::encode_png(rgba));
    CHECK(r.colour_type == 6);
    CHECK(r.pixels == std::vector<std::uint8_t>{0, 2, 4, 6, 1, 3, 5, 7});
  }
  SECTION("bad images are refused before anything is written") {
    volt_test::LogTempDir tmp;
    CHECK_THROWS_WITH(volt::write_png(tmp.path / "a.png", torch::zeros({2, 4, 4})), Catch::Contains("C = 1, 3 or 4"));
    CHECK_THROWS_WITH(volt::write_png(tmp.path / "b.png", torch::zeros({3, 4, 4}, torch::kInt32)),
                      Catch::Contains("uint8 or floating point"));
    CHECK(std::filesystem::is_empty(tmp.path));
  }
}

TEST_CASE("write_png of a make_grid is read back by Pillow", "[loggers][image]") {
  volt_test::LogTempDir tmp;
  const auto batch = torch::linspace(-1, 1, 4 * 1 * 5 * 6).reshape({4, 1, 5, 6});
  const auto grid = volt::make_grid(batch, {.nrow = 2, .normalize = true, .value_range = {{-1.0, 1.0}}});
  const auto path = tmp.path / "samples" / "grid.png";
  volt::write_png(path, grid);
  const auto png = decode_png(volt_test::slurp(path));
  CHECK(png.width == 2 * 8 + 2);
  CHECK(png.height == 2 * 7 + 2);
  const auto expected = grid.mul(255).add(0.5).clamp(0, 255).to(torch::kByte).permute({1, 2, 0}).contiguous();
  CHECK(png.pixels == std::vector<std::uint8_t>(expected.data_ptr<std::uint8_t>(),
                                                 expected.data_ptr<std::uint8_t>() + expected.numel()));

  if (std::system("/usr/bin/python3 -c 'import PIL' > /dev/null 2>&1") != 0) {
    WARN("skipped the Pillow check: /usr/bin/python3 cannot import PIL (Debian python3-pil)");
    return;
  }
  // Pillow decodes the file; the sum of its bytes must be ours.
  const auto out = tmp.path / "pil.txt";
  const std::string cmd = "/usr/bin/python3 -c \"import sys; from PIL import Image; im = Image.open(sys.argv[1]); "
                          "print(im.mode, im.size[0], im.size[1], sum(im.tobytes()))\" " +
                          path.string() + " > " + out.string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(volt_test::slurp(out) == "RGB 18 16 " + std::to_string(expected.sum().item<std::int64_t>()) + "\n");
}
