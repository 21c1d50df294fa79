// expect: static assertion failed: volt: state_dict\(\) returns nlohmann::json by value, but nlohmann::json is only declared here: #include <nlohmann/json\.hpp>
//
// In the separately compiled mode volt's headers declare nlohmann::json only (json_fwd.hpp). A
// callback whose state_dict() returns it by value, in a file that did not include
// <nlohmann/json.hpp>, gets one message naming the header. (Header-only mode includes it through
// volt's implementation files, so this case defines the fast mode itself; it is only compiled.)
#define VOLT_SEPARATE_COMPILATION 1
#include <cstdint>

#include <nlohmann/json_fwd.hpp>

#include "case_support.hpp"
#ifndef VOLT_COMPILE_FAIL
#include <nlohmann/json.hpp>  // the twin includes it; the mistake is leaving it out
#endif

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

}  // namespace

namespace user {

// Declared here, defined in another file (where <nlohmann/json.hpp> is included): a callback's
// state lives in compiled code, as volt's own callbacks keep theirs.
struct Counter {
  std::int64_t batches = 0;
  void on_train_batch_end() { ++batches; }
  nlohmann::json state_dict() const;
  void load_state_dict(const nlohmann::json& state);
};

}  // namespace user

int main() { volt_cf::fit_one_epoch<Model>(user::Counter{}); }
