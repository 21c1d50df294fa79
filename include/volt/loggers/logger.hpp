#pragma once
// volt::Logger: what the Trainer needs of a logger (Lightning's `Logger` base class, as a
// concept). Loggers are values whose types are part of the Trainer's type, so there is no base
// class and no dynamic dispatch: a type that has these members is a logger.
//
//   void log_metrics(const std::map<std::string, double>& metrics, std::int64_t step);
//   template <class HParams> void log_hyperparams(const HParams&);  // a map or a Hana struct
//   void save();                                  // flush what is buffered
//   void finalize(std::string_view status);       // "success" / "failed" / "interrupted"
//   std::filesystem::path log_dir() const;        // <save_dir>/<name>/version_<N>
//   std::string name() const;
//   std::int64_t version() const;
//
// log_hyperparams is a template, which a concept cannot quantify over: it is checked with a
// std::map of each value kind and with one small Hana-reflected struct, which is what the
// Trainer will pass.
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include <boost/hana/define_struct.hpp>

#include <volt/reflect/hparams.hpp>

namespace volt {

namespace loggers::detail {
struct HParamsProbe {
  BOOST_HANA_DEFINE_STRUCT(HParamsProbe, (double, lr), (std::int64_t, hidden), (std::string, optimizer));
};
}  // namespace loggers::detail

template <class L>
concept Logger = requires(L& logger, const L& const_logger, const std::map<std::string, double>& metrics,
                          std::int64_t step, std::string_view status) {
  { logger.log_metrics(metrics, step) } -> std::same_as<void>;
  { logger.log_hyperparams(std::map<std::string, double>{}) } -> std::same_as<void>;
  { logger.log_hyperparams(std::map<std::string, std::int64_t>{}) } -> std::same_as<void>;
  { logger.log_hyperparams(std::map<std::string, std::string>{}) } -> std::same_as<void>;
  { logger.log_hyperparams(reflect::HParamDict{}) } -> std::same_as<void>;
  { logger.log_hyperparams(loggers::detail::HParamsProbe{}) } -> std::same_as<void>;
  { logger.save() } -> std::same_as<void>;
  { logger.finalize(status) } -> std::same_as<void>;
  { const_logger.log_dir() } -> std::convertible_to<std::filesystem::path>;
  { const_logger.name() } -> std::convertible_to<std::string>;
  { const_logger.version() } -> std::convertible_to<std::int64_t>;
};

}  // namespace volt
