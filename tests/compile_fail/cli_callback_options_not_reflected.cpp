// expect: static assertion failed: volt: cli: a callback or logger among the Trainer's has an Options struct that is not reflected
//
// A callback in a LightningCLI program whose Options struct is a plain struct: the CLI cannot
// list its fields. The twin reflects it with BOOST_HANA_DEFINE_STRUCT.
#include <cstdint>
#include <string_view>

#include <boost/hana/define_struct.hpp>

#include <volt/cli/lightning_cli.hpp>

#include "case_support.hpp"

namespace {

struct HParams {
  BOOST_HANA_DEFINE_STRUCT(HParams, (double, lr));
};

struct Model : volt_cf::LinearModel {
  HParams hp{};
  explicit Model(HParams h) : hp(h) {}
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(hp.lr)); }
};

struct Data : volt_cf::Data {
  struct Options {
    BOOST_HANA_DEFINE_STRUCT(Options, (std::int64_t, batch_size));
  };
  explicit Data(Options) {}
};

struct PrintEpochs {
  static constexpr std::string_view cli_name = "print_epochs";
#ifdef VOLT_COMPILE_FAIL
  struct Options {
    std::int64_t every = 1;  // the mistake: not reflected
  };
#else
  struct Options {
    BOOST_HANA_DEFINE_STRUCT(Options, (std::int64_t, every));
  };
#endif
  explicit PrintEpochs(Options o) : options(o) {}
  void on_train_epoch_end(volt::Context&) {}
  Options options;
};

}  // namespace

int main(int argc, char** argv) {
  const volt::cli::LightningCLI<volt::Trainer<Model, Data, volt::SingleDevice, volt::precision::FP32, PrintEpochs>> cli;
  return cli.run(argc, argv);
}
