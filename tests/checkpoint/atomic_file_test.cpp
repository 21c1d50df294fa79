#include <volt/checkpoint/atomic_file.hpp>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Contains;
using volt::checkpoint::CheckpointError;
using volt::checkpoint::write_atomically;

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
    path = fs::temp_directory_path() / ("volt_atomic_test_" + std::to_string(rd()) + std::to_string(rd()));
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
  out << bytes;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

}  // namespace

TEST_CASE("write_atomically replaces the target with what a stream writer wrote", "[checkpoint]") {
  TempDir dir;
  const fs::path target = dir.path / "last.ckpt";
  put(target, "old");
  write_atomically(target, [](std::ostream& out) { out << "new content"; });
  CHECK(slurp(target) == "new content");
  CHECK(entries(dir.path) == std::vector<std::string>{"last.ckpt"});

  // A target that did not exist yet.
  write_atomically(dir.path / "fresh.bin", [](std::ostream& out) { out.write("\0\1\2", 3); });
  CHECK(slurp(dir.path / "fresh.bin") == std::string("\0\1\2", 3));
}

TEST_CASE("write_atomically accepts a writer that writes to a path", "[checkpoint]") {
  TempDir dir;
  const fs::path target = dir.path / "model.bin";
  put(target, "old");
  fs::path seen;
  write_atomically(target, [&](const fs::path& tmp) {
    seen = tmp;
    std::ofstream out(tmp, std::ios::binary);
    out << "written by path";
  });
  CHECK(slurp(target) == "written by path");
  // The temporary sits next to the target and is named <target>.tmp-<pid>-<random>.
  CHECK(seen.parent_path() == dir.path);
  CHECK_THAT(seen.filename().string(), Catch::StartsWith("model.bin.tmp-"));
  CHECK_FALSE(fs::exists(seen));
}

TEST_CASE("a writer that throws mid-write leaves the previous file intact and no temporary behind", "[checkpoint]") {
  TempDir dir;
  const fs::path target = dir.path / "last.ckpt";
  const std::string previous(100000, 'p');
  put(target, previous);

  SECTION("stream writer") {
    CHECK_THROWS_WITH(write_atomically(target,
                                       [](std::ostream& out) {
                                         out << std::string(50000, 'n');
                                         out.flush();
                                         throw std::runtime_error("disk went away");
                                       }),
                      "disk went away");
  }
  SECTION("path writer") {
    CHECK_THROWS_AS(write_atomically(target,
                                     [](const fs::path& tmp) {
                                       std::ofstream(tmp, std::ios::binary) << "partial";
                                       throw std::logic_error("serializer bug");
                                     }),
                    std::logic_error);
  }
  CHECK(slurp(target) == previous);
  CHECK(entries(dir.path) == std::vector<std::string>{"last.ckpt"});
}

TEST_CASE("a failed first write leaves no file at all", "[checkpoint]") {
  TempDir dir;
  CHECK_THROWS(write_atomically(dir.path / "never.ckpt", [](std::ostream&) { throw 42; }));
  CHECK(entries(dir.path).empty());
}

TEST_CASE("write_atomically reports a missing directory or an unreplaceable target as CheckpointError",
          "[checkpoint]") {
  TempDir dir;
  const fs::path nowhere = dir.path / "no_such_dir" / "last.ckpt";
  CHECK_THAT(checkpoint_error_of([&] { (void)write_atomically(nowhere, [](std::ostream& out) { out << "x"; }); }),
             Contains(fmt::format("\"{}\"", nowhere.string())) && Contains("cannot create a temporary file"));
  try {
    write_atomically(nowhere, [](std::ostream& out) { out << "x"; });
  } catch (const CheckpointError& e) {
    CHECK(e.file() == nowhere);
  }

  // A directory in the target's place: the rename fails, the temporary is cleaned up.
  const fs::path occupied = dir.path / "occupied";
  fs::create_directories(occupied / "inside");
  CHECK_THAT(checkpoint_error_of([&] { (void)write_atomically(occupied, [](std::ostream& out) { out << "x"; }); }),
             Contains("renaming the temporary file over it failed"));
  CHECK(entries(dir.path) == std::vector<std::string>{"occupied"});
}

TEST_CASE("the next write removes temporaries that killed writers left, and keeps those of live ones", "[checkpoint]") {
  TempDir dir;
  // A pid no process has: beyond the kernel's pid_max (at most 2^22).
  const fs::path dead = dir.path / "epoch=1-step=5.ckpt.tmp-99999999-0123456789abcdef";
  const fs::path live = dir.path / fmt::format("last.ckpt.tmp-{}-0123456789abcdef", static_cast<long>(::getppid()));
  const fs::path mine = dir.path / fmt::format("last.ckpt.tmp-{}-fedcba9876543210", static_cast<long>(::getpid()));
  const fs::path unrelated = dir.path / "notes.tmp-99999999-x";
  for (const auto& p : {dead, live, mine, unrelated}) put(p, "partial");
  write_atomically(dir.path / "last.ckpt", [](std::ostream& out) { out << "complete"; });
  CHECK_FALSE(fs::exists(dead));  // any target's leftover: a killed periodic save is never retried
  CHECK(fs::exists(live));        // its writer (our parent process) still runs
  CHECK(fs::exists(mine));        // this process may be writing it on another thread
  CHECK(fs::exists(unrelated));   // not a name write_atomically gives
  CHECK(slurp(dir.path / "last.ckpt") == "complete");
}
