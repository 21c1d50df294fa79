// expect: static assertion failed: volt: load_from_checkpoint<Module>.path.: volt cannot build the Module. Give it a member .hp.
//
// A module whose constructor needs an argument, without a member `hp` to rebuild it from:
// load_from_checkpoint cannot guess the argument, so it asks for it (the twin passes it).
#include <cstdint>
#include <filesystem>

#include <volt/checkpoint/load_from_checkpoint.hpp>

namespace {

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  explicit Model(std::int64_t in) { fc = register_module("fc", torch::nn::Linear(in, 1)); }
};

}  // namespace

int main(int argc, char**) {
  if (argc > 1) {  // never run: the case is about compiling
#ifdef VOLT_COMPILE_FAIL
    auto model = volt::load_from_checkpoint<Model>(std::filesystem::path("model.ckpt"));
#else
    auto model = volt::load_from_checkpoint<Model>(std::filesystem::path("model.ckpt"), std::int64_t{3});
#endif
    return model->fc->weight.numel() == 3 ? 0 : 1;
  }
  return 0;
}
