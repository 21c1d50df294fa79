#include <volt/data/idx.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

namespace fs = std::filesystem;
using Catch::Contains;
using volt::data::DatasetError;
using volt::data::read_idx;

namespace {

// A fresh folder under the system temp dir, removed with everything in it at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("volt_idx_test_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

using Bytes = std::vector<unsigned char>;

// Written byte by byte here, independently of volt::data::write_idx, so that the reader is
// checked against the format rather than against its own writer.
Bytes idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims, std::size_t payload_bytes) {
  Bytes out;
  auto be32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
  };
  be32(magic);
  for (uint32_t d : dims) be32(d);
  for (std::size_t i = 0; i < payload_bytes; ++i) out.push_back(static_cast<unsigned char>(i * 7 % 256));
  return out;
}

void write_plain(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

void write_gz(const fs::path& path, const Bytes& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  REQUIRE(gz != nullptr);
  if (!bytes.empty()) {
    REQUIRE(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  }
  REQUIRE(gzclose(gz) == Z_OK);
}

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

torch::Tensor expected_payload(std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return (torch::arange(n, torch::kInt64) * 7 % 256).to(torch::kUInt8).reshape(shape);
}

}  // namespace

TEST_CASE("DatasetError is a runtime_error", "[data][idx]") {
  STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, DatasetError>);
}

TEST_CASE("read_idx reads plain and gzipped IDX files", "[data][idx]") {
  TempDir dir;
  const bool gz = GENERATE(false, true);
  CAPTURE(gz);
  auto write = [&](const fs::path& p, const Bytes& b) { gz ? write_gz(p, b) : write_plain(p, b); };
  const std::string ext = gz ? ".gz" : "";

  SECTION("images: magic 0x00000803, 3 dims") {
    const fs::path p = dir.path / ("images-idx3-ubyte" + ext);
    write(p, idx_bytes(0x00000803, {5, 4, 3}, 60));
    const torch::Tensor t = read_idx(p);
    CHECK(t.dtype() == torch::kUInt8);
    CHECK(t.sizes() == torch::IntArrayRef({5, 4, 3}));
    CHECK(torch::equal(t, expected_payload({5, 4, 3})));
  }
  SECTION("labels: magic 0x00000801, 1 dim") {
    const fs::path p = dir.path / ("labels-idx1-ubyte" + ext);
    write(p, idx_bytes(0x00000801, {300}, 300));
    const torch::Tensor t = read_idx(p);
    CHECK(t.sizes() == torch::IntArrayRef({300}));
    CHECK(torch::equal(t, expected_payload({300})));
  }
  SECTION("a larger file, crossing zlib's buffer size") {
    const fs::path p = dir.path / ("big-idx3-ubyte" + ext);
    write(p, idx_bytes(0x00000803, {3000, 28, 28}, 3000 * 28 * 28));
    const torch::Tensor t = read_idx(p);
    CHECK(t.sizes() == torch::IntArrayRef({3000, 28, 28}));
    CHECK(torch::equal(t, expected_payload({3000, 28, 28})));
  }
  SECTION("zero examples") {
    const fs::path p = dir.path / ("empty-idx3-ubyte" + ext);
    write(p, idx_bytes(0x00000803, {0, 28, 28}, 0));
    CHECK(read_idx(p).sizes() == torch::IntArrayRef({0, 28, 28}));
  }
}

TEST_CASE("read_idx errors name the file, the problem and the fix", "[data][idx]") {
  TempDir dir;

  SECTION("missing file") {
    const fs::path p = dir.path / "nope-idx3-ubyte.gz";
    REQUIRE_THROWS_AS(read_idx(p), DatasetError);
    REQUIRE_THROWS_WITH(read_idx(p), Contains(p.string()) && Contains("does not exist") &&
                                         Contains("check the path"));
    // A caller with better advice passes it and it is what the message ends with.
    REQUIRE_THROWS_WITH(read_idx(p, "install it with: apt-get install foo"),
                        Contains(p.string()) && Contains("install it with: apt-get install foo"));
  }
  SECTION("a directory") {
    REQUIRE_THROWS_WITH(read_idx(dir.path), Contains("is a directory"));
  }
  SECTION("bad magic number") {
    const bool gz = GENERATE(false, true);
    const fs::path p = dir.path / (gz ? "bad.gz" : "bad");
    const Bytes b = idx_bytes(0x12345678, {3}, 3);
    gz ? write_gz(p, b) : write_plain(p, b);
    REQUIRE_THROWS_AS(read_idx(p), DatasetError);
    REQUIRE_THROWS_WITH(read_idx(p), Contains(p.string()) &&
                                         Contains("bad magic number 0x12345678") &&
                                         Contains("0x00000803") && Contains("check the path"));
  }
  SECTION("an IDX file of another element type (int32) is a bad magic number too") {
    const fs::path p = dir.path / "ints";
    write_plain(p, idx_bytes(0x00000C01, {3}, 12));
    REQUIRE_THROWS_WITH(read_idx(p), Contains("bad magic number 0x00000C01"));
  }
  SECTION("truncated data") {
    const bool gz = GENERATE(false, true);
    CAPTURE(gz);
    const fs::path p = dir.path / (gz ? "short-idx3-ubyte.gz" : "short-idx3-ubyte");
    const Bytes b = idx_bytes(0x00000803, {100, 28, 28}, 1000);
    gz ? write_gz(p, b) : write_plain(p, b);
    REQUIRE_THROWS_AS(read_idx(p), DatasetError);
    REQUIRE_THROWS_WITH(read_idx(p), Contains(p.string()) &&
                                         Contains("expected 78400 bytes of image data, found 1000") &&
                                         Contains("check the path"));
  }
  SECTION("truncated data whose header claims far more than the file can hold") {
    // 60000 x 28 x 28 claimed by a file of a few hundred bytes: reported without allocating.
    const bool gz = GENERATE(false, true);
    CAPTURE(gz);
    const fs::path p = dir.path / (gz ? "claims.gz" : "claims");
    const Bytes b = idx_bytes(0x00000803, {60000, 28, 28}, 500);
    gz ? write_gz(p, b) : write_plain(p, b);
    REQUIRE_THROWS_WITH(read_idx(p), Contains("expected 47040000 bytes of image data, found 500"));
  }
  SECTION("truncated labels") {
    const fs::path p = dir.path / "labels";
    write_plain(p, idx_bytes(0x00000801, {10}, 4));
    REQUIRE_THROWS_WITH(read_idx(p), Contains("expected 10 bytes of label data, found 4"));
  }
  SECTION("truncated header") {
    const fs::path p = dir.path / "header";
    Bytes b = idx_bytes(0x00000803, {10, 28, 28}, 0);
    b.resize(9);  // magic + 5 of the 12 dimension bytes
    write_plain(p, b);
    REQUIRE_THROWS_WITH(read_idx(p), Contains("expected 12 bytes of dimension sizes") &&
                                         Contains("found 5"));
    write_plain(p, Bytes{0, 0});
    REQUIRE_THROWS_WITH(read_idx(p), Contains("expected a 4-byte magic number, found 2 bytes"));
  }
  SECTION("unreadable gzip stream") {
    const fs::path p = dir.path / "corrupt.gz";
    Bytes b{0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03};  // a gzip header...
    for (int i = 0; i < 200; ++i) b.push_back(static_cast<unsigned char>(0xff - i));  // ...then junk
    write_plain(p, b);
    REQUIRE_THROWS_AS(read_idx(p), DatasetError);
    REQUIRE_THROWS_WITH(read_idx(p), Contains(p.string()) &&
                                         Contains("not a readable gzip stream") &&
                                         Contains("check the path"));
  }
  SECTION("a gzip stream cut short") {
    const fs::path full = dir.path / "full.gz";
    write_gz(full, idx_bytes(0x00000803, {50, 28, 28}, 50 * 28 * 28));
    Bytes b = read_file(full);
    b.resize(b.size() / 2);
    const fs::path p = dir.path / "cut.gz";
    write_plain(p, b);
    REQUIRE_THROWS_AS(read_idx(p), DatasetError);
    // zlib reports a stream cut mid-block either as a short read or as an error; both name
    // the file and the fix.
    REQUIRE_THROWS_WITH(read_idx(p), Contains(p.string()) && Contains("check the path") &&
                                         (Contains("expected 39200 bytes of image data") ||
                                          Contains("not a readable gzip stream")));
  }
}

TEST_CASE("write_idx writes what read_idx reads, gzipped by extension", "[data][idx]") {
  TempDir dir;
  const torch::Tensor t = torch::randint(0, 256, {7, 28, 28}, torch::kInt64).to(torch::kUInt8);

  const fs::path plain = dir.path / "x-idx3-ubyte";
  volt::data::write_idx(plain, t);
  const Bytes raw = read_file(plain);
  REQUIRE(raw.size() == 16 + 7 * 28 * 28);
  CHECK(Bytes(raw.begin(), raw.begin() + 16) ==
        Bytes{0, 0, 8, 3, 0, 0, 0, 7, 0, 0, 0, 28, 0, 0, 0, 28});
  CHECK(torch::equal(read_idx(plain), t));

  const fs::path gz = dir.path / "x-idx3-ubyte.gz";
  volt::data::write_idx(gz, t);
  const Bytes zipped = read_file(gz);
  REQUIRE(zipped.size() >= 2);
  CHECK((zipped[0] == 0x1f && zipped[1] == 0x8b));
  CHECK(torch::equal(read_idx(gz), t));

  // Non-contiguous input is written in logical order.
  const torch::Tensor labels = torch::arange(20, torch::kUInt8).slice(0, 0, 20, 2);
  REQUIRE_FALSE(labels.is_contiguous());
  volt::data::write_idx(dir.path / "l", labels);
  CHECK(torch::equal(read_idx(dir.path / "l"), labels));

  REQUIRE_THROWS_AS(volt::data::write_idx(dir.path / "f", torch::zeros({3})), std::invalid_argument);
  REQUIRE_THROWS_WITH(volt::data::write_idx(dir.path / "f", torch::zeros({3})),
                      Contains("must be uint8") && Contains("Float"));
  REQUIRE_THROWS_AS(volt::data::write_idx(dir.path / "no" / "such" / "dir", t), DatasetError);
}

TEST_CASE("a damaged .gz is rejected, never decoded into other pixels", "[data][idx]") {
  TempDir dir;
  // Incompressible data, so that most of the file is deflate stream, plus the 8-byte trailer.
  Bytes raw = idx_bytes(0x00000803, {6, 12, 12}, 0);
  std::mt19937 random(7);
  for (int i = 0; i < 6 * 12 * 12; ++i) raw.push_back(static_cast<unsigned char>(random() & 0xFF));
  const fs::path good = dir.path / "images-idx3-ubyte.gz";
  write_gz(good, raw);
  const torch::Tensor expected = read_idx(good);
  const Bytes gz = read_file(good);
  REQUIRE(gz.size() > 100);

  SECTION("every single-byte flip: rejected, or decoded to the same pixels") {
    std::size_t rejected = 0;
    for (std::size_t at = 0; at < gz.size(); ++at) {
      Bytes damaged = gz;
      damaged[at] ^= 0x5A;
      const fs::path p = dir.path / "flipped-idx3-ubyte.gz";
      write_plain(p, damaged);
      INFO("byte " << at << " of " << gz.size());
      try {
        // Decoded: then to the very same pixels (a flip in the gzip header's mtime, xfl or os bytes,
        // or in the padding bits after the last deflate block, changes nothing).
        const torch::Tensor decoded = read_idx(p);
        CHECK(torch::equal(decoded, expected));
      } catch (const DatasetError& e) {
        ++rejected;
        CHECK_THAT(e.what(), Contains(p.string()));
      }
    }
    CHECK(rejected >= gz.size() - 12);
  }
  SECTION("the trailer's CRC-32 or length changed") {
    for (std::size_t from_end : {1, 4, 5, 8}) {
      Bytes damaged = gz;
      damaged[gz.size() - from_end] ^= 0x01;
      const fs::path p = dir.path / "trailer-idx3-ubyte.gz";
      write_plain(p, damaged);
      REQUIRE_THROWS_WITH(read_idx(p), Contains(p.string()) && Contains("corrupt"));
    }
  }
  SECTION("cut inside the trailer") {
    for (std::size_t cut : {1, 4, 7}) {
      const fs::path p = dir.path / "cut-idx3-ubyte.gz";
      write_plain(p, Bytes(gz.begin(), gz.end() - static_cast<std::ptrdiff_t>(cut)));
      REQUIRE_THROWS_WITH(read_idx(p), Contains(p.string()) && Contains("truncated"));
    }
  }
  SECTION("more data than the header announces") {
    Bytes longer = raw;
    longer.push_back(1);
    const fs::path p = dir.path / "longer-idx3-ubyte";
    write_plain(p, longer);
    REQUIRE_THROWS_WITH(read_idx(p), Contains(p.string()) && Contains("1 bytes after the 864 bytes"));
    write_gz(dir.path / "longer-idx3-ubyte.gz", longer);
    REQUIRE_THROWS_WITH(read_idx(dir.path / "longer-idx3-ubyte.gz"), Contains("of decompressed data"));
  }
}
