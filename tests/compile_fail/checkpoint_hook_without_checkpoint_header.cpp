// expect: static assertion failed: volt: the module or a callback has on_save_checkpoint / on_load_checkpoint, but volt::Checkpoint is only declared here: #include <volt/checkpoint/checkpoint_hooks\.hpp>
//
// In the separately compiled mode <volt/volt.hpp> declares volt::Checkpoint without defining it
// (it holds an nlohmann::json, and <nlohmann/json.hpp> costs a TU about 1.8 s): a module with
// on_save_checkpoint must include <volt/checkpoint/checkpoint_hooks.hpp>. Forgetting it is one
// message naming the header, not a wall of incomplete-type errors. (Header-only mode includes it
// through the umbrella, so this case defines the fast mode itself; it is only compiled.)
#define VOLT_SEPARATE_COMPILATION 1
#include <cstdint>

#include "case_support.hpp"
#ifndef VOLT_COMPILE_FAIL
#include <volt/checkpoint/checkpoint_hooks.hpp>  // the twin includes it; the mistake is leaving it out
#endif

namespace {

struct Model : volt_cf::LinearModel {
  std::int64_t saves = 0;
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
  void on_save_checkpoint(volt::Checkpoint&) { ++saves; }
};

}  // namespace

int main() { volt_cf::fit_one_epoch<Model>(); }
