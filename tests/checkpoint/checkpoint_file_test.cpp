#include <volt/checkpoint/checkpoint_file.hpp>
#include <volt/checkpoint/safetensors.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode

namespace fs = std::filesystem;
using Catch::Contains;
using volt::checkpoint::CheckpointError;
using volt::checkpoint::CheckpointReader;
using volt::checkpoint::CheckpointWriter;
using volt::checkpoint::NamedTensors;
using volt::checkpoint::SectionKind;

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
    path = fs::temp_directory_path() / ("volt_ckpt_test_" + std::to_string(rd()) + std::to_string(rd()));
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

std::uint64_t le(const std::string& s, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// A small checkpoint with one section of each plain kind.
CheckpointWriter small_checkpoint() {
  CheckpointWriter w;
  w.add_tensors("state_dict", {{"net.0.weight", torch::arange(6, torch::kFloat32).reshape({2, 3})},
                               {"net.0.bias", torch::tensor({0.5f, -0.5f})},
                               {"flags", torch::tensor({true, false})},
                               {"steps", torch::tensor(int64_t{120})}});
  w.add_json("loops", {{"epoch", 3}, {"global_step", 120}, {"should_stop", false}});
  w.add_bytes("rng", std::string("\x00\x01\x02\xff", 4));
  return w;
}

}  // namespace

TEST_CASE("checkpoint file round trip of tensors, JSON, bytes and a torch archive", "[checkpoint]") {
  TempDir dir;
  const fs::path path = dir.path / "last.ckpt";
  torch::manual_seed(1);
  const NamedTensors state = {{"b.weight", torch::randn({4, 3})},  // caller order, not sorted
                              {"a.bias", torch::randn({4}).to(torch::kBFloat16)},
                              {"a.count", torch::tensor({int64_t{7}, int64_t{-1}})},
                              {"a.mask", torch::tensor({true, false, true})},
                              {"scalar", torch::tensor(2.5, torch::kFloat64)},
                              {"empty", torch::zeros({0}, torch::kInt16)}};
  const nlohmann::json loops = {{"epoch", 2}, {"global_step", 40}, {"callbacks", {{"EarlyStopping", {{"wait", 1}}}}}};

  torch::nn::Linear linear(3, 2);
  torch::optim::Adam adam(linear->parameters(), torch::optim::AdamOptions(0.1));
  linear(torch::ones({4, 3})).sum().backward();
  adam.step();
  torch::serialize::OutputArchive adam_archive;
  adam.save(adam_archive);

  CheckpointWriter writer;
  writer.add_tensors("state_dict", state);
  writer.add_json("loops", loops);
  writer.add_bytes("blob", std::string("\0binary\xff", 8));
  writer.add_archive("optimizer", adam_archive);
  CHECK(writer.has("loops"));
  CHECK_FALSE(writer.has("nope"));
  writer.write(path);

  const auto reader = CheckpointReader::open(path);
  CHECK(reader.path() == path);
  CHECK(reader.volt_version() == volt::version);
  REQUIRE(reader.sections().size() == 4);
  CHECK(reader.sections()[0].name == "state_dict");
  CHECK(reader.sections()[0].kind == SectionKind::tensors);
  CHECK(reader.sections()[3].kind == SectionKind::torch_archive);
  CHECK(reader.has("blob"));
  CHECK_FALSE(reader.has("missing"));

  const NamedTensors loaded = reader.tensors("state_dict");
  REQUIRE(loaded.size() == state.size());
  for (std::size_t i = 0; i < state.size(); ++i) {
    INFO(state[i].first);
    CHECK(loaded[i].first == state[i].first);  // order kept
    CHECK(loaded[i].second.scalar_type() == state[i].second.scalar_type());
    CHECK(torch::equal(loaded[i].second, state[i].second));
  }
  CHECK(reader.json("loops") == loops);
  CHECK(reader.bytes("blob") == std::string("\0binary\xff", 8));

  torch::optim::Adam restored(linear->parameters(), torch::optim::AdamOptions(0.1));
  auto archive = reader.archive("optimizer", torch::kCPU);
  restored.load(archive);
  REQUIRE(restored.state().size() == adam.state().size());
  for (const auto& [key, value] : adam.state()) {
    const auto& before = static_cast<const torch::optim::AdamParamState&>(*value);
    const auto& after = static_cast<const torch::optim::AdamParamState&>(*restored.state().at(key));
    CHECK(after.step() == before.step());
    CHECK(torch::equal(after.exp_avg(), before.exp_avg()));
    CHECK(torch::equal(after.exp_avg_sq(), before.exp_avg_sq()));
  }

  // A reader is a cheap copy sharing the bytes.
  const CheckpointReader copy = reader;
  CHECK(copy.json("loops") == loops);
}

TEST_CASE("checkpoint file layout: preamble, JSON header, and tensor sections that are safetensors images",
          "[checkpoint]") {
  TempDir dir;
  const std::string file = small_checkpoint().to_bytes();
  CHECK(file.substr(0, 8) == "VOLTCKPT");
  CHECK(le(file, 8, 4) == volt::checkpoint::checkpoint_format_version);
  const std::uint64_t header_length = le(file, 12, 8);
  const auto header = nlohmann::json::parse(file.substr(24, header_length));
  CHECK(header["format"] == "volt-checkpoint");
  CHECK(header["volt_version"] == volt::version);
  REQUIRE(header["sections"].size() == 3);
  const auto& section = header["sections"][0];
  CHECK(section["name"] == "state_dict");
  CHECK(section["kind"] == "tensors");
  CHECK(section["offset"] == 0);

  // Cut out, the tensors section is a .safetensors file any safetensors reader accepts.
  const std::string image = file.substr(24 + header_length, section["length"].get<std::size_t>());
  put(dir.path / "cut.safetensors", image);
  const auto tensors = volt::checkpoint::load_safetensors(dir.path / "cut.safetensors");
  REQUIRE(tensors.size() == 4);
  CHECK(tensors[0].first == "net.0.weight");
  CHECK(torch::equal(tensors[0].second, torch::arange(6, torch::kFloat32).reshape({2, 3})));

  // Same content, same bytes: no timestamps, so files can be compared and deduplicated.
  CHECK(small_checkpoint().to_bytes() == file);
}

TEST_CASE("CheckpointReader names the file and the first thing wrong", "[checkpoint]") {
  TempDir dir;
  const fs::path path = dir.path / "last.ckpt";
  const std::string file = small_checkpoint().to_bytes();
  const std::string quoted = "volt: checkpoint \"" + path.string() + "\" ";

  SECTION("truncated inside a section: the message of the design brief") {
    const auto full = CheckpointReader::from_bytes(file, path);
    const std::uint64_t payload_start = 24 + le(file, 12, 8);
    const auto& s = full.sections()[0];
    const std::size_t cut = payload_start + s.offset + s.length / 2;
    put(path, file.substr(0, cut));
    CHECK_THAT(checkpoint_error_of([&] { (void)CheckpointReader::open(path); }),
               Catch::Matchers::Equals(quoted + "is truncated: section \"state_dict\" needs bytes " +
                                       std::to_string(payload_start) + ".." + std::to_string(payload_start + s.length) +
                                       " but the file has " + std::to_string(cut) +
                                       "; it may have been cut short by a crash — use an earlier checkpoint"));
  }
  SECTION("a damaged payload byte") {
    std::string bad = file;
    bad[bad.size() - 2] ^= 0x10;
    put(path, bad);
    CHECK_THROWS_WITH(CheckpointReader::open(path), Contains(quoted + "is corrupt: section \"rng\"") &&
                                                        Contains("has CRC32") && Contains("use an earlier checkpoint"));
  }
  SECTION("a damaged header byte") {
    std::string bad = file;
    bad[30] ^= 0x01;
    put(path, bad);
    CHECK_THROWS_WITH(CheckpointReader::open(path), Contains(quoted + "is corrupt: its header"));
  }
  SECTION("not a checkpoint at all") {
    put(path, "PK\x03\x04 a zip file");
    CHECK_THROWS_WITH(CheckpointReader::open(path), Contains(quoted + "is not a volt checkpoint") && Contains("zip"));
  }
  SECTION("written by a newer volt") {
    std::string newer = file;
    newer[8] = 2;
    put(path, newer);
    CHECK_THROWS_WITH(CheckpointReader::open(path), Contains("format version 2") && Contains("upgrade volt"));
  }
  SECTION("trailing bytes") {
    put(path, file + "junk");
    CHECK_THROWS_WITH(CheckpointReader::open(path), Contains("has 4 bytes after its last section"));
  }
  SECTION("missing file, directory") {
    CHECK_THROWS_WITH(CheckpointReader::open(path), Contains(quoted + "does not exist"));
    CHECK_THROWS_WITH(CheckpointReader::open(dir.path), Contains("is a directory"));
  }
  SECTION("asking for an absent section or the wrong kind") {
    put(path, file);
    const auto reader = CheckpointReader::open(path);
    CHECK_THAT(checkpoint_error_of([&] { (void)reader.tensors("optimizer"); }),
               Contains("has no section \"optimizer\"") && Contains("(it has: \"state_dict\", \"loops\", \"rng\")"));
    CHECK_THROWS_WITH(reader.json("state_dict"), Contains("section \"state_dict\" holds tensors, not json"));
    CHECK_THROWS_WITH(reader.bytes("loops"), Contains("holds json, not bytes"));
  }
}

TEST_CASE("CheckpointWriter rejects duplicate or empty section names and bad tensors", "[checkpoint]") {
  CheckpointWriter w;
  w.add_bytes("a", "x");
  CHECK_THROWS_AS(w.add_json("a", 1), std::invalid_argument);
  CHECK_THROWS_AS(w.add_bytes("", "x"), std::invalid_argument);
  CHECK_THROWS_WITH(w.add_tensors("t", {{"x", torch::ones({1}, torch::kComplexDouble)}}),
                    Contains("checkpoint section \"t\"") && Contains("\"x\""));
  CHECK_THROWS_AS(w.add_tensors("t", {{"x", torch::ones({1})}, {"x", torch::ones({1})}}), std::invalid_argument);
  CHECK_FALSE(w.has("t"));
}

// Every byte of a checkpoint is compared with a constant (magic, version) or covered by a CRC-32,
// and the sections must tile the file exactly, so no truncation and no single-byte change can load.
TEST_CASE("every truncation of a checkpoint file throws CheckpointError", "[checkpoint]") {
  TempDir dir;
  const std::string file = small_checkpoint().to_bytes();
  REQUIRE(file.size() < 2000);
  const fs::path path = dir.path / "cut.ckpt";
  for (std::size_t n = 0; n < file.size(); ++n) {
    INFO("truncated to " << n << " of " << file.size() << " bytes");
    put(path, file.substr(0, n));
    CHECK_THAT(checkpoint_error_of([&] { (void)CheckpointReader::open(path); }),
               Contains(path.string()) && Contains("is truncated"));
  }
  put(path, file);
  CHECK(CheckpointReader::open(path).json("loops")["epoch"] == 3);
}

TEST_CASE("300 random byte changes in a checkpoint file all throw CheckpointError", "[checkpoint]") {
  TempDir dir;
  const std::string file = small_checkpoint().to_bytes();
  const fs::path path = dir.path / "flipped.ckpt";
  std::mt19937 rng(1234567);
  std::uniform_int_distribution<std::size_t> position(0, file.size() - 1);
  std::uniform_int_distribution<int> mask(1, 255);
  for (int i = 0; i < 300; ++i) {
    std::string bad = file;
    const std::size_t at = position(rng);
    bad[at] = static_cast<char>(bad[at] ^ mask(rng));
    put(path, bad);
    INFO("change #" << i << " at byte " << at);
    CHECK_THAT(checkpoint_error_of([&] { (void)CheckpointReader::open(path); }),
               Contains("volt: checkpoint \"" + path.string() + "\""));
  }
  // And the same for every byte position once, with one fixed change.
  for (std::size_t at = 0; at < file.size(); ++at) {
    std::string bad = file;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    INFO("bit 0 of byte " << at);
    CHECK_THROWS_AS(CheckpointReader::from_bytes(bad, path), CheckpointError);
  }
}
