// Exact resume: a fit stopped at any batch (mid-epoch, inside an accumulation window, right
// after an epoch-interval scheduler step) and resumed from its checkpoint ends with weights,
// optimizer state and logged metrics bit-identical to the same fit run without a stop. The
// stop comes from SIGTERM, in this process and from another process, as a cluster sends it.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode
#include <volt/checkpoint/checkpoint_hooks.hpp>  // volt::Checkpoint: the umbrella leaves it out in the fast mode

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
    auto* opt = ctx.raw_optimizers().at(0);
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

template <class Trainer>
Outcome outcome_of(ResumeModel& m, Trainer& t) {
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

// ---- Resume from every kind of checkpoint volt writes --------------------------------------

namespace {

using CheckpointingTrainer =
    volt::Trainer<ResumeModel, ResumeData, volt::SingleDevice, volt::precision::FP32, volt::ModelCheckpoint>;

volt::TrainerOptions checkpointing_options(const fs::path& root) {
  auto o = resume_options(root);
  o.enable_checkpointing = true;
  return o;
}

// Copies last.ckpt each time it changed, so that every version it had can be resumed from.
struct LastCopies {
  fs::path last, into;
  std::string previous;
  int n = 0;
  void copy() {
    if (!fs::exists(last)) return;
    std::ifstream in(last, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes == previous) return;
    previous = bytes;
    fs::create_directories(into);
    std::ofstream(into / ("last-" + std::to_string(n++) + ".ckpt"), std::ios::binary) << bytes;
  }
  void on_train_batch_start() { copy(); }
  void on_train_end() { copy(); }
};

std::vector<fs::path> ckpt_files(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".ckpt") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("a fit resumed from any checkpoint volt writes ends bit-identical to the fit that was not stopped",
          "[checkpoint][resume]") {
  TempDir dir;
  const Outcome reference = uninterrupted(dir.path / "reference");
  struct Kind {
    const char* name;
    volt::ModelCheckpoint::Options options;
    std::size_t at_least;  // files the fit writes (3 epochs of 8 batches, a step every 3 batches)
  };
  const std::vector<Kind> kinds = {
      {"every train step (on_train_batch_end)", {.save_top_k = -1, .every_n_train_steps = 1}, 9},
      {"every epoch (on_train_epoch_end)", {.save_top_k = -1, .every_n_epochs = 1, .save_on_train_epoch_end = true}, 3},
      {"mid-epoch validation (on_validation_end)", {.save_top_k = -1, .every_n_epochs = 1}, 6},
      {"last.ckpt", {.save_last = true, .save_top_k = 0, .every_n_train_steps = 1}, 9},
  };
  for (const auto& kind : kinds) {
    DYNAMIC_SECTION(kind.name) {
      const fs::path root = dir.path / "run";
      auto options = kind.options;
      options.dirpath = root / "ckpts";
      volt::seed_everything(21);
      ResumeModel m;
      ResumeData d;
      volt::Trainer<ResumeModel, ResumeData, volt::SingleDevice, volt::precision::FP32, LastCopies, volt::ModelCheckpoint>
          t(checkpointing_options(root), volt::SingleDevice{}, volt::precision::FP32{},
            LastCopies{options.dirpath / "last.ckpt", root / "last_copies", {}, 0}, volt::ModelCheckpoint{options});
      REQUIRE(t.fit(m, d).status == volt::FitStatus::finished);
      {
        INFO("writing checkpoints does not change the run");
        require_identical(reference, outcome_of(m, t));
      }
      std::vector<fs::path> files = kind.options.save_last ? ckpt_files(root / "last_copies") : ckpt_files(options.dirpath);
      REQUIRE(files.size() >= kind.at_least);
      for (const auto& file : files) {
        INFO("resumed from " << file.filename().string());
        require_identical(reference, resumed_from(file, dir.path / "resumed"));
      }
    }
  }
}

// ---- SIGKILL during and right after a periodic write ------------------------------------------

namespace {

extern "C" void volt_test_kill_self(int) { std::raise(SIGKILL); }

// At `step`, before ModelCheckpoint saves: files may grow to `limit` bytes only, and the signal
// for a write past it becomes SIGKILL, so the process dies in the middle of writing the
// temporary file of its next checkpoint (as at a power loss or the OOM killer).
struct KillDuringWrite {
  std::int64_t step;
  rlim_t limit;
  void on_train_batch_end(volt::Context& ctx) {
    if (ctx.global_step() != step) return;
    std::signal(SIGXFSZ, &volt_test_kill_self);
    const rlimit small{limit, limit};
    ::setrlimit(RLIMIT_FSIZE, &small);
  }
};

// Runs after ModelCheckpoint (a checkpoint callback, ordered last): SIGKILL right after the
// checkpoint of `step` was written.
struct KillAfterWrite {
  static constexpr bool checkpoint_callback = true;
  std::int64_t step;
  void on_train_batch_end(volt::Context& ctx) {
    if (ctx.global_step() == step) std::raise(SIGKILL);
  }
};

// Runs `child` in a fork of this process; returns its wait status.
template <class F>
int in_forked_child(F child) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    child();
    std::_Exit(3);  // the child was meant to be killed
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST_CASE("a fit killed by SIGKILL during or right after a periodic checkpoint write resumes bit-identically",
          "[checkpoint][resume]") {
  TempDir dir;
  const Outcome reference = uninterrupted(dir.path / "reference");
  const volt::ModelCheckpoint::Options every_step{.save_last = true, .save_top_k = -1, .every_n_train_steps = 1};
  constexpr std::int64_t kill_step = 5;  // epoch 1, after its first step

  SECTION("killed while the temporary file of step 5's checkpoint is half written") {
    const fs::path root = dir.path / "during";
    auto options = every_step;
    options.dirpath = root / "ckpts";
    // A checkpoint of this model is a few KB: 2000 bytes cut the write in the middle.
    const int status = in_forked_child([&] {
      volt::seed_everything(21);
      ResumeModel m;
      ResumeData d;
      volt::Trainer<ResumeModel, ResumeData, volt::SingleDevice, volt::precision::FP32, KillDuringWrite,
                    volt::ModelCheckpoint>
          t(checkpointing_options(root), volt::SingleDevice{}, volt::precision::FP32{}, KillDuringWrite{kill_step, 2000},
            volt::ModelCheckpoint{options});
      t.fit(m, d);
    });
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    std::vector<fs::path> leftovers;
    for (const auto& e : fs::directory_iterator(options.dirpath))
      if (e.path().filename().string().find(".tmp-") != std::string::npos) leftovers.push_back(e.path());
    REQUIRE(leftovers.size() == 1);                        // the torn write, never renamed
    CHECK(fs::file_size(leftovers[0]) <= 2000);
    CHECK_FALSE(fs::exists(options.dirpath / "epoch=1-step=5.ckpt"));
    REQUIRE(fs::exists(options.dirpath / "epoch=1-step=4.ckpt"));
    // Resume from what is on disk (last.ckpt: step 4), with checkpointing into the same folder.
    volt::seed_everything(999);
    ResumeModel m;
    ResumeData d;
    CheckpointingTrainer t(checkpointing_options(root), volt::SingleDevice{}, volt::precision::FP32{},
                           volt::ModelCheckpoint{options});
    REQUIRE(t.fit(m, d, {.ckpt_path = (options.dirpath / "last.ckpt").string()}).status == volt::FitStatus::finished);
    require_identical(reference, outcome_of(m, t));
    CHECK_FALSE(fs::exists(leftovers[0]));  // the next write removed the dead writer's temporary
  }
  SECTION("killed right after step 5's checkpoint was written") {
    const fs::path root = dir.path / "after";
    auto options = every_step;
    options.dirpath = root / "ckpts";
    const int status = in_forked_child([&] {
      volt::seed_everything(21);
      ResumeModel m;
      ResumeData d;
      volt::Trainer<ResumeModel, ResumeData, volt::SingleDevice, volt::precision::FP32, volt::ModelCheckpoint,
                    KillAfterWrite>
          t(checkpointing_options(root), volt::SingleDevice{}, volt::precision::FP32{}, volt::ModelCheckpoint{options},
            KillAfterWrite{kill_step});
      t.fit(m, d);
    });
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    REQUIRE(fs::exists(options.dirpath / "epoch=1-step=5.ckpt"));
    for (const auto& file : {options.dirpath / "last.ckpt", options.dirpath / "epoch=1-step=5.ckpt"}) {
      INFO("resumed from " << file.filename().string());
      require_identical(reference, resumed_from(file, dir.path / "resumed"));
    }
  }
}

// ---- A corpus of damaged checkpoints: each load succeeds, or fails and changes nothing ---------

namespace {

// The same parameter names as ResumeModel, other shapes.
struct WideModel : torch::nn::Module {
  torch::nn::Linear fc1{register_module("fc1", torch::nn::Linear(4, 24))};
  torch::nn::Dropout dropout{register_module("dropout", torch::nn::Dropout(0.3))};
  torch::nn::Linear fc2{register_module("fc2", torch::nn::Linear(24, 1))};
  auto configure_optimizers() {
    return volt::with_scheduler(torch::optim::Adam(parameters(), torch::optim::AdamOptions(1e-2)),
                                volt::optim::StepLR{{.step_size = 1, .gamma = 0.7}}, {.interval = volt::Interval::epoch});
  }
};

// A fit's run and optimization, built by hand so that the test can look at the optimizers after a
// load failed (inside fit they are gone by then).
template <class Module>
struct LiveRun {
  Module module;
  ResumeData data;
  volt::SingleDevice strategy{torch::Device(torch::kCPU)};
  volt::precision::FP32 precision;
  volt::TrainerOptions options;
  volt::RunState state;
  volt::MetricStore metrics;
  volt::loops::Run<Module, ResumeData, volt::SingleDevice, volt::precision::FP32> run{
      module, data, strategy, precision, std::tuple<>{}, options, state, metrics};
  decltype(volt::optim::normalize(std::declval<Module&>().configure_optimizers())) optimization =
      volt::optim::normalize(module.configure_optimizers());

  explicit LiveRun(int steps) {
    // Optimizer state, a scheduler step and gradients left over: all must survive a failed load.
    for (int i = 0; i < steps; ++i) {
      auto x = torch::randn({8, 4});
      torch::mse_loss(module.fc2(torch::relu(module.fc1(x))), x.sum(1, true)).backward();
      optimization.for_each_optimizer([](auto& opt, std::size_t) { static_cast<torch::optim::Optimizer&>(opt).step(); });
    }
    optimization.for_each_lr_scheduler([](auto& sched, auto&, std::size_t) { sched.step(); });
    metrics.log("loss", torch::tensor(0.25), {}, volt::HookFamily::train_step, 8);
  }
};

std::string optimization_bytes(auto& optimization) {
  torch::serialize::OutputArchive archive;
  optimization.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return std::move(out).str();
}

// Each optimizer's per-parameter state and group options, in parameter order: comparable
// between two runs (the archive itself keys states by tensor addresses).
std::vector<std::string> optimizer_states(auto& optimization) {
  std::vector<std::string> out;
  const auto bytes = [](auto&& serializable) {
    torch::serialize::OutputArchive archive;
    serializable.serialize(archive);
    std::ostringstream text;
    archive.save_to(text);
    return std::move(text).str();
  };
  optimization.for_each_optimizer([&](auto& opt, std::size_t) {
    torch::optim::Optimizer& base = opt;
    for (auto& group : base.param_groups()) {
      out.push_back(bytes(group.options()));
      for (auto& p : group.params()) {
        const auto it = base.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
        out.push_back(it == base.state().end() ? std::string("none") : bytes(*it->second));
      }
    }
  });
  return out;
}

struct Fingerprint {
  std::vector<torch::Tensor> params, grads;
  std::string optimization;
  std::vector<std::string> optimizer_states;
  torch::Tensor rng;
  std::string metrics;
};

template <class Live>
Fingerprint fingerprint(Live& live) {
  Fingerprint f;
  for (const auto& p : live.module.parameters()) {
    f.params.push_back(p.detach().clone());
    f.grads.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor{});
  }
  f.optimization = optimization_bytes(live.optimization);
  f.optimizer_states = optimizer_states(live.optimization);
  f.rng = at::detail::getDefaultCPUGenerator().get_state();
  f.metrics = live.metrics.state().dump();
  return f;
}

bool same_tensors(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].defined() != b[i].defined() || (a[i].defined() && !torch::equal(a[i], b[i]))) return false;
  return true;
}

bool same(const Fingerprint& a, const Fingerprint& b) {
  return same_tensors(a.params, b.params) && same_tensors(a.grads, b.grads) && a.optimization == b.optimization &&
         torch::equal(a.rng, b.rng) && a.metrics == b.metrics;
}

// A checkpoint's sections as raw payloads, and the file put back together with valid CRCs: a
// semantically wrong file that every CRC check passes.
struct RawSection {
  std::string name, kind, payload;
};

std::vector<RawSection> raw_sections(const std::string& bytes) {
  const auto reader = volt::checkpoint::CheckpointReader::from_bytes(bytes, "raw");
  std::uint64_t header_length = 0;
  for (int i = 0; i < 8; ++i) header_length |= std::uint64_t{static_cast<unsigned char>(bytes[12 + i])} << (8 * i);
  const std::size_t start = 24 + header_length;
  std::vector<RawSection> out;
  for (const auto& s : reader.sections())
    out.push_back({s.name, std::string(volt::checkpoint::to_string(s.kind)), bytes.substr(start + s.offset, s.length)});
  return out;
}

std::string assemble(const std::vector<RawSection>& sections) {
  nlohmann::json list = nlohmann::json::array();
  std::uint64_t offset = 0;
  for (const auto& s : sections) {
    list.push_back({{"name", s.name},
                    {"kind", s.kind},
                    {"offset", offset},
                    {"length", s.payload.size()},
                    {"crc32", ::crc32(0, reinterpret_cast<const Bytef*>(s.payload.data()), s.payload.size())}});
    offset += s.payload.size();
  }
  const std::string header = nlohmann::json{{"format", "volt-checkpoint"}, {"sections", list}}.dump();
  std::string out = "VOLTCKPT";
  auto le = [&](std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  le(1, 4);
  le(header.size(), 8);
  uLong crc = ::crc32(0, reinterpret_cast<const Bytef*>(out.data() + 8), 12);
  crc = ::crc32(crc, reinterpret_cast<const Bytef*>(header.data()), header.size());
  le(crc, 4);
  out += header;
  for (const auto& s : sections) out += s.payload;
  return out;
}

std::string tensors_payload(const volt::checkpoint::NamedTensors& tensors) {
  volt::checkpoint::CheckpointWriter w;
  w.add_tensors("t", tensors);
  return raw_sections(w.to_bytes()).at(0).payload;
}

// A safetensors image written by hand, for shapes no tensor can have.
std::string handmade_tensors_payload(const std::string& name, const std::string& shape, const std::string& offsets,
                                     std::size_t data_bytes) {
  std::string header = "{\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
  while (header.size() % 8 != 0) header += ' ';
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((static_cast<std::uint64_t>(header.size()) >> (8 * i)) & 0xFF));
  return out + header + std::string(data_bytes, '\0');
}

std::string with_section(std::vector<RawSection> sections, const std::string& name, std::optional<std::string> payload,
                         std::string kind = {}) {
  auto it = std::find_if(sections.begin(), sections.end(), [&](const auto& s) { return s.name == name; });
  if (!payload) {
    if (it != sections.end()) sections.erase(it);
  } else if (it != sections.end()) {
    it->payload = *payload;
    if (!kind.empty()) it->kind = kind;
  } else {
    sections.push_back({name, kind.empty() ? "json" : kind, *payload});
  }
  return assemble(sections);
}

std::string with_meta(const std::vector<RawSection>& sections, const std::function<void(nlohmann::json&)>& edit) {
  const auto it = std::find_if(sections.begin(), sections.end(), [](const auto& s) { return s.name == "meta"; });
  nlohmann::json meta = nlohmann::json::parse(it->payload);
  edit(meta);
  return with_section(sections, "meta", meta.dump());
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("damaged and semantically wrong checkpoints either load in full or leave module, optimizers and RNG untouched",
          "[checkpoint][resume][corpus]") {
  TempDir dir;
  // The checkpoint every case starts from: a run in another state than the one loading it.
  volt::seed_everything(3);
  LiveRun<ResumeModel> source(4);
  const fs::path good = dir.path / "good.ckpt";
  volt::checkpoint::save_trainer_checkpoint(source.run, source.optimization, good, false);
  const Fingerprint source_state = fingerprint(source);
  const std::string bytes = read_bytes(good);
  const auto sections = raw_sections(bytes);

  // Other shapes, the same names: an optimizer state that libtorch's load would accept.
  volt::seed_everything(4);
  LiveRun<WideModel> wide(2);
  const fs::path wide_file = dir.path / "wide.ckpt";
  volt::checkpoint::save_trainer_checkpoint(wide.run, wide.optimization, wide_file, false);
  const auto wide_sections = raw_sections(read_bytes(wide_file));
  const auto section_of = [](const std::vector<RawSection>& from, const std::string& name) {
    return std::find_if(from.begin(), from.end(), [&](const auto& s) { return s.name == name; })->payload;
  };

  std::vector<std::pair<std::string, std::string>> corpus;  // (what, file bytes)
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{8}, std::size_t{23}, std::size_t{24},
                          std::size_t{25}, bytes.size() - 1})
    corpus.emplace_back(fmt::format("truncated to {} bytes", cut), bytes.substr(0, cut));
  for (std::size_t i = 1; i <= 40; ++i) {
    const std::size_t cut = bytes.size() * i / 41;
    corpus.emplace_back(fmt::format("truncated to {} bytes", cut), bytes.substr(0, cut));
  }
  for (std::size_t i = 0; i < 80; ++i) {
    std::string flipped = bytes;
    const std::size_t at = (i * 7919) % bytes.size();
    flipped[at] = static_cast<char>(flipped[at] ^ (i % 2 == 0 ? 0xFF : 0x01));
    corpus.emplace_back(fmt::format("byte {} flipped", at), flipped);
  }
  corpus.emplace_back("one byte appended", bytes + "x");
  for (const char* field : {"global_step", "epoch", "batches_done", "epoch_complete"}) {
    corpus.emplace_back(fmt::format("meta without {}", field), with_meta(sections, [&](auto& m) { m.erase(field); }));
    corpus.emplace_back(fmt::format("meta with {} a string", field), with_meta(sections, [&](auto& m) { m[field] = "3"; }));
    corpus.emplace_back(fmt::format("meta with {} a float", field), with_meta(sections, [&](auto& m) { m[field] = 1.5; }));
    corpus.emplace_back(fmt::format("meta with {} null", field), with_meta(sections, [&](auto& m) { m[field] = nullptr; }));
  }
  for (const char* field : {"global_step", "epoch", "batches_done"}) {
    corpus.emplace_back(fmt::format("meta with {} negative", field), with_meta(sections, [&](auto& m) { m[field] = -1; }));
    corpus.emplace_back(fmt::format("meta with {} a bool", field), with_meta(sections, [&](auto& m) { m[field] = true; }));
  }
  corpus.emplace_back("meta with epoch_complete a number", with_meta(sections, [](auto& m) { m["epoch_complete"] = 1; }));
  corpus.emplace_back("meta with weights_only a string", with_meta(sections, [](auto& m) { m["weights_only"] = "no"; }));
  corpus.emplace_back("meta an array", with_section(sections, "meta", "[1, 2]"));
  corpus.emplace_back("meta null", with_section(sections, "meta", "null"));
  for (const char* name : {"meta", "state_dict", "optimizers", "callbacks", "metrics", "rng", "grads"})
    corpus.emplace_back(fmt::format("no {} section", name), with_section(sections, name, std::nullopt));
  for (const char* name : {"state_dict", "rng", "grads"})
    corpus.emplace_back(fmt::format("{} empty", name), with_section(sections, name, tensors_payload({})));
  corpus.emplace_back("meta empty", with_section(sections, "meta", "{}"));
  corpus.emplace_back("callbacks an array", with_section(sections, "callbacks", "[]"));
  corpus.emplace_back("metrics empty", with_section(sections, "metrics", "{}"));
  corpus.emplace_back("metrics a string", with_section(sections, "metrics", "\"x\""));
  corpus.emplace_back("optimizers an empty archive", with_section(sections, "optimizers", ""));
  corpus.emplace_back("optimizers as json", with_section(sections, "optimizers", "{}", "json"));
  corpus.emplace_back("optimizers of other shapes", with_section(sections, "optimizers", section_of(wide_sections, "optimizers"), "torch_archive"));
  corpus.emplace_back("state_dict of other shapes", with_section(sections, "state_dict", section_of(wide_sections, "state_dict")));
  corpus.emplace_back("grads of other shapes", with_section(sections, "grads", section_of(wide_sections, "grads")));
  corpus.emplace_back("state_dict in float64",
                      with_section(sections, "state_dict", tensors_payload([&] {
                                     volt::checkpoint::NamedTensors t;
                                     for (const auto& [n, v] : volt::checkpoint::state_dict(source.module)) t.emplace_back(n, v.to(torch::kFloat64));
                                     return t;
                                   }())));
  corpus.emplace_back("a gradient in float64",
                      with_section(sections, "grads", tensors_payload({{"fc1.weight", torch::zeros({16, 4}, torch::kFloat64)}})));
  corpus.emplace_back("a gradient of a parameter the model lacks",
                      with_section(sections, "grads", tensors_payload({{"fc3.weight", torch::zeros({16, 4})}})));
  corpus.emplace_back("rng cut short", with_section(sections, "rng", tensors_payload({{"cpu", source_state.rng.slice(0, 0, 100)}})));
  corpus.emplace_back("rng as float", with_section(sections, "rng", tensors_payload({{"cpu", source_state.rng.to(torch::kFloat32)}})));
  corpus.emplace_back("rng of an unknown generator", with_section(sections, "rng", tensors_payload({{"cpu", source_state.rng}, {"mps", source_state.rng}})));
  corpus.emplace_back("rng without the cpu generator", with_section(sections, "rng", tensors_payload({{"cuda:0", source_state.rng}})));
  // Absurd sizes: a shape of 2^80 bytes, and one whose element count overflows 64 bits.
  corpus.emplace_back("state_dict claiming 2^80 bytes",
                      with_section(sections, "state_dict",
                                   handmade_tensors_payload("fc1.weight", "[1099511627776,1099511627776]", "[0,4]", 4)));
  corpus.emplace_back("state_dict whose shape overflows",
                      with_section(sections, "state_dict",
                                   handmade_tensors_payload("fc1.weight", "[4294967296,4294967296,4294967296]", "[0,4]", 4)));
  corpus.emplace_back("rng claiming 2^40 bytes",
                      with_section(sections, "rng", handmade_tensors_payload("cpu", "[274877906944]", "[0,1099511627776]", 4)));
  // Absurd sizes inside the optimizers' torch archive: an Adam moment of shape [2^31, 2^31], 2^62
  // elements (a stride-0 view of one element, so the archive itself stays small).
  {
    volt::seed_everything(3);
    LiveRun<ResumeModel> absurd(4);
    absurd.optimization.for_each_optimizer([](auto& opt, std::size_t) {
      for (auto& [key, state] : static_cast<torch::optim::Optimizer&>(opt).state())
        static_cast<torch::optim::AdamParamState&>(*state).exp_avg(
            torch::zeros({1}).expand({std::int64_t{1} << 31, std::int64_t{1} << 31}));
    });
    corpus.emplace_back("optimizers with a moment claiming 2^62 elements",
                        with_section(sections, "optimizers", optimization_bytes(absurd.optimization), "torch_archive"));
  }

  volt::seed_everything(5);
  LiveRun<ResumeModel> target(3);
  const Fingerprint before = fingerprint(target);
  const fs::path restore = dir.path / "restore.ckpt";  // puts the target back after a case that loads
  volt::checkpoint::save_trainer_checkpoint(target.run, target.optimization, restore, false);
  REQUIRE_FALSE(same(before, source_state));
  std::size_t failed = 0;
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const auto& [what, file_bytes] = corpus[i];
    INFO(what);
    const fs::path file = dir.path / fmt::format("case-{}.ckpt", i);
    std::ofstream(file, std::ios::binary) << file_bytes;
    try {
      volt::checkpoint::load_trainer_checkpoint(target.run, target.optimization, file);
      // Loaded: then in full, the source's state (the gradients are the file's, possibly none).
      const Fingerprint loaded = fingerprint(target);
      CHECK(same_tensors(loaded.params, source_state.params));
      CHECK(loaded.optimizer_states == source_state.optimizer_states);
      CHECK(torch::equal(loaded.rng, source_state.rng));
      CHECK(loaded.metrics == source_state.metrics);
      volt::checkpoint::load_trainer_checkpoint(target.run, target.optimization, restore);
      REQUIRE(same(fingerprint(target), before));
    } catch (const volt::checkpoint::CheckpointError& e) {
      ++failed;
      CHECK_THAT(e.what(), Catch::Contains(file.string()));
      CHECK(e.file() == file);
      CHECK(same(fingerprint(target), before));
    }
  }
  CHECK(failed >= corpus.size() - 6);  // only harmless changes may load (an empty gradient list, ...)
  // The untouched file still loads, in full.
  volt::checkpoint::load_trainer_checkpoint(target.run, target.optimization, good);
  const Fingerprint loaded = fingerprint(target);
  CHECK(same_tensors(loaded.params, source_state.params));
  CHECK(same_tensors(loaded.grads, source_state.grads));
  CHECK(loaded.optimizer_states == source_state.optimizer_states);
  CHECK(torch::equal(loaded.rng, source_state.rng));
  CHECK(loaded.metrics == source_state.metrics);
}

// ---- LBFGS: its state is flat vectors over all parameters, checked against their total size ----

namespace {

template <std::int64_t Hidden>
struct LbfgsModel : torch::nn::Module {
  torch::nn::Linear fc1{register_module("fc1", torch::nn::Linear(4, Hidden))};
  torch::nn::Linear fc2{register_module("fc2", torch::nn::Linear(Hidden, 1))};
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t) {
    return torch::mse_loss(fc2(torch::relu(fc1(b.data))), b.target);
  }
  auto configure_optimizers() {
    return torch::optim::LBFGS(parameters(), torch::optim::LBFGSOptions(0.1).max_iter(4).history_size(3));
  }
};

// A few LBFGS steps, so that d, prev_flat_grad and the history hold vectors.
template <class Live>
void lbfgs_steps(Live& live) {
  live.optimization.for_each_optimizer([&](auto& opt, std::size_t) {
    for (int i = 0; i < 3; ++i) {
      const auto x = torch::randn({8, 4});
      opt.step([&] {
        opt.zero_grad();
        auto loss = torch::mse_loss(live.module.fc2(torch::relu(live.module.fc1(x))), x.sum(1, true));
        loss.backward();
        return loss;
      });
    }
  });
}

}  // namespace

TEST_CASE("an LBFGS state of another model's size is rejected before the resume uses it, leaving the run as it was",
          "[checkpoint][resume][lbfgs]") {
  TempDir dir;
  volt::seed_everything(3);
  LiveRun<LbfgsModel<16>> source(0);  // 4*16 + 16 + 16 + 1 = 97 elements
  lbfgs_steps(source);
  const fs::path good = dir.path / "lbfgs.ckpt";
  volt::checkpoint::save_trainer_checkpoint(source.run, source.optimization, good, false);
  volt::seed_everything(4);
  LiveRun<LbfgsModel<24>> wide(0);  // 145 elements
  lbfgs_steps(wide);

  volt::seed_everything(5);
  LiveRun<LbfgsModel<16>> target(0);
  lbfgs_steps(target);
  const auto states_before = optimizer_states(target.optimization);
  std::vector<torch::Tensor> params_before;
  for (const auto& p : target.module.parameters()) params_before.push_back(p.detach().clone());
  REQUIRE(states_before != optimizer_states(source.optimization));

  const fs::path mixed = dir.path / "lbfgs-wide-state.ckpt";
  std::ofstream(mixed, std::ios::binary) << with_section(raw_sections(read_bytes(good)), "optimizers",
                                                         optimization_bytes(wide.optimization), "torch_archive");
  CHECK_THROWS_WITH(volt::checkpoint::load_trainer_checkpoint(target.run, target.optimization, mixed),
                    Catch::Contains(mixed.string()) && Catch::Contains("LBFGS") && Catch::Contains("\"d\" of shape [145]") &&
                        Catch::Contains("97 elements"));
  CHECK(optimizer_states(target.optimization) == states_before);
  std::size_t i = 0;
  for (const auto& p : target.module.parameters()) CHECK(torch::equal(p, params_before[i++]));

  // Its own state loads in full.
  volt::checkpoint::load_trainer_checkpoint(target.run, target.optimization, good);
  CHECK(optimizer_states(target.optimization) == optimizer_states(source.optimization));
}

// ---- SIGTERM before the first batch: during set-up, configure_optimizers, checkpoint loading ----

namespace {

struct SignalInSetupData : ResumeData {
  void setup(volt::Stage) { std::raise(SIGTERM); }
};
struct SignalInConfigureOptimizers : ResumeModel {
  auto configure_optimizers() {
    std::raise(SIGTERM);
    return ResumeModel::configure_optimizers();
  }
};
struct SignalInCheckpointLoad : ResumeModel {
  void on_load_checkpoint(const volt::Checkpoint&) { std::raise(SIGTERM); }
};

template <class Model, class Data>
volt::FitResult fit_once(const fs::path& root, std::optional<fs::path> from = {}) {
  volt::seed_everything(from ? 999 : 21);
  Model m;
  Data d;
  volt::Trainer<Model, Data> t(resume_options(root));
  volt::FitOptions fit_options;
  if (from) fit_options.ckpt_path = from->string();
  return t.fit(m, d, fit_options);
}

}  // namespace

TEST_CASE("SIGTERM before the first batch: fit saves preempted.ckpt instead of dying, and it resumes exactly",
          "[checkpoint][resume]") {
  TempDir dir;
  const Outcome reference = uninterrupted(dir.path / "reference");
  volt::FitResult result;
  SECTION("during the DataModule's setup") { result = fit_once<ResumeModel, SignalInSetupData>(dir.path / "setup"); }
  SECTION("during configure_optimizers") {
    result = fit_once<SignalInConfigureOptimizers, ResumeData>(dir.path / "configure");
  }
  SECTION("while loading the checkpoint to resume from") {
    volt::seed_everything(21);
    ResumeModel m;
    m.sigterm_at_batch = 10;
    ResumeData d;
    ResumeTrainer t(resume_options(dir.path / "first"));
    const auto first = t.fit(m, d);
    REQUIRE(first.status == volt::FitStatus::preempted);
    result = fit_once<SignalInCheckpointLoad, ResumeData>(dir.path / "load", first.checkpoint);
  }
  // The signal was handled (this process is alive), and no batch ran after it.
  REQUIRE(result.status == volt::FitStatus::preempted);
  REQUIRE(fs::exists(result.checkpoint));
  require_identical(reference, resumed_from(result.checkpoint, dir.path / "resumed"));
}
