// volt::DDP on Gloo, several processes on 127.0.0.1. The test binary is its own worker: a test
// case starts the local launcher (strategy/launcher.hpp) on this very executable with the hidden
// tag [ddp_worker] and VOLT_DDP_TEST_* variables; each rank then runs a real Trainer.fit and
// writes what it saw into a temporary folder, which the parent compares:
//   - weights after every epoch bitwise equal across ranks, and bitwise equal to an emulated
//     reference (each rank's gradient times 1/world, laid out as the Reducer's bucket and summed
//     in the order of Gloo's ring allreduce); against one process on the combined batch equal
//     within 1e-6 relative; with 2 and 3 ranks, with and without accumulate_grad_batches = 2
//     (no_sync);
//   - the collectives (reduce, all_gather, broadcast, reduce_boolean_decision, barrier);
//   - a rank killed mid-epoch: the launcher names it, and the other rank fails by itself (its
//     error, naming its rank, is written before the launcher's grace period would kill it);
//   - a rank whose own code throws, with OnExceptionCheckpoint: every rank exits non-zero long
//     before the collective timeout (no barrier in the exception path);
//   - SIGTERM sent to the launcher of devices = 2 (a program that re-executes itself): every
//     rank stops at the same batch, one checkpoint, exact resume, also with accumulation;
//   - two "hosts": two network namespaces joined by a veth pair, one rank in each;
//   - the loggers of a run share rank 0's version_N on every rank;
//   - BF16True on Gloo: an error at set-up naming the precision, the backend and the fix.
// Every launch is bounded: a rank that hangs is killed by the launcher after its grace period.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <volt/data/distributed_sampler.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/strategy/cluster_environment.hpp>
#include <volt/strategy/ddp.hpp>
#include <volt/loops/preemption.hpp>
#include <volt/strategy/launcher.hpp>
#include <volt/volt.hpp>

namespace {
namespace fs = std::filesystem;

constexpr std::int64_t kSamples = 48;
constexpr std::int64_t kBatch = 4;
constexpr std::uint64_t kDataSeed = 5;
constexpr int kEpochs = 2;
constexpr double kLr = 0.1;

struct Net : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  Net() {
    torch::manual_seed(7);
    fc1 = register_module("fc1", torch::nn::Linear(4, 8));
    fc2 = register_module("fc2", torch::nn::Linear(8, 1));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::tanh(fc1(x))); }
  torch::Tensor flat() {
    std::vector<torch::Tensor> ps;
    for (auto& p : parameters()) ps.push_back(p.detach().flatten());
    return torch::cat(ps).clone();
  }
};

torch::Tensor data_x() {
  torch::manual_seed(123);
  return torch::randn({kSamples, 4});
}
torch::Tensor data_y() { return data_x().sum(1, true).sin(); }

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::optional<std::string>(v) : std::nullopt;
}

struct WorkerModule : Net {
  fs::path out;
  torch::nn::Linear unused{nullptr};  // VOLT_DDP_TEST_UNUSED: a layer the loss never reaches
  std::int64_t kill_rank_at_step = -1;     // this rank kills itself (SIGKILL) at this global step
  std::int64_t preempt_rank_at_step = -1;  // this rank gets SIGTERM (preemption) at this global step
  std::int64_t throw_rank_at_step = -1;    // this rank's own code throws at this global step
  // Every rank marks that it reached this global step, then waits (bounded) for the SIGTERM the
  // test sends to the launcher, so that the signal arrives mid-fit on every rank.
  std::int64_t wait_sigterm_at_step = -1;
  bool waited = false;
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t batch_idx, volt::Context& ctx) {
    if (ctx.global_step() == kill_rank_at_step) ::raise(SIGKILL);
    if (ctx.global_step() == preempt_rank_at_step) ::raise(SIGTERM);
    if (ctx.global_step() == throw_rank_at_step)
      throw std::runtime_error(fmt::format("the test's own error on rank {}", ctx.global_rank()));
    if (ctx.global_step() == wait_sigterm_at_step && !std::exchange(waited, true)) {
      std::ofstream(out / fmt::format("rank{}_waiting", ctx.global_rank())) << "waiting";
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      while (volt::loops::preemption_signal().load() == 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // A per-rank value with a per-rank weight: its sync_dist epoch mean is checked by the parent.
    const auto r = ctx.global_rank();
    ctx.log("spread", static_cast<double>(10 * r + batch_idx),
            {.on_step = false, .on_epoch = true, .batch_size = r + 1, .sync_dist = true});
    ctx.log("local_loss", static_cast<double>(r), {.on_step = false, .on_epoch = true});
    return torch::mse_loss(forward(batch.data), batch.target);
  }
  void on_train_epoch_end(volt::Context& ctx) {
    torch::save(flat(), (out / fmt::format("rank{}_epoch{}.pt", ctx.global_rank(), ctx.current_epoch())).string());
  }
  void on_train_end(volt::Context& ctx) {
    std::ofstream(out / fmt::format("rank{}_spread.txt", ctx.global_rank()))
        << fmt::format("{:.12g}", ctx.callback_metrics().at("spread"));
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(kLr)); }
};

struct WorkerData {
  // Lightning's prepare_data runs once per machine: local rank 0 leaves a mark.
  void prepare_data() const {
    std::ofstream(fs::path(env("VOLT_DDP_TEST_OUT").value()) / fmt::format("prepared_by_rank{}", env("RANK").value()));
  }
  volt::data::TensorLoader train_dataloader() const {
    return {data_x(), data_y(), {.batch_size = kBatch, .shuffle = true, .seed = kDataSeed}};
  }
};

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}
std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void worker_fit(const fs::path& out, const volt::DDP& ddp) {
  WorkerModule module;
  module.out = out;
  const auto rank = ddp.global_rank();
  if (auto kill = env("VOLT_DDP_TEST_KILL_RANK"); kill && std::stoll(*kill) == rank) module.kill_rank_at_step = 2;
  if (auto p = env("VOLT_DDP_TEST_PREEMPT_RANK"); p && std::stoll(*p) == rank) module.preempt_rank_at_step = 3;
  if (auto t = env("VOLT_DDP_TEST_THROW_RANK"); t && std::stoll(*t) == rank) module.throw_rank_at_step = 2;
  if (auto w = env("VOLT_DDP_TEST_WAIT_SIGTERM_AT")) module.wait_sigterm_at_step = std::stoll(*w);
  if (env("VOLT_DDP_TEST_UNUSED")) module.unused = module.register_module("unused", torch::nn::Linear(3, 3));
  WorkerData data;
  const bool files = env("VOLT_DDP_TEST_FILES").has_value();  // logs and checkpoints on
  volt::Trainer<WorkerModule, WorkerData, volt::DDP, volt::precision::FP32, volt::ModelCheckpoint,
                volt::OnExceptionCheckpoint>
      trainer({.logger = files, .max_epochs = kEpochs, .enable_progress_bar = false,
               .enable_model_summary = false,
               .accumulate_grad_batches = std::stoll(env("VOLT_DDP_TEST_ACCUMULATE").value_or("1")),
               .default_root_dir = out.string()},
              ddp, volt::precision::FP32{},
              volt::ModelCheckpoint({.dirpath = (out / "checkpoints").string(), .monitor = "local_loss",
                                     .save_top_k = 1, .mode = volt::Mode::min}),
              volt::OnExceptionCheckpoint({.dirpath = out / "on_exception"}));
  volt::FitOptions fit_options;
  if (auto resume = env("VOLT_DDP_TEST_RESUME")) fit_options.ckpt_path = *resume;
  const auto result = trainer.fit(module, data, fit_options);
  write_text(out / fmt::format("rank{}_buckets.txt", rank), fmt::format("{}", fmt::join(ddp.bucket_bytes(), " ")));
  std::ofstream(out / fmt::format("rank{}_result.txt", rank))
      << fmt::format("{} {} {}", result.status == volt::FitStatus::preempted ? "preempted" : "finished",
                     trainer.global_step(),
                     std::get<volt::ModelCheckpoint>(trainer.callbacks()).best_model_path());
}

// Two loggers and a ModelCheckpoint without a dirpath (it saves under the first logger's
// version_N/checkpoints): every rank reports the versions and the best path it saw.
void worker_loggers(const fs::path& out, const volt::DDP& ddp) {
  WorkerModule module;
  module.out = out;
  WorkerData data;
  volt::Trainer<WorkerModule, WorkerData, volt::DDP, volt::precision::FP32, volt::loggers::CSVLogger,
                volt::loggers::TensorBoardLogger, volt::ModelCheckpoint>
      trainer({.max_epochs = 1, .enable_progress_bar = false, .enable_model_summary = false,
               .default_root_dir = out.string()},
              ddp, volt::precision::FP32{}, volt::loggers::CSVLogger({.save_dir = out}),
              volt::loggers::TensorBoardLogger({.save_dir = out}),
              volt::ModelCheckpoint({.monitor = "local_loss", .save_top_k = 1, .mode = volt::Mode::min}));
  trainer.fit(module, data);
  const auto& callbacks = trainer.callbacks();
  write_text(out / fmt::format("rank{}_versions.txt", ddp.global_rank()),
             fmt::format("{} {} {}", std::get<volt::loggers::CSVLogger>(callbacks).version(),
                         std::get<volt::loggers::TensorBoardLogger>(callbacks).version(),
                         std::get<volt::ModelCheckpoint>(callbacks).best_model_path()));
}

// A Trainer with BF16True: on Gloo it must fail at set-up, before training_step ever runs.
struct Bf16Module : Net {
  std::int64_t steps = 0;
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t) {
    ++steps;
    return torch::mse_loss(forward(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(kLr)); }
};

void worker_collectives(const fs::path& out, const volt::DDP& ddp) {
  const auto r = static_cast<double>(ddp.global_rank());
  const auto w = ddp.world_size();
  std::string report;
  const auto mean = ddp.reduce(torch::tensor({r, 2 * r}), volt::ReduceOp::mean);
  const auto sum = ddp.reduce(torch::tensor(r + 1), volt::ReduceOp::sum);
  const auto max = ddp.reduce(torch::tensor(r), volt::ReduceOp::max);
  const auto bf16 = ddp.reduce(torch::tensor(r + 1).to(torch::kBFloat16), volt::ReduceOp::sum);
  const auto gathered = ddp.all_gather(torch::tensor({r, r}));
  const auto from_last = ddp.broadcast(torch::tensor(r * 10), w - 1);
  const bool all_true = ddp.reduce_boolean_decision(true, true);
  const bool all_rank0 = ddp.reduce_boolean_decision(r == 0, true);
  const bool any_rank0 = ddp.reduce_boolean_decision(r == 0, false);
  // The split form (the loop's preemption decision): started, then another collective, then read.
  auto pending_all = ddp.start_boolean_decision(r == 0, true);
  auto pending_any = ddp.start_boolean_decision(r == 0, false);
  const auto between = ddp.reduce(torch::tensor(1.0), volt::ReduceOp::sum);
  const bool split_all = pending_all.get(), split_any = pending_any.get();
  ddp.barrier();
  report = fmt::format("{} {} {} {} {} {} {} {} {} {} {} {} {} {}", mean[0].item<double>(), mean[1].item<double>(),
                       sum.item<double>(), max.item<double>(), bf16.to(torch::kFloat32).item<double>(),
                       gathered.size(0), gathered.index({torch::indexing::Slice(), 0}).sum().item<double>(),
                       from_last.item<double>(), all_true, all_rank0, any_rank0, split_all, split_any,
                       between.item<double>());
  write_text(out / fmt::format("collectives_rank{}.txt", ddp.global_rank()), report);
}

// Runs the worker tag of this binary on `ranks` processes; returns the launch's result.
volt::LaunchResult launch(std::int64_t ranks, const std::string& scenario, const fs::path& out,
                          std::map<std::string, std::string> extra = {},
                          std::chrono::seconds grace = std::chrono::seconds(60)) {
  extra["VOLT_DDP_TEST_SCENARIO"] = scenario;
  extra["VOLT_DDP_TEST_OUT"] = out.string();
  extra["OMP_NUM_THREADS"] = "1";
  return volt::launch_processes({"/proc/self/exe", "[ddp_worker]"},
                                {.nprocs = ranks, .grace = grace, .env = std::move(extra)});
}

std::string self_exe() { return fs::read_symlink("/proc/self/exe").string(); }

// Starts `argv` with this process's environment plus `extra` (posix_spawn: no code runs between
// fork and exec in this multi-threaded process).
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra) {
  std::vector<std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    if (!extra.count(kv.substr(0, kv.find('=')))) vars.push_back(kv);
  }
  for (const auto& [k, v] : extra) vars.push_back(k + "=" + v);
  std::vector<std::string> args = argv;
  std::vector<char*> envp, argp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawn(&pid, argp[0], nullptr, nullptr, argp.data(), envp.data()) != 0)
    throw std::runtime_error("posix_spawn failed");
  return pid;
}

// Polls `done` every 20 ms, at most `limit` (a bound against a hang, not a timed assertion).
template <class Done>
bool wait_until(Done done, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// The exit code of `pid` (128 + signal when killed); killed with SIGKILL after `limit`.
int wait_exit(pid_t pid, std::chrono::seconds limit) {
  int status = 0;
  const bool exited = wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, limit);
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

std::int64_t count_files(const fs::path& dir, const std::string& extension) {
  std::int64_t n = 0;
  for (const auto& f : fs::recursive_directory_iterator(dir))
    if (f.path().extension() == extension) ++n;
  return n;
}

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / fmt::format("volt_ddp_test_{}_{}", ::getpid(), name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

torch::Tensor load(const fs::path& path) {
  torch::Tensor t;
  torch::load(t, path.string());
  return t;
}

// Gloo's ring allreduce (gloo/allreduce.cc, `ring`), summing each rank's flat bucket: the buffer
// is cut into world blocks of segments (at least two segments per rank, at most 1 MiB each);
// block k travels the ring from rank k-1 down to rank k, each rank adding its own values to what
// it received, so block k is x_k + (x_{k+1} + (... + (x_{k+w-2} + x_{k+w-1}))).
torch::Tensor gloo_ring_sum(const std::vector<torch::Tensor>& flat) {
  const auto world = static_cast<std::int64_t>(flat.size());
  const std::int64_t n = flat[0].numel(), element = flat[0].element_size(), total = n * element;
  const std::int64_t max_segment = std::max<std::int64_t>(1, (1 << 20) / element) * element;
  std::int64_t segments = std::max((total + max_segment - 1) / max_segment, 2 * world);
  segments = (segments + world - 1) / world * world;
  std::int64_t segment_bytes = (total + segments - 1) / segments;
  segment_bytes = (segment_bytes + element - 1) / element * element;
  const std::int64_t block = segments / world * segment_bytes / element;
  auto out = torch::empty_like(flat[0]);
  for (std::int64_t k = 0; k < world && k * block < n; ++k) {
    const auto begin = k * block, length = std::min(block, n - begin);
    auto sum = flat[(k + world - 1) % world].narrow(0, begin, length).clone();
    for (std::int64_t j = world - 2; j >= 0; --j) sum = flat[(k + j) % world].narrow(0, begin, length) + sum;
    out.narrow(0, begin, length).copy_(sum);
  }
  return out;
}

// The Reducer's arithmetic, in one process: each rank's (locally accumulated) gradient times
// 1/world, flattened in the bucket's layout, summed as Gloo's ring does, then SGD. combined = true: one backward on all ranks' batches
// at once instead (differs by float rounding only).
std::vector<torch::Tensor> reference(std::int64_t world, std::int64_t accumulate, bool combined) {
  Net net;
  const auto x = data_x(), y = data_y();
  torch::optim::SGD sgd(net.parameters(), torch::optim::SGDOptions(kLr));
  std::vector<torch::Tensor> epochs;
  auto params = net.parameters();
  std::vector<std::size_t> parameter_order, ready_order;
  bool recording = false;
  for (std::size_t i = 0; i < params.size(); ++i) {
    parameter_order.push_back(i);
    params[i].register_hook([&ready_order, &recording, i](const torch::Tensor&) {
      if (recording) ready_order.push_back(i);
    });
  }
  std::int64_t synced_steps = 0;
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    std::vector<std::vector<std::int64_t>> shards;
    for (std::int64_t r = 0; r < world; ++r)
      shards.push_back(volt::data::DistributedSampler{world, r, true, kDataSeed, false}.indices(kSamples, epoch));
    const auto batches = static_cast<std::int64_t>(shards[0].size()) / kBatch;
    auto batch_of = [&](std::int64_t r, std::int64_t b) {
      std::vector<std::int64_t> idx(shards[r].begin() + b * kBatch, shards[r].begin() + (b + 1) * kBatch);
      return torch::tensor(idx, torch::kLong);
    };
    for (std::int64_t first = 0; first < batches; first += accumulate) {
      if (combined) {
        sgd.zero_grad();
        for (std::int64_t b = first; b < first + accumulate; ++b) {
          std::vector<torch::Tensor> idx;
          for (std::int64_t r = 0; r < world; ++r) idx.push_back(batch_of(r, b));
          const auto all = torch::cat(idx);
          auto loss = torch::mse_loss(net.forward(x.index_select(0, all)), y.index_select(0, all));
          (loss / static_cast<double>(accumulate)).backward();
        }
      } else {
        // The bucket's layout: parameter order at the first synchronized step, then the order in
        // which gradients became ready in it (the Reducer's rebuild_buckets after step 0).
        const auto& layout = synced_steps++ == 0 ? parameter_order : ready_order;
        std::vector<torch::Tensor> flats;
        for (std::int64_t r = 0; r < world; ++r) {
          sgd.zero_grad();
          for (std::int64_t b = first; b < first + accumulate; ++b) {
            const auto idx = batch_of(r, b);
            auto loss = torch::mse_loss(net.forward(x.index_select(0, idx)), y.index_select(0, idx));
            if (accumulate > 1) loss = loss / static_cast<double>(accumulate);
            recording = ready_order.empty() && b == first + accumulate - 1;
            loss.backward();
            recording = false;
          }
          std::vector<torch::Tensor> shares;
          for (const auto i : layout) shares.push_back((params[i].grad() * (1.0 / static_cast<double>(world))).flatten());
          flats.push_back(torch::cat(shares));
        }
        const auto sum = gloo_ring_sum(flats);
        std::int64_t offset = 0;
        for (const auto i : layout) {
          const auto n = params[i].numel();
          params[i].mutable_grad() = sum.narrow(0, offset, n).view_as(params[i]).clone();
          offset += n;
        }
      }
      sgd.step();
    }
    epochs.push_back(net.flat());
  }
  return epochs;
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

void check_fit(std::int64_t world, std::int64_t accumulate) {
  const auto out = fresh_dir(fmt::format("fit{}_{}", world, accumulate));
  const auto result = launch(world, "fit", out, {{"VOLT_DDP_TEST_ACCUMULATE", std::to_string(accumulate)}});
  INFO(result.message);
  REQUIRE(result.exit_code == 0);
  const auto emulated = reference(world, accumulate, false);
  const auto combined = reference(world, accumulate, true);
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    INFO("epoch " << epoch);
    const auto rank0 = load(out / fmt::format("rank0_epoch{}.pt", epoch));
    for (std::int64_t r = 1; r < world; ++r) CHECK(torch::equal(rank0, load(out / fmt::format("rank{}_epoch{}.pt", r, epoch))));
    // Bitwise, with 3 ranks too: the emulation sums in Gloo's ring order (gloo_ring_sum) over the
    // Reducer's bucket layout.
    CHECK(torch::equal(rank0, emulated[epoch]));
    CHECK(relative_difference(rank0, combined[epoch]) <= 1e-6);
    CHECK_FALSE(torch::equal(rank0, Net().flat()));  // it trained
  }
  fs::remove_all(out);
}
}  // namespace

// The worker: selected only by the hidden tag, and only inside a launch.
TEST_CASE("ddp worker (run by the DDP tests through the launcher)", "[.ddp_worker]") {
  const auto scenario = env("VOLT_DDP_TEST_SCENARIO");
  const auto out = env("VOLT_DDP_TEST_OUT");
  if (!scenario || !out) {
    WARN("volt: the ddp worker runs only when launched by the DDP tests");
    return;
  }
  try {
    // VOLT_DDP_TEST_DEVICES = N: this process is the launcher (devices = N re-executes it).
    volt::DDP ddp({.devices = std::stoll(env("VOLT_DDP_TEST_DEVICES").value_or("1")),
                   .timeout = std::chrono::seconds(std::stoll(env("VOLT_DDP_TEST_TIMEOUT_S").value_or("60"))),
                   .find_unused_parameters = env("VOLT_DDP_TEST_UNUSED").has_value(),
                   .gradient_as_bucket_view = env("VOLT_DDP_TEST_BUCKET_VIEW").has_value(),
                   .first_bucket_cap_mb = std::stod(env("VOLT_DDP_TEST_FIRST_BUCKET_BYTES").value_or("1048576")) /
                                          (1024.0 * 1024.0)});
    if (*scenario == "fit") worker_fit(*out, ddp);
    else if (*scenario == "loggers") worker_loggers(*out, ddp);
    else if (*scenario == "collectives") worker_collectives(*out, ddp);
    else FAIL("unknown scenario " << *scenario);
  } catch (const std::exception& e) {
    write_text(fs::path(*out) / fmt::format("rank{}_error.txt", env("RANK").value_or("?")), e.what());
    throw;
  }
}

TEST_CASE("DDP on 2 processes: weights bitwise equal across ranks and to the emulated reference", "[strategy][ddp]") {
  check_fit(2, 1);
}
TEST_CASE("DDP on 3 processes: weights bitwise equal across ranks and to the emulated reference", "[strategy][ddp]") {
  check_fit(3, 1);
}
TEST_CASE("DDP with accumulate_grad_batches = 2 (no_sync) on 2 and 3 processes", "[strategy][ddp]") {
  check_fit(2, 2);
  check_fit(3, 2);
}

TEST_CASE("DDP rank awareness: sync_dist means, one checkpoint, one log, the same best path", "[strategy][ddp]") {
  const auto out = fresh_dir("files");
  const auto result = launch(2, "fit", out, {{"VOLT_DDP_TEST_FILES", "1"}});
  INFO(result.message);
  REQUIRE(result.exit_code == 0);
  // spread: rank r logs 10 r + batch_idx with weight r + 1 over 6 batches; the last epoch's
  // weighted mean over both ranks: (1 * (0+..+5) + 2 * (10+..+15)) / (6 + 12) = 165 / 18
  // (rank 0's own mean would be 2.5, rank 1's 12.5, their plain mean 7.5).
  const double expected = (1.0 * 15 + 2.0 * (10 * 6 + 15)) / 18.0;
  for (int r = 0; r < 2; ++r) CHECK(std::stod(read_text(out / fmt::format("rank{}_spread.txt", r))) == Approx(expected).epsilon(1e-12));
  // local_loss (no sync_dist) differs per rank (0 and 1); ModelCheckpoint takes rank 0's values
  // on every rank, so both report the same best path, and only rank 0 wrote it.
  const auto r0 = read_text(out / "rank0_result.txt");
  CHECK(r0 == read_text(out / "rank1_result.txt"));
  std::vector<std::string> checkpoints;
  for (const auto& f : fs::directory_iterator(out / "checkpoints")) checkpoints.push_back(f.path().filename().string());
  CHECK(checkpoints.size() == 1);
  CHECK_THAT(r0, Catch::EndsWith(checkpoints.at(0)));
  // One logger folder (rank 0's), none from rank 1.
  std::int64_t versions = 0;
  for (const auto& f : fs::recursive_directory_iterator(out))
    if (f.path().filename() == "metrics.csv") ++versions;
  CHECK(versions == 1);
  CHECK(fs::exists(out / "prepared_by_rank0"));
  CHECK_FALSE(fs::exists(out / "prepared_by_rank1"));
  fs::remove_all(out);
}

TEST_CASE("DDP: SIGTERM on one rank stops every rank at the same step; the resume is exact", "[strategy][ddp]") {
  const auto reference_dir = fresh_dir("uninterrupted");
  REQUIRE(launch(2, "fit", reference_dir).exit_code == 0);
  const auto out = fresh_dir("preempt");
  auto result = launch(2, "fit", out, {{"VOLT_DDP_TEST_PREEMPT_RANK", "1"}});
  INFO(result.message);
  REQUIRE(result.exit_code == 0);
  const auto r0 = read_text(out / "rank0_result.txt");
  CHECK(r0 == read_text(out / "rank1_result.txt"));
  // SIGTERM during global step 3: the decision read at the end of step 3 was started before the
  // signal, so every rank stops at the end of step 4 (the decision runs alongside each step).
  CHECK_THAT(r0, Catch::StartsWith("preempted 5 "));
  REQUIRE(fs::exists(out / "preempted.ckpt"));
  result = launch(2, "fit", out, {{"VOLT_DDP_TEST_RESUME", (out / "preempted.ckpt").string()}});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(read_text(out / "rank0_result.txt"), Catch::StartsWith("finished 12 "));
  for (std::int64_t r = 0; r < 2; ++r)
    CHECK(torch::equal(load(out / fmt::format("rank{}_epoch{}.pt", r, kEpochs - 1)),
                       load(reference_dir / fmt::format("rank0_epoch{}.pt", kEpochs - 1))));
  fs::remove_all(out);
  fs::remove_all(reference_dir);
}

TEST_CASE("DDP options: gradient_as_bucket_view, find_unused_parameters and two buckets give the same weights", "[strategy][ddp]") {
  const auto plain = fresh_dir("plain");
  REQUIRE(launch(2, "fit", plain).exit_code == 0);
  const auto views = fresh_dir("views");
  auto result = launch(2, "fit", views, {{"VOLT_DDP_TEST_BUCKET_VIEW", "1"}});
  INFO(result.message);
  REQUIRE(result.exit_code == 0);
  const auto unused = fresh_dir("unused");
  result = launch(2, "fit", unused, {{"VOLT_DDP_TEST_UNUSED", "1"}});
  INFO(result.message);
  REQUIRE(result.exit_code == 0);
  // A first bucket of 50 bytes: after the first step the Reducer rebuilds two buckets (fc2's
  // gradients, 36 bytes, and one of fc1's, which are ready first; then the rest), each its own
  // allreduce; with 2 ranks any order of the sum is the same, so the weights are bitwise those of
  // one bucket.
  const auto buckets = fresh_dir("buckets");
  result = launch(2, "fit", buckets, {{"VOLT_DDP_TEST_FIRST_BUCKET_BYTES", "50"}});
  INFO(result.message);
  REQUIRE(result.exit_code == 0);
  const std::int64_t all_bytes = (4 * 8 + 8 + 8 + 1) * 4;
  CHECK(read_text(plain / "rank0_buckets.txt") == std::to_string(all_bytes));
  std::int64_t first = 0, second = 0;
  std::istringstream(read_text(buckets / "rank0_buckets.txt")) >> first >> second;
  CHECK(first >= 50);
  CHECK(first < all_bytes);
  CHECK(first + second == all_bytes);
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    const auto expected = load(plain / fmt::format("rank0_epoch{}.pt", epoch));
    for (int r = 0; r < 2; ++r) {
      CHECK(torch::equal(load(buckets / fmt::format("rank{}_epoch{}.pt", r, epoch)), expected));
      CHECK(torch::equal(load(views / fmt::format("rank{}_epoch{}.pt", r, epoch)), expected));
      // The unused layer's parameters come last in flat(): the used ones trained as without it.
      const auto with_unused = load(unused / fmt::format("rank{}_epoch{}.pt", r, epoch));
      CHECK(torch::equal(with_unused.narrow(0, 0, expected.numel()), expected));
    }
  }
  for (const auto& dir : {plain, views, unused, buckets}) fs::remove_all(dir);
}

TEST_CASE("DDP collectives over 3 processes", "[strategy][ddp]") {
  const auto out = fresh_dir("collectives");
  const auto result = launch(3, "collectives", out);
  INFO(result.message);
  REQUIRE(result.exit_code == 0);
  // mean of r and 2r over 0,1,2; sum of r+1; max; bf16 sum; 3 rows; sum of ranks; rank 2's 20;
  // all true; not all rank 0; some rank 0; the same two decisions split around another
  // collective (start_boolean_decision), and that collective's sum.
  for (int r = 0; r < 3; ++r)
    CHECK(read_text(out / fmt::format("collectives_rank{}.txt", r)) == "1 2 6 2 6 3 3 20 true false true false true 3");
  fs::remove_all(out);
}

TEST_CASE("DDP: a rank killed mid-epoch makes every rank exit non-zero, the launcher names it", "[strategy][ddp]") {
  const auto out = fresh_dir("kill");
  const auto result = launch(2, "fit", out, {{"VOLT_DDP_TEST_KILL_RANK", "1"}});
  CHECK(result.exit_code == 128 + SIGKILL);
  REQUIRE(result.failed_rank == std::optional<std::int64_t>(1));
  CHECK_THAT(result.message, Catch::Contains("rank 1 of 2 was killed by signal 9"));
  // Rank 0 failed by itself (a launcher kill would leave no error file), naming its rank.
  const auto error = read_text(out / "rank0_error.txt");
  CHECK_THAT(error, Catch::Contains("volt: DDP rank 0 of 2 failed"));
  fs::remove_all(out);
}

TEST_CASE("DDP in one process: a group of one, collectives are the identity", "[strategy][ddp]") {
  STATIC_REQUIRE(volt::Strategy<volt::DDP>);
  volt::DDP ddp;
  CHECK(ddp.world_size() == 1);
  CHECK(ddp.global_rank() == 0);
  CHECK(ddp.root_device() == torch::Device(torch::kCPU));
  CHECK(torch::equal(ddp.reduce(torch::tensor({1.5, 2.5})), torch::tensor({1.5, 2.5})));
  CHECK(torch::equal(ddp.all_gather(torch::tensor({3.0})), torch::tensor({{3.0}})));
  CHECK(ddp.reduce_boolean_decision(true));
  CHECK(ddp.start_boolean_decision(true).get());
  CHECK(ddp.bucket_bytes().empty());  // no module yet
  ddp.barrier();
  Net net;
  ddp.setup_module(net);
  CHECK(ddp.bucket_bytes() == std::vector<std::int64_t>{(4 * 8 + 8 + 8 + 1) * 4});  // one bucket: every parameter
  {
    auto guard = ddp.no_backward_sync();
    CHECK_FALSE(ddp.gradients_synchronized());
  }
  CHECK(ddp.gradients_synchronized());
}

TEST_CASE("DDP: bad options and a missing rank 0 are clear errors", "[strategy][ddp]") {
  CHECK_THROWS_WITH(volt::DDP({.devices = 0}), Catch::Contains("devices = 0 is invalid"));
  CHECK_THROWS_WITH(volt::DDP({.bucket_cap_mb = 0.0}), Catch::Contains("bucket_cap_mb = 0 is invalid"));
  CHECK_THROWS_WITH(volt::DDP({.first_bucket_cap_mb = -1.0}), Catch::Contains("first_bucket_cap_mb = -1 is invalid"));
  // Rank 1 of 2 with nobody serving the store: fails after the rendezvous timeout.
  const auto port = volt::free_tcp_port();
  ::setenv("RANK", "1", 1);
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  std::string message;
  try {
    volt::DDP ddp({.timeout = std::chrono::seconds(2)});
  } catch (const std::exception& e) {
    message = e.what();
  }
  for (const char* v : {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(v);
  CHECK_THAT(message, Catch::Contains("volt: DDP rendezvous failed for rank 1 of 2 (env://"));
}

TEST_CASE("Cluster environments: env://, torchrun, SLURM", "[strategy][ddp]") {
  const char* vars[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID",
                        "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT", "SLURM_NTASKS", "SLURM_PROCID",
                        "SLURM_LOCALID", "SLURM_NODELIST", "SLURM_JOB_ID", "SLURM_JOB_NAME"};
  auto clear = [&] {
    for (const char* v : vars) ::unsetenv(v);
  };
  clear();
  CHECK(volt::detect_cluster_environment().kind == volt::ClusterKind::single);

  ::setenv("RANK", "2", 1);
  ::setenv("WORLD_SIZE", "4", 1);
  ::setenv("LOCAL_RANK", "0", 1);
  ::setenv("MASTER_ADDR", "10.0.0.1", 1);
  ::setenv("MASTER_PORT", "29500", 1);
  auto e = volt::detect_cluster_environment();
  CHECK(e.kind == volt::ClusterKind::env);
  CHECK((e.global_rank == 2 && e.world_size == 4 && e.local_rank == 0 && e.master_port == 29500));
  CHECK(e.master_addr == "10.0.0.1");
  CHECK_FALSE(e.agent_store);

  ::setenv("TORCHELASTIC_RUN_ID", "job", 1);
  ::setenv("TORCHELASTIC_USE_AGENT_STORE", "True", 1);
  ::setenv("TORCHELASTIC_RESTART_COUNT", "3", 1);
  e = volt::detect_cluster_environment();
  CHECK(e.kind == volt::ClusterKind::torchrun);
  CHECK(e.agent_store);
  CHECK(e.store_prefix == "/worker/attempt_3");

  ::setenv("MASTER_PORT", "http", 1);
  CHECK_THROWS_WITH(volt::detect_cluster_environment(), Catch::Contains("MASTER_PORT=\"http\" is not an integer"));
  ::setenv("MASTER_PORT", "29500", 1);
  ::setenv("RANK", "4", 1);
  CHECK_THROWS_WITH(volt::detect_cluster_environment(), Catch::Contains("global rank 4 is not below the world size 4"));
  clear();

  ::setenv("SLURM_NTASKS", "8", 1);
  ::setenv("SLURM_PROCID", "5", 1);
  ::setenv("SLURM_LOCALID", "1", 1);
  ::setenv("SLURM_NODELIST", "gpu[017-020,033],login1", 1);
  ::setenv("SLURM_JOB_ID", "1234567", 1);
  e = volt::detect_cluster_environment();
  CHECK(e.kind == volt::ClusterKind::slurm);
  CHECK((e.global_rank == 5 && e.local_rank == 1 && e.world_size == 8));
  CHECK(e.master_addr == "gpu017");
  CHECK(e.master_port == 15000 + 4567);
  clear();
  CHECK(volt::slurm_first_host("node1,node2") == "node1");
  CHECK(volt::slurm_first_host("n[3,5]") == "n3");
  CHECK(volt::slurm_first_host("solo") == "solo");
}

TEST_CASE("The launcher: every rank gets its environment; a failing rank is named", "[strategy][ddp]") {
  const auto out = fresh_dir("launcher");
  auto result = volt::launch_processes(
      {"/bin/sh", "-c", fmt::format("echo $RANK $LOCAL_RANK $WORLD_SIZE $MASTER_ADDR > {}/r$RANK", out.string())},
      {.nprocs = 3});
  REQUIRE(result.exit_code == 0);
  for (int r = 0; r < 3; ++r) CHECK(read_text(out / fmt::format("r{}", r)) == fmt::format("{} {} 3 127.0.0.1\n", r, r));
  // Rank 2 fails at once; rank 0 and 1 would sleep for 10 minutes: they are ended.
  result = volt::launch_processes({"/bin/sh", "-c", "if [ $RANK = 2 ]; then exit 7; fi; exec sleep 600"},
                                  {.nprocs = 3, .grace = std::chrono::milliseconds(100)});
  CHECK(result.exit_code == 7);
  CHECK(result.failed_rank == std::optional<std::int64_t>(2));
  CHECK_THAT(result.message, Catch::Contains("rank 2 of 3 exited with code 7"));
  fs::remove_all(out);
}

namespace {
// SIGTERM to the launcher of devices = 2 (this binary re-executing itself, as a user's program
// with volt::DDP{{.devices = 2}} does), while both ranks are inside global step 1.
void check_launcher_preemption(std::int64_t accumulate) {
  INFO("accumulate_grad_batches = " << accumulate);
  const auto acc = std::to_string(accumulate);
  const auto reference_dir = fresh_dir("launcher_reference" + acc);
  REQUIRE(launch(2, "fit", reference_dir, {{"VOLT_DDP_TEST_ACCUMULATE", acc}}).exit_code == 0);
  const auto out = fresh_dir("launcher_sigterm" + acc);
  const pid_t launcher = spawn({self_exe(), "[ddp_worker]"},
                               {{"VOLT_DDP_TEST_SCENARIO", "fit"}, {"VOLT_DDP_TEST_OUT", out.string()},
                                {"OMP_NUM_THREADS", "1"}, {"VOLT_DDP_TEST_DEVICES", "2"},
                                {"VOLT_DDP_TEST_ACCUMULATE", acc}, {"VOLT_DDP_TEST_WAIT_SIGTERM_AT", "1"}});
  const bool both_waiting = wait_until(
      [&] { return fs::exists(out / "rank0_waiting") && fs::exists(out / "rank1_waiting"); }, std::chrono::seconds(180));
  if (!both_waiting) ::kill(launcher, SIGKILL);
  REQUIRE(both_waiting);
  ::kill(launcher, SIGTERM);  // the launcher only: it passes the signal on to every rank
  REQUIRE(wait_exit(launcher, std::chrono::seconds(180)) == 0);
  // Both stop after the same batch. Without accumulation at the end of global step 2: the
  // decision read at the end of step 1 was started with the step, before the signal. With
  // accumulation the signal arrives in the window's first batch, and the decision started with
  // its second batch (where gradients are in sync, and ranks may stop) sees it: global step 1 ends.
  const auto r0 = read_text(out / "rank0_result.txt");
  CHECK(r0 == read_text(out / "rank1_result.txt"));
  CHECK_THAT(r0, Catch::StartsWith(accumulate == 1 ? "preempted 3 " : "preempted 2 "));
  CHECK(count_files(out, ".ckpt") == 1);
  REQUIRE(fs::exists(out / "preempted.ckpt"));
  const auto result = launch(2, "fit", out,
                             {{"VOLT_DDP_TEST_RESUME", (out / "preempted.ckpt").string()}, {"VOLT_DDP_TEST_ACCUMULATE", acc}});
  INFO(result.message);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(read_text(out / "rank0_result.txt"), Catch::StartsWith(fmt::format("finished {} ", 12 / accumulate)));
  for (int epoch = 0; epoch < kEpochs; ++epoch)
    for (std::int64_t r = 0; r < 2; ++r)
      CHECK(torch::equal(load(out / fmt::format("rank{}_epoch{}.pt", r, epoch)),
                         load(reference_dir / fmt::format("rank0_epoch{}.pt", epoch))));
  fs::remove_all(out);
  fs::remove_all(reference_dir);
}
}  // namespace

TEST_CASE("DDP: SIGTERM to the launcher (devices = 2) stops every rank at the same batch; exact resume",
          "[strategy][ddp]") {
  check_launcher_preemption(1);
  check_launcher_preemption(2);  // resume exact under no_sync too (bitwise, as uninterrupted)
}

TEST_CASE("DDP: a rank whose own code throws, with OnExceptionCheckpoint, makes every rank exit promptly",
          "[strategy][ddp]") {
  const auto out = fresh_dir("throw");
  // A collective timeout and a launcher grace far above the bound below: a rank left waiting at
  // a barrier would show as a launch that takes minutes and a rank 0 killed without its error.
  const auto started = std::chrono::steady_clock::now();
  const auto result = launch(2, "fit", out, {{"VOLT_DDP_TEST_THROW_RANK", "1"}, {"VOLT_DDP_TEST_TIMEOUT_S", "300"}},
                             std::chrono::seconds(240));
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  INFO(result.message << " (" << seconds << " s)");
  CHECK(result.exit_code != 0);
  CHECK(result.failed_rank.has_value());
  CHECK_THAT(read_text(out / "rank1_error.txt"), Catch::Contains("the test's own error on rank 1"));
  // Rank 0 failed by itself (its peer hung up) instead of being killed by the launcher, and
  // wrote the one on-exception checkpoint.
  CHECK_THAT(read_text(out / "rank0_error.txt"), Catch::Contains("volt: DDP rank 0 of 2 failed"));
  CHECK(fs::exists(out / "on_exception" / "on_exception.ckpt"));
  CHECK(count_files(out, ".ckpt") == 1);
  CHECK(seconds < 120.0);  // generous: the hang it guards against lasts the 300 s timeout
  fs::remove_all(out);
}

TEST_CASE("DDP: all loggers of one run share rank 0's version on every rank", "[strategy][ddp]") {
  const auto out = fresh_dir("versions");
  fs::create_directories(out / "lightning_logs" / "version_0");
  fs::create_directories(out / "lightning_logs" / "version_3");
  const auto result = launch(2, "loggers", out);
  INFO(result.message);
  REQUIRE(result.exit_code == 0);
  const auto r0 = read_text(out / "rank0_versions.txt");
  CHECK(r0 == read_text(out / "rank1_versions.txt"));
  CHECK_THAT(r0, Catch::StartsWith("4 4 "));
  CHECK_THAT(r0, Catch::Contains((fs::path("lightning_logs") / "version_4" / "checkpoints").string()));
  std::vector<std::string> versions;
  for (const auto& f : fs::directory_iterator(out / "lightning_logs")) versions.push_back(f.path().filename().string());
  std::sort(versions.begin(), versions.end());
  CHECK(versions == std::vector<std::string>{"version_0", "version_3", "version_4"});
  CHECK(fs::exists(out / "lightning_logs" / "version_4" / "metrics.csv"));
  std::int64_t events = 0;
  for (const auto& f : fs::directory_iterator(out / "lightning_logs" / "version_4"))
    if (f.path().filename().string().rfind("events.out.tfevents.", 0) == 0) ++events;
  CHECK(events == 1);
  CHECK(count_files(out, ".ckpt") == 1);
  fs::remove_all(out);
}

TEST_CASE("DDP on Gloo with BF16True: an error at set-up naming the precision, the backend and the fix",
          "[strategy][ddp]") {
  STATIC_REQUIRE(volt::DDP::gloo_can_reduce(torch::kFloat32));
  STATIC_REQUIRE(volt::DDP::gloo_can_reduce(torch::kFloat16));
  STATIC_REQUIRE_FALSE(volt::DDP::gloo_can_reduce(torch::kBFloat16));
  Bf16Module module;
  WorkerData data;
  volt::Trainer<Bf16Module, WorkerData, volt::DDP, volt::precision::BF16True> trainer(
      {.logger = false, .max_epochs = 1, .enable_checkpointing = false, .enable_progress_bar = false,
       .enable_model_summary = false},
      volt::DDP{}, volt::precision::BF16True{});
  const auto dir = fresh_dir("bf16");
  ::setenv("VOLT_DDP_TEST_OUT", dir.c_str(), 1);  // WorkerData::prepare_data writes its mark there
  ::setenv("RANK", "0", 1);
  std::string message;
  try {
    trainer.fit(module, data);
  } catch (const std::exception& e) {
    message = e.what();
  }
  ::unsetenv("RANK");
  ::unsetenv("VOLT_DDP_TEST_OUT");
  CHECK_THAT(message, Catch::Contains("precision \"bf16-true\""));
  CHECK_THAT(message, Catch::Contains("Gloo backend"));
  CHECK_THAT(message, Catch::Contains("BFloat16"));
  CHECK_THAT(message, Catch::Contains("Fix: use a mixed policy"));
  CHECK(module.steps == 0);
  // The same precision is fine on the one dtype check's other side: float32 and bf16-mixed.
  volt::DDP{}.check_precision(volt::precision::BF16Mixed{});
  volt::DDP{}.check_precision(volt::precision::FP32{});
  fs::remove_all(dir);
}

// Two "hosts" on this machine: a user and network namespace (unshare -rn) with a veth pair,
// whose peer end is moved into a second network namespace; rank 0 runs in the first (10.77.0.1,
// GLOO_SOCKET_IFNAME=va), rank 1 in the second (10.77.0.2, vb), so the rendezvous and every
// collective cross the link. Skipped where unprivileged namespaces, ip (iproute2) or veth are
// not available.
TEST_CASE("DDP across two network namespaces joined by a veth pair equals the one-host run", "[strategy][ddp]") {
  if (std::system("command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 && "
                  "command -v timeout >/dev/null 2>&1 && "
                  "timeout 20 unshare -rn sh -c 'ip link add name va type veth peer name vb' >/dev/null 2>&1") != 0) {
    WARN("volt: skipped: needs unshare (util-linux), ip (iproute2) and permission to create a user and network "
         "namespace with a veth pair (unshare -rn)");
    return;
  }
  const auto out = fresh_dir("two_hosts");
  const auto script = out / "two_hosts.sh";
  std::ofstream(script) << R"(out=$1; exe=$2
common="WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=10.77.0.1 MASTER_PORT=29500 VOLT_DDP_TEST_SCENARIO=fit VOLT_DDP_TEST_OUT=$out OMP_NUM_THREADS=1"
ip link add name va type veth peer name vb || exit 90
ip addr add 10.77.0.1/24 dev va && ip link set va up && ip link set lo up || exit 91
unshare -n sh -c '
  touch "$1/ns_ready"
  i=0; while ! ip link show vb >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 600 ] && exit 92; sleep 0.05; done
  ip addr add 10.77.0.2/24 dev vb && ip link set vb up && ip link set lo up || exit 93
  exec env RANK=1 GLOO_SOCKET_IFNAME=vb '"$common"' "$2" "[ddp_worker]"
' sh "$out" "$exe" &
host_b=$!
i=0; while [ ! -e "$out/ns_ready" ]; do i=$((i+1)); [ $i -gt 600 ] && exit 94; sleep 0.05; done
ip link set vb netns $host_b || exit 95
env RANK=0 GLOO_SOCKET_IFNAME=va $common "$exe" "[ddp_worker]"; r0=$?
wait $host_b; r1=$?
echo "rank 0 exited with $r0, rank 1 with $r1"
[ $r0 -eq 0 ] && [ $r1 -eq 0 ]
)";
  // --pid --fork --kill-child: everything started inside dies with it, also on the timeout.
  const auto command = fmt::format("timeout -k 5 240 unshare -rn --pid --fork --kill-child sh '{}' '{}' '{}' > '{}' 2>&1",
                                    script.string(), out.string(), self_exe(), (out / "two_hosts.log").string());
  const int status = std::system(command.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  INFO("log:\n" << read_text(out / "two_hosts.log"));
  if (code >= 90 && code <= 95) {
    WARN("volt: skipped: the namespaces could not be joined (step " << code << " of the script failed)");
    fs::remove_all(out);
    return;
  }
  REQUIRE(code == 0);
  const auto one_host = fresh_dir("one_host");
  REQUIRE(launch(2, "fit", one_host).exit_code == 0);
  for (int epoch = 0; epoch < kEpochs; ++epoch)
    for (int r = 0; r < 2; ++r)
      CHECK(torch::equal(load(out / fmt::format("rank{}_epoch{}.pt", r, epoch)),
                         load(one_host / fmt::format("rank0_epoch{}.pt", epoch))));
  fs::remove_all(out);
  fs::remove_all(one_host);
}
