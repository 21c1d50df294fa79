// expect: static assertion failed: volt: cli: LightningCLI builds the Module as Module\(hp\)
//
// LightningCLI builds the Module from its `hp` member's type: a Module without a constructor
// taking its hyper-parameter struct cannot be built. The twin has that constructor.
#include <cstdint>

#include <boost/hana/define_struct.hpp>

#include <volt/cli/lightning_cli.hpp>

#include "case_support.hpp"

namespace {

struct HParams {
  BOOST_HANA_DEFINE_STRUCT(HParams, (double, lr));
};

struct Model : volt_cf::LinearModel {
  HParams hp{};
#ifdef VOLT_COMPILE_FAIL
  explicit Model(double lr) : hp{lr} {}  // the mistake: not Model(HParams)
#else
  explicit Model(HParams h) : hp(h) {}
#endif
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(hp.lr)); }
};

struct Data : volt_cf::Data {
  struct Options {
    BOOST_HANA_DEFINE_STRUCT(Options, (std::int64_t, batch_size));
  };
  explicit Data(Options) {}
};

}  // namespace

int main(int argc, char** argv) {
  const volt::cli::LightningCLI<volt::Trainer<Model, Data>> cli;
  return cli.run(argc, argv);
}
