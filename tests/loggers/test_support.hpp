#pragma once
// Helpers shared by the logger tests: a fresh temp folder per test, removed at scope exit.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace volt_test {

struct LogTempDir {
  std::filesystem::path path;
  LogTempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("volt_loggers_test_" + std::to_string(rd()) + "_" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~LogTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  LogTempDir(const LogTempDir&) = delete;
  LogTempDir& operator=(const LogTempDir&) = delete;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void touch_dir(const std::filesystem::path& p) { std::filesystem::create_directories(p); }

}  // namespace volt_test
