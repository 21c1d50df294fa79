// Exact resume: a fit stopped at any batch (mid-epoch, inside an accumulation window, right
// after an epoch-interval scheduler step) and resumed from its checkpoint ends with weights,
// optimizer state and logged metrics bit-identical to the same fit run without a stop. The
// stop comes from SIGTERM, in this process and from another process, as a cluster sends it.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("volt_resume_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Dropout (random numbers), shuffling, accumulation, an epoch-interval scheduler and logged
// epoch means: everything that must be restored for a resume to be exact.
struct ResumeModel : torch::nn::Module {
  torch::nn::Linear fc1{register_module("fc1", torch::nn::Linear(4, 16))};
  torch::nn::Dropout dropout{register_module("dropout", torch::nn::Dropout(0.3))};
  torch::nn::Linear fc2{register_module("fc2", torch::nn::Linear(16, 1))};
  std::int64_t sigterm_at_batch = -1;  // raise SIGTERM while training this batch (counted over the fit)
  std::int64_t batches = 0;
  std::chrono::milliseconds step_sleep{0};
  std::vector<torch::Tensor> optimizer_state;  // Adam's moments, read at the end of fit

  torch::Tensor training_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    if (batches++ == sigterm_at_batch) std::raise(SIGTERM);
    if (step_sleep.count() > 0) std::this_thread::sleep_for(step_sleep);
    auto loss = torch::mse_loss(fc2(dropout(torch::relu(fc1(b.data)))), b.target);
    ctx.log("train_loss", loss, {.on_step = true, .on_epoch = true});
    return loss;
  }
  torch::Tensor validation_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    auto loss = torch::mse_loss(fc2(torch::relu(fc1(b.data))), b.target);
    ctx.log("val_loss", loss);
    return loss;
  }
  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::Adam(parameters(), torch::optim::AdamOptions(1e-2)),
                                volt::optim::StepLR{{.step_size = 1, .gamma = 0.7}}, {.interval = volt::Interval::epoch});
  }
  void on_train_end(volt::Context& ctx) {
    optimizer_state.clear();
    auto* opt = ctx.optimizers().at(0);
    for (auto& group : opt->param_groups())
      for (auto& p : group.params()) {
        auto& s = static_cast<torch::optim::AdamParamState&>(*opt->state().at(c10::guts::to_string(p.unsafeGetTensorImpl())));
        optimizer_state.push_back(s.exp_avg().clone());
        optimizer_state.push_back(s.exp_avg_sq().clone());
      }
  }
};

struct ResumeData {
  torch::Tensor x = torch::linspace(-2, 2, 64 * 4).reshape({64, 4});
  torch::Tensor y = x.sin().sum(1, true);
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 8, .shuffle = true, .seed = 5}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 32}}; }
};

using ResumeTrainer = volt::Trainer<ResumeModel, ResumeData>;

volt::TrainerOptions resume_options(const fs::path& root) {
  return {.logger = false, .max_epochs = 3, .val_check_interval = 0.5, .enable_checkpointing = false,
          .enable_progress_bar = false, .enable_model_summary = false, .accumulate_grad_batches = 3,
          .default_root_dir = root};
}

struct Outcome {
  std::vector<torch::Tensor> weights, optimizer_state;
  std::map<std::string, double> metrics;
  std::int64_t global_step = 0;
};

Outcome outcome_of(ResumeModel& m, ResumeTrainer& t) {
  Outcome o;
  for (const auto& p : m.parameters()) o.weights.push_back(p.detach().clone());
  o.optimizer_state = m.optimizer_state;
  o.metrics = t.callback_metrics();
  o.global_step = t.global_step();
  return o;
}

void require_identical(const Outcome& a, const Outcome& b) {
  REQUIRE(a.weights.size() == b.weights.size());
  for (std::size_t i = 0; i < a.weights.size(); ++i) CHECK(torch::equal(a.weights[i], b.weights[i]));
  REQUIRE(a.optimizer_state.size() == b.optimizer_state.size());
  for (std::size_t i = 0; i < a.optimizer_state.size(); ++i) CHECK(torch::equal(a.optimizer_state[i], b.optimizer_state[i]));
  CHECK(a.metrics == b.metrics);
  CHECK(a.global_step == b.global_step);
}

Outcome uninterrupted(const fs::path& root) {
  volt::seed_everything(21);
  ResumeModel m;
  ResumeData d;
  ResumeTrainer t(resume_options(root));
  const auto result = t.fit(m, d);
  REQUIRE(result.status == volt::FitStatus::finished);
  return outcome_of(m, t);
}

Outcome resumed_from(const fs::path& checkpoint, const fs::path& root) {
  volt::seed_everything(999);  // a different start: everything must come from the checkpoint
  ResumeModel m;
  ResumeData d;
  ResumeTrainer t(resume_options(root));
  const auto result = t.fit(m, d, {.ckpt_path = checkpoint.string()});
  REQUIRE(result.status == volt::FitStatus::finished);
  return outcome_of(m, t);
}

}  // namespace

TEST_CASE("a fit stopped by SIGTERM at any batch resumes to bit-identical weights, optimizer and metrics",
          "[checkpoint][resume]") {
  TempDir dir;
  const Outcome reference = uninterrupted(dir.path / "reference");
  // batch 2: inside the first accumulation window; 4: one step done, mid-window; 7: the last batch
  // of epoch 0 (epoch scheduler stepped, validation ran); 13: mid-epoch 1 after a mid-epoch validation
  for (std::int64_t stop_at : {2, 4, 7, 13}) {
    DYNAMIC_SECTION("stopped while training batch " << stop_at) {
      const fs::path root = dir.path / ("stop_" + std::to_string(stop_at));
      volt::seed_everything(21);
      ResumeModel m;
      m.sigterm_at_batch = stop_at;
      ResumeData d;
      ResumeTrainer t(resume_options(root));
      const auto result = t.fit(m, d);
      REQUIRE(result.status == volt::FitStatus::preempted);
      REQUIRE(fs::exists(result.checkpoint));
      CHECK(m.batches == stop_at + 1);  // the batch in flight finished; nothing after it ran
      require_identical(reference, resumed_from(result.checkpoint, root));
    }
  }
}

TEST_CASE("SIGTERM from another process: the child writes a checkpoint and the resume matches", "[checkpoint][resume]") {
  TempDir dir;
  const Outcome reference = uninterrupted(dir.path / "reference");
  const fs::path child_root = dir.path / "child";
  fs::create_directories(child_root);
  const std::string env_dir = "VOLT_PREEMPT_CHILD_DIR=" + child_root.string();
  std::vector<std::string> args = {"/proc/self/exe", "[.preempt_child]"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  std::string env_copy = env_dir;
  envp.push_back(env_copy.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), envp.data()) == 0);
  const auto started = child_root / "started";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(started) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(fs::exists(started));
  ::kill(pid, SIGTERM);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const auto checkpoint = child_root / "preempted.ckpt";
  REQUIRE(fs::exists(checkpoint));
  require_identical(reference, resumed_from(checkpoint, child_root));
}

// Run by the test above in a child process: trains slowly until SIGTERM arrives.
TEST_CASE("preempted child", "[.preempt_child]") {
  const char* dir = std::getenv("VOLT_PREEMPT_CHILD_DIR");
  REQUIRE(dir != nullptr);
  volt::seed_everything(21);
  ResumeModel m;
  m.step_sleep = std::chrono::milliseconds(30);
  ResumeData d;
  struct StartedMarker {
    fs::path file;
    void on_train_batch_end() {
      if (!fs::exists(file)) std::ofstream(file) << "started\n";
    }
  };
  volt::Trainer<ResumeModel, ResumeData, volt::SingleDevice, volt::precision::FP32, StartedMarker> trainer(
      resume_options(dir), volt::SingleDevice{}, volt::precision::FP32{}, StartedMarker{fs::path(dir) / "started"});
  const auto result = trainer.fit(m, d);
  REQUIRE(result.status == volt::FitStatus::preempted);
}

TEST_CASE("a corrupt or mismatched checkpoint is refused with the file named and the model untouched",
          "[checkpoint][resume]") {
  TempDir dir;
  volt::seed_everything(21);
  ResumeModel m;
  m.sigterm_at_batch = 3;
  ResumeData d;
  ResumeTrainer t(resume_options(dir.path));
  const auto result = t.fit(m, d);
  REQUIRE(result.status == volt::FitStatus::preempted);

  SECTION("truncated") {
    const auto bad = dir.path / "truncated.ckpt";
    fs::copy_file(result.checkpoint, bad);
    fs::resize_file(bad, fs::file_size(bad) / 2);
    ResumeModel fresh;
    std::vector<torch::Tensor> before;
    for (const auto& p : fresh.parameters()) before.push_back(p.detach().clone());
    ResumeTrainer t2(resume_options(dir.path));
    REQUIRE_THROWS_WITH(t2.fit(fresh, d, {.ckpt_path = bad.string()}), Catch::Contains(bad.string()));
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(torch::equal(before[i], fresh.parameters()[i]));
  }
  SECTION("another optimizer") {
    struct OtherOptimizer : ResumeModel {
      auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
    };
    OtherOptimizer fresh;
    std::vector<torch::Tensor> before;
    for (const auto& p : fresh.parameters()) before.push_back(p.detach().clone());
    volt::Trainer<OtherOptimizer, ResumeData> t2(resume_options(dir.path));
    REQUIRE_THROWS_WITH(t2.fit(fresh, d, {.ckpt_path = result.checkpoint.string()}),
                        Catch::Contains(result.checkpoint.string()) && Catch::Contains("left as it was"));
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(torch::equal(before[i], fresh.parameters()[i]));
  }
  SECTION("a missing file") {
    ResumeModel fresh;
    ResumeTrainer t2(resume_options(dir.path));
    REQUIRE_THROWS_WITH(t2.fit(fresh, d, {.ckpt_path = (dir.path / "nope.ckpt").string()}),
                        Catch::Contains("no such file"));
  }
}

namespace {
// A precision policy with state (as fp16's grad scaler has): the number of optimizer steps it
// has taken, which must survive a preemption and resume.
struct CountingPrecision : volt::precision::FP32 {
  std::int64_t steps = 0;
  template <class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Optimizer& optimizer, Closure& closure, Hooks& hooks) {
    ++steps;
    return volt::precision::FP32::optimizer_step(optimizer, closure, hooks);
  }
  nlohmann::json state_dict() const { return {{"steps", steps}}; }
  void load_state_dict(const nlohmann::json& state) { steps = state.at("steps").get<std::int64_t>(); }
};
using CountingTrainer = volt::Trainer<ResumeModel, ResumeData, volt::SingleDevice, CountingPrecision>;
}  // namespace

TEST_CASE("a precision policy's state is saved in the checkpoint and restored on resume", "[checkpoint][resume]") {
  TempDir dir;
  volt::seed_everything(21);
  ResumeModel m;
  ResumeData d;
  CountingTrainer full(resume_options(dir.path / "full"));
  full.fit(m, d);
  const std::int64_t all_steps = full.precision().steps;
  REQUIRE(all_steps == full.global_step());

  volt::seed_everything(21);
  ResumeModel stopped;
  stopped.sigterm_at_batch = 13;
  CountingTrainer first(resume_options(dir.path / "stopped"));
  const auto result = first.fit(stopped, d);
  REQUIRE(result.status == volt::FitStatus::preempted);
  REQUIRE(first.precision().steps > 0);
  REQUIRE(first.precision().steps < all_steps);

  ResumeModel resumed;
  CountingTrainer second(resume_options(dir.path / "stopped"));
  REQUIRE(second.precision().steps == 0);
  second.fit(resumed, d, {.ckpt_path = result.checkpoint.string()});
  CHECK(second.precision().steps == all_steps);  // restored from the checkpoint, then counted on
}
