// volt::Logger: the concept the Trainer constrains its loggers with. A user's own logger needs
// no base class, only the members.
#include <volt/loggers/csv_logger.hpp>
#include <volt/loggers/logger.hpp>
#include <volt/loggers/tensorboard_logger.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

// A logger that remembers what it was given: the smallest type that models volt::Logger.
struct MemoryLogger {
  std::vector<std::pair<std::int64_t, std::map<std::string, double>>> rows;
  volt::reflect::HParamDict hparams;
  std::string status;
  void log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) { rows.emplace_back(step, metrics); }
  template <class HParams>
  void log_hyperparams(const HParams& params) {
    hparams.update(volt::reflect::to_hparams(params));
  }
  void save() {}
  void finalize(std::string_view s) { status = s; }
  std::filesystem::path log_dir() const { return {}; }
  std::string name() const { return "memory"; }
  std::int64_t version() const { return 0; }
};

struct NoFinalize {
  void log_metrics(const std::map<std::string, double>&, std::int64_t) {}
  template <class HParams>
  void log_hyperparams(const HParams&) {}
  void save() {}
  std::filesystem::path log_dir() const { return {}; }
  std::string name() const { return {}; }
  std::int64_t version() const { return 0; }
};

struct MapOnlyHParams {  // log_hyperparams that cannot take a Hana struct
  void log_metrics(const std::map<std::string, double>&, std::int64_t) {}
  void log_hyperparams(const std::map<std::string, double>&) {}
  void save() {}
  void finalize(std::string_view) {}
  std::filesystem::path log_dir() const { return {}; }
  std::string name() const { return {}; }
  std::int64_t version() const { return 0; }
};

}  // namespace

TEST_CASE("volt::Logger accepts volt's loggers and user types with the members", "[loggers]") {
  STATIC_REQUIRE(volt::Logger<volt::loggers::CSVLogger>);
  STATIC_REQUIRE(volt::Logger<volt::loggers::TensorBoardLogger>);
  STATIC_REQUIRE(volt::Logger<MemoryLogger>);
  STATIC_REQUIRE_FALSE(volt::Logger<NoFinalize>);
  STATIC_REQUIRE_FALSE(volt::Logger<MapOnlyHParams>);
  STATIC_REQUIRE_FALSE(volt::Logger<int>);

  MemoryLogger logger;
  logger.log_metrics({{"loss", 0.5}}, 3);
  logger.log_hyperparams(std::map<std::string, std::string>{{"opt", "sgd"}});
  logger.finalize("interrupted");
  REQUIRE(logger.rows.size() == 1);
  CHECK(logger.rows[0].first == 3);
  CHECK(logger.hparams.size() == 1);
  CHECK(logger.status == "interrupted");
}
