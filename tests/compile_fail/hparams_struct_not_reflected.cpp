// expect: static assertion failed: volt: log_hyperparams takes a std::map<std::string, V>
//
// A module's `hp` member as a plain struct: the loggers cannot see its fields. Reflect it with
// BOOST_HANA_DEFINE_STRUCT (the twin).
#include <cstdint>

#include <boost/hana/define_struct.hpp>

#include "case_support.hpp"

namespace {

#ifdef VOLT_COMPILE_FAIL
struct HParams {
  double lr = 0.1;  // the mistake: not reflected
};
#else
struct HParams {
  BOOST_HANA_DEFINE_STRUCT(HParams, (double, lr));
};
#endif

struct Model : volt_cf::LinearModel {
  HParams hp{};
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(hp.lr)); }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
