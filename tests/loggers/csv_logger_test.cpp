// CSVLogger against the bytes Lightning 2.x writes. The expected strings below were produced by
// running lightning.fabric's _ExperimentWriter logic (Python csv module, repr of floats, int
// epoch) and PyYAML's yaml.dump on the same calls.
#include <volt/loggers/csv_logger.hpp>
#include <volt/loggers/logger.hpp>

#include <catch2/catch.hpp>

#include <boost/hana/define_struct.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "test_support.hpp"

namespace fs = std::filesystem;
using volt::loggers::CSVLogger;
using volt_test::slurp;
using volt_test::LogTempDir;

static_assert(volt::Logger<CSVLogger>);

namespace {

struct NetHParams {
  BOOST_HANA_DEFINE_STRUCT(NetHParams, (std::int64_t, depth), (std::string, act));
};

struct ModelHParams {
  BOOST_HANA_DEFINE_STRUCT(ModelHParams, (double, lr), (std::int64_t, hidden), (std::string, optimizer), (bool, amsgrad),
                           (NetHParams, net), (std::optional<std::string>, note), (std::string, name), (float, eps));
};

}  // namespace

TEST_CASE("CSVLogger writes metrics.csv as Lightning does, rewriting the header when keys appear", "[loggers]") {
  LogTempDir tmp;
  CSVLogger logger{{.save_dir = tmp.path}};
  const fs::path csv = tmp.path / "lightning_logs" / "version_0" / "metrics.csv";
  CHECK(logger.metrics_file_path() == csv);

  logger.log_metrics({{"train_loss", 0.5}, {"epoch", 0}}, 0);
  logger.log_metrics({{"train_loss", 0.25}, {"epoch", 0}}, 1);
  CHECK_FALSE(fs::exists(csv));  // buffered until save (flush_logs_every_n_steps = 100)
  logger.save();
  CHECK(slurp(csv) == "epoch,step,train_loss\r\n0,0,0.5\r\n0,1,0.25\r\n");

  // New keys: the whole file is rewritten under the sorted union, old rows get empty cells.
  logger.log_metrics({{"val_loss", 0.30000001192092896}, {"val_acc", 1e-05}, {"epoch", 0}}, 1);
  logger.save();
  CHECK(slurp(csv) ==
        "epoch,step,train_loss,val_acc,val_loss\r\n0,0,0.5,,\r\n0,1,0.25,,\r\n0,1,,1e-05,0.30000001192092896\r\n");

  // Known keys only: appended. Then a key that needs quoting, a float epoch-less row, 1e16, -0.0.
  logger.log_metrics({{"train_loss", 3.0}, {"epoch", 1}}, 2);
  logger.log_metrics({{"lr", 1e16}, {"a,b", -0.0}}, 3);
  logger.finalize("success");
  CHECK(slurp(csv) ==
        "\"a,b\",epoch,lr,step,train_loss,val_acc,val_loss\r\n,0,,0,0.5,,\r\n,0,,1,0.25,,\r\n"
        ",0,,1,,1e-05,0.30000001192092896\r\n,1,,2,3.0,,\r\n-0.0,,1e+16,3,,,\r\n");
  // No temporary files are left behind by the atomic rewrites.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(logger.log_dir())) ++files;
  CHECK(files == 1);
}

TEST_CASE("CSVLogger flushes every flush_logs_every_n_steps steps and on destruction", "[loggers]") {
  LogTempDir tmp;
  const fs::path csv = tmp.path / "runs" / "version_0" / "metrics.csv";
  {
    CSVLogger logger{{.save_dir = tmp.path, .name = "runs", .flush_logs_every_n_steps = 2}};
    logger.log_metrics({{"loss", 1.0}}, 0);
    CHECK_FALSE(fs::exists(csv));
    logger.log_metrics({{"loss", 0.5}}, 1);  // (1 + 1) % 2 == 0
    CHECK(slurp(csv) == "loss,step\r\n1.0,0\r\n0.5,1\r\n");
    logger.log_metrics({{"loss", 0.125}}, 2);
    CHECK(slurp(csv) == "loss,step\r\n1.0,0\r\n0.5,1\r\n");
  }
  CHECK(slurp(csv) == "loss,step\r\n1.0,0\r\n0.5,1\r\n0.125,2\r\n");
  CHECK_THROWS_AS(CSVLogger({.save_dir = tmp.path, .flush_logs_every_n_steps = 0}), std::invalid_argument);
}

TEST_CASE("CSVLogger numbers versions as Lightning does", "[loggers]") {
  LogTempDir tmp;
  SECTION("first run is version_0, created on first write") {
    CSVLogger logger{{.save_dir = tmp.path}};
    CHECK(logger.version() == 0);
    CHECK(logger.name() == "lightning_logs");
    CHECK(logger.log_dir() == tmp.path / "lightning_logs" / "version_0");
    CHECK_FALSE(fs::exists(logger.log_dir()));
    logger.save();
    CHECK(fs::is_directory(logger.log_dir()));
  }
  SECTION("next = highest existing version_<digits> folder + 1") {
    const fs::path root = tmp.path / "lightning_logs";
    volt_test::touch_dir(root / "version_0");
    volt_test::touch_dir(root / "version_1");
    volt_test::touch_dir(root / "version_7_old");  // Lightning reads split("_")[1] = "7"
    volt_test::touch_dir(root / "version_x");
    volt_test::touch_dir(root / "other_12");
    std::ofstream(root / "version_20") << "a file, not a folder";
    CSVLogger logger{{.save_dir = tmp.path}};
    CHECK(logger.version() == 8);
    CHECK(logger.log_dir() == root / "version_8");
  }
  SECTION("the version is chosen on first use, so loggers built together still differ") {
    CSVLogger a{{.save_dir = tmp.path}};
    CSVLogger b{{.save_dir = tmp.path}};
    a.log_metrics({{"x", 1.0}}, 0);
    CHECK(a.version() == 0);
    CHECK(b.version() == 1);
  }
  SECTION("an explicit version, and an empty name") {
    volt_test::touch_dir(tmp.path / "exp" / "version_0");
    CSVLogger logger{{.save_dir = tmp.path, .name = "exp", .version = 5}};
    CHECK(logger.version() == 5);
    CHECK(logger.log_dir() == tmp.path / "exp" / "version_5");
    CSVLogger flat{{.save_dir = tmp.path / "flat", .name = ""}};
    CHECK(flat.log_dir() == tmp.path / "flat" / "version_0");
  }
  SECTION("reusing a version folder replaces the old metrics.csv at the first save") {
    const fs::path dir = tmp.path / "lightning_logs" / "version_3";
    volt_test::touch_dir(dir);
    std::ofstream(dir / "metrics.csv") << "old,step\r\n1,0\r\n";
    CSVLogger logger{{.save_dir = tmp.path, .version = 3}};
    logger.log_metrics({{"new", 2.0}}, 0);
    CHECK(slurp(dir / "metrics.csv") == "old,step\r\n1,0\r\n");  // untouched until the save
    logger.save();
    CHECK(slurp(dir / "metrics.csv") == "new,step\r\n2.0,0\r\n");
  }
}

TEST_CASE("CSVLogger writes hparams.yaml as yaml.dump does", "[loggers]") {
  LogTempDir tmp;
  CSVLogger logger{{.save_dir = tmp.path}};
  const fs::path yaml = tmp.path / "lightning_logs" / "version_0" / "hparams.yaml";

  SECTION("from a map") {
    logger.log_hyperparams(std::map<std::string, double>{{"lr", 0.001}});
    CHECK(slurp(yaml) == "lr: 0.001\n");
    logger.log_hyperparams(std::map<std::string, std::string>{{"optimizer", "Adam"}, {"flag", "true"}});
    logger.log_hyperparams(std::map<std::string, std::int64_t>{{"batch_size", 64}});
    CHECK(slurp(yaml) == "batch_size: 64\nflag: 'true'\nlr: 0.001\noptimizer: Adam\n");
  }
  SECTION("from a Hana-reflected struct, nested fields flattened with '/'") {
    ModelHParams hp{.lr = 0.001, .hidden = 128, .optimizer = "Adam", .amsgrad = false, .net = {.depth = 3, .act = "relu"},
                    .note = std::nullopt, .name = "yes", .eps = 1e-08f};
    logger.log_hyperparams(hp);
    // eps is a float widened to double, as torch would hand Lightning a float32 tensor's value.
    CHECK(slurp(yaml) ==
          "amsgrad: false\neps: 9.99999993922529e-09\nhidden: 128\nlr: 0.001\nname: 'yes'\nnet/act: relu\n"
          "net/depth: 3\nnote: null\noptimizer: Adam\n");
    const auto& keys = logger.hparams().items();
    REQUIRE(keys.size() == 9);
    CHECK(keys[0].first == "lr");  // field order kept in memory; the file is sorted
    CHECK(keys[4].first == "net/depth");
  }
  SECTION("nothing logged: no file; an empty dict: {}") {
    logger.save();
    CHECK_FALSE(fs::exists(yaml));
    logger.log_hyperparams(std::map<std::string, double>{});
    CHECK(slurp(yaml) == "{}\n");
  }
}
