#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

// Each test process runs in a working directory of its own: a Trainer with the default
// default_root_dir writes lightning_logs/ and checkpoints/ into the working directory, and ctest
// runs test cases in parallel processes (two of them must not pick the same version_N, nor leave
// files in the directory the binary was started from). Processes the tests spawn inherit the
// directory and the variable, so a launcher's ranks share their parent's directory.
int main(int argc, char* argv[]) {
  namespace fs = std::filesystem;
  constexpr const char* kVariable = "VOLT_TEST_WORKING_DIR";
  std::error_code ec;
  fs::path own;
  if (std::getenv(kVariable) == nullptr) {
    own = fs::temp_directory_path(ec) / ("volt_tests_cwd_" + std::to_string(::getpid()));
    if (!ec) fs::remove_all(own, ec);  // left by an earlier process with this pid that was killed
    if (!ec) fs::create_directories(own, ec);
    if (!ec) fs::current_path(own, ec);
    if (!ec) ::setenv(kVariable, own.c_str(), 1);
    if (ec) own.clear();  // run where started rather than not at all
  }
  const int failed = Catch::Session().run(argc, argv);
  if (!own.empty()) {
    fs::current_path(fs::temp_directory_path(ec), ec);
    fs::remove_all(own, ec);
  }
  return failed;
}
