#pragma once
// What the callback tests share: a Context over a RunState, a MetricStore and a tiny module,
// with ctx.save_checkpoint() recording each call and writing a small file (so file management
// is checked on a real temporary directory), and helpers that play the Trainer's part.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <volt/core/context.hpp>
#include <volt/core/metrics.hpp>
#include <volt/hooks/call.hpp>

namespace volt_test {

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / fmt::format("volt_cb_{:016x}", (std::uint64_t{rd()} << 32) | rd());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

struct TinyModule : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  TinyModule() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
};

struct SavedCheckpoint {
  std::filesystem::path path;
  bool weights_only = false;
  std::int64_t global_step = 0;
};

// The Trainer's part: run state, metrics, the module, and a save_checkpoint that records.
struct Harness {
  volt::RunState state;
  volt::MetricStore metrics;
  TinyModule module;
  volt::Context ctx{state, metrics, module};
  std::vector<SavedCheckpoint> saved;
  // What ctx.optimizers() returns, and the optimizers ctx.learning_rates() names, in its order
  // (several param groups: "<name>/pg1", "<name>/pg2", ...).
  std::vector<torch::optim::Optimizer*>& optimizers = state.facade.optimizers;
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> lr_names;

  Harness() {
    state.facade.save_checkpoint = [this](const std::filesystem::path& path, bool weights_only) {
      saved.push_back({path, weights_only, state.global_step});
      std::ofstream(path) << "checkpoint at step " << state.global_step << '\n';
    };
    state.facade.learning_rates = [this] {
      std::vector<std::pair<std::string, double>> out;
      for (const auto& [name, opt] : lr_names) {
        const auto& groups = opt->param_groups();
        for (std::size_t g = 0; g < groups.size(); ++g)
          out.emplace_back(groups.size() > 1 ? fmt::format("{}/pg{}", name, g + 1) : name, groups[g].options().get_lr());
      }
      return out;
    };
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // Logs `name` from a validation hook and ends the validation epoch, so ctx.metric(name) sees it.
  void log_validation(const std::string& name, double value) {
    const auto previous = state.family;
    state.family = volt::HookFamily::validation;
    ctx.log(name, value);
    metrics.end_epoch(volt::HookFamily::validation);
    state.family = previous;
  }

  // Calls a hook on a callback the way the Trainer does (found at compile time, Context last).
  template <class Hook, class Callback, class... A>
  void emit(Hook hook, Callback& cb, A&&... args) {
    volt::hooks::call(hook, cb, ctx, std::forward<A>(args)...);
  }
};

// The checkpoint files in `dir` (names only).
inline std::set<std::string> files_in(const std::filesystem::path& dir) {
  std::set<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

}  // namespace volt_test
