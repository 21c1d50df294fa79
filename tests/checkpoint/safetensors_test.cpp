#include <volt/checkpoint/safetensors.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Contains;
using volt::checkpoint::CheckpointError;
using volt::checkpoint::load_safetensors;
using volt::checkpoint::NamedTensors;
using volt::checkpoint::read_safetensors;
using volt::checkpoint::save_safetensors;

namespace {

// The message of the CheckpointError `fn` throws (Catch 2's Message matcher only compares whole
// messages); any other exception propagates and fails the test.
template <class Fn>
std::string checkpoint_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "<no CheckpointError was thrown>";
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("volt_safetensors_test_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The 8-byte little-endian header size, written out by hand.
std::string le64(std::uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

std::string bytes(std::initializer_list<unsigned char> list) { return std::string(list.begin(), list.end()); }

// A safetensors file from header text and buffer, padding the header with spaces as the spec says.
std::string file_from(std::string header, const std::string& buffer) {
  header.append((8 - header.size() % 8) % 8, ' ');
  return le64(header.size()) + header + buffer;
}

const torch::Tensor* find(const NamedTensors& tensors, const std::string& name) {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

}  // namespace

TEST_CASE("save_safetensors writes exactly the bytes the spec prescribes", "[checkpoint]") {
  TempDir dir;
  const fs::path path = dir.path / "model.safetensors";
  const NamedTensors tensors = {
      {"weight", torch::tensor({1.0f, -2.0f})},
      {"mask", torch::tensor({true, false, true})},
      {"step", torch::tensor(int64_t{7})},  // a 0-dim tensor: shape []
  };
  save_safetensors(path, tensors, {{"format", "pt"}});

  // Layout order: descending dtype (I64 before F32 before BOOL), as the reference implementation.
  const std::string header = R"({"__metadata__":{"format":"pt"},)"
                             R"("step":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                             R"("weight":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                             R"("mask":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]}})";
  REQUIRE(header.size() == 205);  // so 3 spaces pad it to 208, a multiple of 8
  const std::string expected = bytes({0xD0, 0, 0, 0, 0, 0, 0, 0}) + header + "   " +
                               bytes({7, 0, 0, 0, 0, 0, 0, 0}) +                          // step: int64 7
                               bytes({0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0}) +  // 1.0f, -2.0f
                               bytes({1, 0, 1});                                          // mask
  CHECK(slurp(path) == expected);
}

TEST_CASE("save_safetensors matches the reference implementation's own test vectors", "[checkpoint]") {
  TempDir dir;
  // safetensors' test_serialization: "attn.0", F32 [1, 2, 3] holding 0..5; the header is 64 bytes,
  // already a multiple of 8, so it has no padding.
  const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  REQUIRE(header.size() == 64);
  std::string buffer;
  for (float f : {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f}) buffer.append(reinterpret_cast<const char*>(&f), 4);
  save_safetensors(dir.path / "a.safetensors", {{"attn.0", torch::arange(6, torch::kFloat32).reshape({1, 2, 3})}});
  CHECK(slurp(dir.path / "a.safetensors") == le64(64) + header + buffer);

  // test_empty: no tensors is "{}" padded to 8; metadata only likewise.
  save_safetensors(dir.path / "empty.safetensors", {});
  CHECK(slurp(dir.path / "empty.safetensors") == le64(8) + "{}      ");
  save_safetensors(dir.path / "meta.safetensors", {}, {{"framework", "pt"}});
  CHECK(slurp(dir.path / "meta.safetensors") == le64(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
}

TEST_CASE("safetensors round trip of every supported dtype, scalars, empty and non-contiguous tensors",
          "[checkpoint]") {
  TempDir dir;
  const fs::path path = dir.path / "all.safetensors";
  torch::manual_seed(0);
  const NamedTensors tensors = {
      {"f64", torch::randn({3, 2}, torch::kFloat64)},
      {"f32", torch::randn({4, 5}).t()},  // non-contiguous: stored in C order of its logical shape
      {"f16", torch::randn({7}).to(torch::kFloat16)},
      {"bf16", torch::randn({2, 3}).to(torch::kBFloat16)},
      {"i64", torch::tensor({int64_t{1} << 40, int64_t{-5}})},
      {"i32", torch::tensor({1, -2, 3}, torch::kInt32)},
      {"i16", torch::tensor({-300, 300}, torch::kInt16)},
      {"i8", torch::tensor({-7, 7, 0}, torch::kInt8)},
      {"u8", torch::tensor({0, 255, 9}, torch::kUInt8)},
      {"bool", torch::tensor({true, false})},
      {"scalar", torch::tensor(3.5)},
      {"empty", torch::zeros({0, 4})},
      {"sliced", torch::arange(20, torch::kInt32).reshape({4, 5}).slice(1, 1, 3)},
  };
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"volt", "test"}};
  save_safetensors(path, tensors, metadata);

  const auto contents = read_safetensors(path);
  CHECK(contents.metadata == metadata);
  REQUIRE(contents.tensors.size() == tensors.size());
  for (const auto& [name, original] : tensors) {
    INFO(name);
    const torch::Tensor* loaded = find(contents.tensors, name);
    REQUIRE(loaded != nullptr);
    CHECK(loaded->scalar_type() == original.scalar_type());
    CHECK(loaded->sizes() == original.sizes());
    CHECK(loaded->is_contiguous());
    CHECK(torch::equal(*loaded, original));
  }

  // Loaded in file order, which is the reference layout: every tensor aligned to its element size.
  const std::string file = slurp(path);
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<unsigned char>(file[i]);
  CHECK(header_size % 8 == 0);
  std::uint64_t offset = 8 + header_size;
  for (const auto& [name, t] : contents.tensors) {
    INFO(name);
    CHECK(offset % t.element_size() == 0);
    offset += t.nbytes();
  }
  CHECK(offset == file.size());
  CHECK(load_safetensors(path).size() == tensors.size());
}

TEST_CASE("save_safetensors rejects what the format cannot hold and keeps the previous file", "[checkpoint]") {
  TempDir dir;
  const fs::path path = dir.path / "m.safetensors";
  save_safetensors(path, {{"a", torch::ones({2})}});
  const std::string before = slurp(path);

  CHECK_THROWS_WITH(save_safetensors(path, {{"x", torch::Tensor()}}), Contains("\"x\"") && Contains("undefined"));
  CHECK_THROWS_WITH(save_safetensors(path, {{"c", torch::ones({2}, torch::kComplexFloat)}}),
                    Contains("\"c\"") && Contains("dtype"));
  CHECK_THROWS_WITH(save_safetensors(path, {{"a", torch::ones({1})}, {"a", torch::ones({1})}}),
                    Contains("two tensors are named \"a\""));
  CHECK_THROWS_WITH(save_safetensors(path, {{"__metadata__", torch::ones({1})}}), Contains("reserved"));
  CHECK_THROWS_AS(save_safetensors(path, {{"s", torch::ones({2}).to_sparse()}}), std::invalid_argument);
  CHECK(slurp(path) == before);
}

TEST_CASE("load_safetensors rejects malformed files with a message naming the file and the problem", "[checkpoint]") {
  TempDir dir;
  const fs::path path = dir.path / "bad.safetensors";
  const std::string f32x2 = bytes({0, 0, 0x80, 0x3F, 0, 0, 0, 0x40});
  const std::string ok_header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  put(path, file_from(ok_header, f32x2));
  REQUIRE(torch::equal(load_safetensors(path).at(0).second, torch::tensor({1.0f, 2.0f})));

  struct Case {
    const char* what;
    std::string file;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"too short", std::string("\x08\0\0", 3), "fewer than the 8 of the header size"},
      {"header beyond the file", le64(1000) + "{}", "is truncated: its header needs bytes 8..1008 but the file has 10"},
      {"header over the format's limit", le64(200'000'000) + "{}", "more than the format's limit"},
      {"not JSON", file_from("{\"a\":", ""), "not valid JSON"},
      {"not starting with {", le64(8) + "  {}    ", "does not start with '{'"},
      {"entry not an object", file_from(R"({"a":5})", ""), "tensor \"a\" is not described by a JSON object"},
      {"duplicate key",
       file_from(
           R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
           f32x2),
       "has the key \"a\" twice"},
      {"unknown dtype", file_from(R"({"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})", f32x2),
       "dtype \"F8_E4M3\", which volt cannot load"},
      {"missing field", file_from(R"({"a":{"dtype":"F32","shape":[2]}})", f32x2), "lacks one of"},
      {"negative dim", file_from(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f32x2),
       "not a non-negative integer"},
      {"size mismatch", file_from(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", f32x2),
       "has shape [3] of F32 (12 bytes), but its data_offsets [0, 8] span 8 bytes"},
      {"offsets reversed", file_from(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", f32x2),
       "end before they begin"},
      {"beyond the buffer", file_from(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", f32x2),
       "is truncated: tensor \"a\" needs bytes"},
      {"hole", file_from(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", f32x2),
       "starts at byte 4 of the data buffer but the tensors before it end at byte 0"},
      {"overlap",
       file_from(
           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
           f32x2),
       "starts at byte 4"},
      {"trailing bytes", file_from(ok_header, f32x2 + "xx"), "trailing bytes are not allowed"},
      {"overflowing shape",
       file_from(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})", ""), "too large"},
      {"metadata not strings", file_from(R"({"__metadata__":{"n":1}})", ""), "is not a string"},
      {"bool byte 2", file_from(R"({"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", bytes({1, 2})),
       "holds the byte 2"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    put(path, c.file);
    CHECK_THAT(checkpoint_error_of([&] { (void)load_safetensors(path); }),
               Contains("volt: safetensors file \"" + path.string() + "\"") && Contains(c.message));
  }
  CHECK_THROWS_WITH(load_safetensors(dir.path / "absent.safetensors"), Contains("does not exist"));
}

TEST_CASE("every truncation of a safetensors file is an error, never a crash", "[checkpoint]") {
  TempDir dir;
  const fs::path good = dir.path / "good.safetensors";
  save_safetensors(good, {{"w", torch::arange(6, torch::kFloat32)}, {"b", torch::tensor({true, false})}}, {{"k", "v"}});
  const std::string file = slurp(good);
  const fs::path cut = dir.path / "cut.safetensors";
  for (std::size_t n = 0; n < file.size(); ++n) {
    INFO("truncated to " << n << " of " << file.size() << " bytes");
    put(cut, file.substr(0, n));
    CHECK_THROWS_AS(load_safetensors(cut), CheckpointError);
  }
}

// safetensors has no checksum: a changed byte in the data buffer is a different value, which loads
// (that is the format, not a bug); a changed byte in the size field or header either still parses
// (a space of the padding becoming another whitespace, a digit of a value) or is an error. What
// must never happen is a crash, or an error of another type.
TEST_CASE("random byte flips in a safetensors file load or throw CheckpointError, never crash", "[checkpoint]") {
  TempDir dir;
  const fs::path good = dir.path / "good.safetensors";
  const NamedTensors tensors = {{"w", torch::arange(12, torch::kFloat32).reshape({3, 4})},
                                {"n", torch::tensor({int64_t{3}})},
                                {"m", torch::tensor({true, false, true})}};
  save_safetensors(good, tensors, {{"k", "v"}});
  const std::string file = slurp(good);
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<unsigned char>(file[i]);
  const std::size_t bool_begin = file.size() - 3;  // BOOL is laid out last

  std::mt19937 rng(20240601);
  std::uniform_int_distribution<std::size_t> position(0, file.size() - 1);
  std::uniform_int_distribution<int> mask(1, 255);
  const fs::path flipped = dir.path / "flipped.safetensors";
  int loaded = 0, rejected = 0;
  for (int i = 0; i < 300; ++i) {
    std::string bad = file;
    const std::size_t at = position(rng);
    bad[at] = static_cast<char>(bad[at] ^ mask(rng));
    put(flipped, bad);
    INFO("flip #" << i << " at byte " << at);
    try {
      (void)load_safetensors(flipped);
      ++loaded;
      // A flip in the data buffer (other than a BOOL byte) must load: the format cannot see it.
    } catch (const CheckpointError& e) {
      ++rejected;
      CHECK_THAT(e.what(), Contains(flipped.string()));
      CHECK((at < 8 + header_size || at >= bool_begin));
    }
  }
  CHECK(loaded > 0);
  CHECK(rejected > 0);
}
