// Lightning's version_<N> numbering, on its own (the loggers' tests cover it through them too).
#include <volt/loggers/versioning.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "test_support.hpp"

using volt::loggers::next_version;
using volt::loggers::parse_version_folder;
using volt::loggers::VersionedLogDir;

TEST_CASE("version folders are parsed as Lightning parses them", "[loggers]") {
  CHECK(parse_version_folder("version_0") == 0);
  CHECK(parse_version_folder("version_12") == 12);
  CHECK(parse_version_folder("version_3_old") == 3);
  CHECK_FALSE(parse_version_folder("version_"));
  CHECK_FALSE(parse_version_folder("version_x"));
  CHECK_FALSE(parse_version_folder("version_-1"));
  CHECK_FALSE(parse_version_folder("Version_1"));
  CHECK_FALSE(parse_version_folder("version_99999999999999999999"));
}

TEST_CASE("next_version is the highest version folder plus one", "[loggers]") {
  volt_test::LogTempDir tmp;
  CHECK(next_version(tmp.path / "missing") == 0);
  CHECK(next_version(tmp.path) == 0);
  volt_test::touch_dir(tmp.path / "version_2");
  volt_test::touch_dir(tmp.path / "version_10");
  std::ofstream(tmp.path / "version_50") << "";  // files do not count
  CHECK(next_version(tmp.path) == 11);

  VersionedLogDir dir(tmp.path, "", std::nullopt);
  CHECK(dir.root_dir() == tmp.path);
  CHECK(dir.log_dir() == tmp.path / "version_11");
  volt_test::touch_dir(tmp.path / "version_11");
  CHECK(dir.version() == 11);  // fixed at first use
}
