// volt::DDP on the FashionMNIST CNN (the network of examples/fashion_mnist), Gloo on this
// machine's cores. Every side runs as fresh processes started by the local launcher
// (strategy/launcher.hpp); the sides alternate (A B C D, then D C B A, ...) and each ratio is the
// median of the per-repetition ratios, because the machine is shared and noisy:
//   throughput  2 processes x 1 intra-op thread (DDP, per-process batch B) against
//               1 process x 2 threads (SingleDevice, batch 2B): the same global batch and data;
//               ratio = DDP samples/s / single samples/s (target >= 0.95)
//   step        the DDP step (2 x 1 thread, per-process batch B) against the single-process step
//               at the same per-process batch (1 process x 1 thread, batch B); ratio = DDP
//               us/step / single us/step (target <= 1.05: the allreduce overlaps backward)
// and the step ratio's two factors, measured in the same repetitions:
//   two_independent / single  two single-process runs (1 thread, batch B each, no DDP) at the
//               same time against one alone: what sharing the machine costs (cores, caches,
//               memory bandwidth, other sessions' load), which no change to DDP can remove;
//   ddp / two_independent     what DDP itself adds (Reducer hooks, bucket copies, allreduce,
//               waiting for the last bucket, buffer broadcast, volt's per-step collectives).
// Each process also splits its step into phases (microseconds per step, mean over processes):
//   forward     training_step entry to on_before_backward (forward, loss, zero_grad, the
//               Reducer's prepare calls);
//   backward    on_before_backward to the last parameter gradient computed (a tensor hook on
//               every parameter), i.e. backward compute, with the Reducer's hooks and copies and
//               whatever allreduce work steals from it;
//   tail        last gradient computed to on_after_backward: under DDP the wait for the last
//               bucket's allreduce and the copies back into .grad (the part not overlapped);
//   optimizer   on_after_backward to on_train_batch_end (Adam, DDP's buffer broadcast);
//   between     on_train_batch_end to the next training_step (loop bookkeeping, reading the
//               preemption decision that DDP shares across ranks, the next batch);
//   cpu         the process's CPU time per step, all threads (Gloo's included), user and system:
//               DDP's extra work without the waiting, and far less sensitive to other processes'
//               load than the wall clock (ratio cnn_cpu_ddp_vs_two_independent).
// Timing covers the steps after `kWarmup` batches until on_train_end (no process start, no
// rendezvous; the two independent processes meet at a barrier before training so that they
// overlap). The data is random tensors of FashionMNIST's shape (1x28x28, 10 classes): the cost
// of a step does not depend on the pixel values.
//
// Options: --quick (2 repetitions, 2048 examples), --reps N, --step-only (skip the 2-thread
// throughput side), and DDP options to compare with the defaults in the same run (one more
// side, `ddp_variant`, alternated with the others): --bucket-cap-mb X, --first-bucket-mb X,
// --bucket-view (gradient_as_bucket_view).
// Output: `bench ddp/<name> ... ratio=<median pair ratio> (pairs: ...)`, then the phases and the
// Reducer's bucket layout (bytes per bucket, in the order they are reduced).
// The program is its own worker: VOLT_DDP_BENCH_ROLE selects what one process runs.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <time.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "fashion_cnn.hpp"

#include <volt/data/tensor_loader.hpp>
#include <volt/strategy/ddp.hpp>
#include <volt/strategy/launcher.hpp>
#include <volt/volt.hpp>

namespace {

constexpr std::uint64_t kSeed = 7;
constexpr std::int64_t kWarmup = 3;  // batches before the clock starts
namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::optional<std::string>(v) : std::nullopt;
}

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

struct FashionCNN : torch::nn::Module {
  torch::nn::Sequential net;
  FashionCNN() { net = register_module("net", volt_bench::fashion_cnn_layers()); }
  torch::Tensor forward(const torch::Tensor& x) { return net->forward(x); }
};

// The CPU time of this process, all its threads (the Reducer's hooks run on the training thread,
// Gloo's allreduce on its own threads), user and system (the loopback's TCP work).
double process_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// The phases of a step, summed over the timed batches (seconds); they add up to `total`. `cpu`:
// the process's CPU time over the same batches, which the load of other processes changes far
// less than the wall-clock time.
struct Phases {
  double total = 0, forward = 0, backward = 0, tail = 0, optimizer = 0, between = 0, cpu = 0;
  std::int64_t batches = 0;
};

struct TimedCNN : FashionCNN {
  Phases phases;
  bool timing = false;
  double cpu_start = 0;
  Clock::time_point start{}, step_start{}, before_backward{}, last_gradient{}, after_backward{}, batch_end{};

  // The time the last parameter gradient of a backward was computed: a hook on every parameter
  // (called by the autograd engine just before the gradient is accumulated).
  void watch_gradients() {
    for (auto& p : parameters()) p.register_hook([this](const torch::Tensor&) { last_gradient = Clock::now(); });
  }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t batch_idx) {
    step_start = Clock::now();
    if (timing) phases.between += seconds_between(batch_end, step_start);
    if (batch_idx == kWarmup) {
      timing = true;
      start = step_start;
      cpu_start = process_cpu_seconds();
    }
    if (timing) ++phases.batches;
    return F::cross_entropy(forward(batch.data), batch.target);
  }
  void on_before_backward(const torch::Tensor&) {
    before_backward = last_gradient = Clock::now();
    if (timing) phases.forward += seconds_between(step_start, before_backward);
  }
  void on_after_backward() {
    after_backward = Clock::now();
    if (!timing) return;
    phases.backward += seconds_between(before_backward, last_gradient);
    phases.tail += seconds_between(last_gradient, after_backward);
  }
  void on_train_batch_end(const torch::Tensor&, const volt::data::Example&, std::int64_t) {
    batch_end = Clock::now();
    if (timing) phases.optimizer += seconds_between(after_backward, batch_end);
  }
  void on_train_end() {
    const auto end = Clock::now();
    phases.between += seconds_between(batch_end, end);
    phases.total = seconds_between(start, end);
    phases.cpu = process_cpu_seconds() - cpu_start;
  }
  auto configure_optimizers() { return torch::optim::Adam(parameters(), torch::optim::AdamOptions(2e-3)); }
};

struct RandomFashion {
  std::int64_t samples, batch_size;
  volt::data::TensorLoader train_dataloader() const {
    torch::manual_seed(kSeed);
    return {torch::randn({samples, 1, 28, 28}), torch::randint(0, 10, {samples}, torch::kLong),
            {.batch_size = batch_size, .shuffle = true, .seed = kSeed}};
  }
};

// The DDP options under test, passed from the parent to the workers.
volt::DDPOptions ddp_options_from_env() {
  volt::DDPOptions o;
  if (auto v = env("VOLT_DDP_BENCH_BUCKET_CAP_MB")) o.bucket_cap_mb = std::stod(*v);
  if (auto v = env("VOLT_DDP_BENCH_FIRST_BUCKET_MB")) o.first_bucket_cap_mb = std::stod(*v);
  if (env("VOLT_DDP_BENCH_BUCKET_VIEW")) o.gradient_as_bucket_view = true;
  return o;
}

// One process of one side: fits one epoch and writes its phases to `<out>.<rank>` (and rank 0
// of DDP the Reducer's bucket layout to `<out>.buckets`).
template <class Strategy>
int run_side(Strategy strategy, std::int64_t samples, std::int64_t batch, const std::string& out, std::int64_t rank) {
  TimedCNN module;
  module.watch_gradients();
  RandomFashion data{samples, batch};
  volt::Trainer<TimedCNN, RandomFashion, Strategy> trainer({.max_epochs = 1, .barebones = true}, std::move(strategy),
                                                           volt::precision::FP32{});
  trainer.fit(module, data);
  const auto& p = module.phases;
  std::ofstream(fmt::format("{}.{}", out, rank))
      << fmt::format("{} {} {} {} {} {} {} {}", p.total, p.batches, p.forward, p.backward, p.tail, p.optimizer, p.between,
                     p.cpu);
  if constexpr (std::is_same_v<Strategy, volt::DDP>)
    if (rank == 0) std::ofstream(out + ".buckets") << fmt::format("{}", fmt::join(trainer.strategy().bucket_bytes(), " "));
  return 0;
}

struct Side {
  std::string name, role;
  std::int64_t procs;
  int threads;
  std::int64_t samples_per_process, batch;
  std::map<std::string, std::string> env{};  // the DDP options of a variant side
};

// Microseconds per step of each phase, the mean over the side's processes.
struct StepTimes {
  double total = 0, forward = 0, backward = 0, tail = 0, optimizer = 0, between = 0, cpu = 0;
  std::int64_t batches = 0;
};

// Runs one side as `procs` fresh processes of this program with `threads` intra-op threads.
StepTimes measure(const Side& side, std::string* buckets) {
  const auto out = std::filesystem::temp_directory_path() / fmt::format("volt_ddp_bench_{}", ::getpid());
  std::map<std::string, std::string> vars = side.env;
  vars.insert({{"VOLT_DDP_BENCH_ROLE", side.role},
               {"VOLT_DDP_BENCH_THREADS", std::to_string(side.threads)},
               {"OMP_NUM_THREADS", std::to_string(side.threads)},
               {"VOLT_DDP_BENCH_SAMPLES", std::to_string(side.samples_per_process * (side.role == "ddp" ? side.procs : 1))},
               {"VOLT_DDP_BENCH_BATCH", std::to_string(side.batch)},
               {"VOLT_DDP_BENCH_OUT", out.string()}});
  const auto result = volt::launch_processes(volt::own_command_line(), {.nprocs = side.procs, .env = vars});
  if (result.exit_code != 0)
    throw std::runtime_error(fmt::format("bench ddp: side {} failed: {}", side.name, result.message));
  StepTimes t;
  for (std::int64_t r = 0; r < side.procs; ++r) {
    const auto file = fmt::format("{}.{}", out.string(), r);
    Phases p;
    std::ifstream(file) >> p.total >> p.batches >> p.forward >> p.backward >> p.tail >> p.optimizer >> p.between >> p.cpu;
    std::filesystem::remove(file);
    if (p.batches <= 0 || p.total <= 0.0)
      throw std::runtime_error(fmt::format("bench ddp: side {} (process {}) reported no timing", side.name, r));
    const double per_step = 1e6 / static_cast<double>(p.batches) / static_cast<double>(side.procs);
    t.total += p.total * per_step;
    t.forward += p.forward * per_step;
    t.backward += p.backward * per_step;
    t.tail += p.tail * per_step;
    t.optimizer += p.optimizer * per_step;
    t.between += p.between * per_step;
    t.cpu += p.cpu * per_step;
    t.batches = p.batches;
  }
  if (buckets && std::filesystem::exists(out.string() + ".buckets")) {
    std::ifstream in(out.string() + ".buckets");
    std::getline(in, *buckets);
    std::filesystem::remove(out.string() + ".buckets");
  }
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  double one = 0, five = 0, fifteen = 0;
  in >> one >> five >> fifteen;
  return fmt::format("{:.2f} {:.2f} {:.2f}", one, five, fifteen);
}

std::string phase_line(const std::string& name, const std::vector<StepTimes>& runs) {
  auto med = [&](double StepTimes::*field) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.*field);
    return median(v);
  };
  return fmt::format("bench ddp/phases_{} us_per_step: forward={:.0f} backward={:.0f} tail={:.0f} optimizer={:.0f} "
                     "between={:.0f} total={:.0f} cpu={:.0f}\n",
                     name, med(&StepTimes::forward), med(&StepTimes::backward), med(&StepTimes::tail),
                     med(&StepTimes::optimizer), med(&StepTimes::between), med(&StepTimes::total), med(&StepTimes::cpu));
}

}  // namespace

int main(int argc, char** argv) {
  if (const auto role = env("VOLT_DDP_BENCH_ROLE")) {  // a worker process
    torch::set_num_threads(std::stoi(env("VOLT_DDP_BENCH_THREADS").value_or("1")));
    const auto samples = std::stoll(env("VOLT_DDP_BENCH_SAMPLES").value());
    const auto batch = std::stoll(env("VOLT_DDP_BENCH_BATCH").value());
    const auto out = env("VOLT_DDP_BENCH_OUT").value();
    const auto rank = std::stoll(env("RANK").value_or("0"));
    if (*role == "ddp") return run_side(volt::DDP(ddp_options_from_env()), samples, batch, out, rank);
    if (*role == "independent") {
      // Two processes that share nothing but the machine: they meet once so that they train at
      // the same time, then each trains alone.
      volt::DDP(volt::DDPOptions{}).barrier();
      return run_side(volt::SingleDevice{}, samples, batch, out, rank);
    }
    return run_side(volt::SingleDevice{}, samples, batch, out, rank);
  }
  bool quick = false, step_only = false;
  int reps = 5;
  std::map<std::string, std::string> ddp_env;
  std::string variant;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("bench ddp: " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--quick") quick = true;
    else if (a == "--step-only") step_only = true;
    else if (a == "--reps") reps = std::stoi(value());
    else if (a == "--bucket-cap-mb") ddp_env["VOLT_DDP_BENCH_BUCKET_CAP_MB"] = value();
    else if (a == "--first-bucket-mb") ddp_env["VOLT_DDP_BENCH_FIRST_BUCKET_MB"] = value();
    else if (a == "--bucket-view") ddp_env["VOLT_DDP_BENCH_BUCKET_VIEW"] = "1";
    else throw std::invalid_argument("bench ddp: unknown option " + a +
                                     " (allowed: --quick --reps N --step-only --bucket-cap-mb X --first-bucket-mb X "
                                     "--bucket-view)");
  }
  for (const auto& [k, v] : ddp_env) variant += fmt::format("{}{}={}", variant.empty() ? "" : ",", k.substr(15), v);
  if (quick) reps = 2;
  const std::int64_t samples = quick ? 2048 : 8192, batch = 64;
  std::vector<Side> sides = {{"ddp", "ddp", 2, 1, samples / 2, batch},
                             {"single", "single", 1, 1, samples / 2, batch},
                             {"two_independent", "independent", 2, 1, samples / 2, batch}};
  if (!step_only) sides.push_back({"single_2threads", "single", 1, 2, samples, 2 * batch});
  // DDP options given: a fifth side, DDP with them, against DDP with the defaults in the same run.
  if (!ddp_env.empty()) sides.push_back({"ddp_variant", "ddp", 2, 1, samples / 2, batch, ddp_env});
  const std::string load_before = load_average();
  std::map<std::string, std::vector<StepTimes>> runs;
  std::string buckets, variant_buckets;
  std::vector<double> throughput_pairs, step_pairs, contention_pairs, own_pairs, cpu_pairs, variant_pairs;
  for (int rep = 0; rep < reps; ++rep) {
    // A B C D, then D C B A: the order flips every repetition.
    std::vector<Side> order = sides;
    if (rep % 2 == 1) std::reverse(order.begin(), order.end());
    std::map<std::string, StepTimes> t;
    for (const auto& side : order)
      t[side.name] = measure(side, side.name == "ddp" ? &buckets : side.name == "ddp_variant" ? &variant_buckets : nullptr);
    if (!ddp_env.empty()) variant_pairs.push_back(t["ddp_variant"].total / t["ddp"].total);
    for (const auto& [name, times] : t) runs[name].push_back(times);
    step_pairs.push_back(t["ddp"].total / t["single"].total);
    contention_pairs.push_back(t["two_independent"].total / t["single"].total);
    own_pairs.push_back(t["ddp"].total / t["two_independent"].total);
    cpu_pairs.push_back(t["ddp"].cpu / t["two_independent"].cpu);
    // Samples per second: DDP's two ranks each take `batch` per step; the 2-thread process 2 x batch.
    if (!step_only) throughput_pairs.push_back(t["single_2threads"].total / t["ddp"].total);
  }
  auto med_total = [&](const std::string& name) {
    std::vector<double> v;
    for (const auto& r : runs[name]) v.push_back(r.total);
    return median(v);
  };
  std::cout << fmt::format("bench ddp/setup reps={} samples={} load_average_before={} after={}\n", reps, samples,
                           load_before, load_average());
  if (!step_only) {
    std::cout << fmt::format("bench ddp/cnn_1proc_2threads samples_per_s={:.0f} (batch {})\n",
                             2e6 * static_cast<double>(batch) / med_total("single_2threads"), 2 * batch);
    std::cout << fmt::format(
        "bench ddp/cnn_2procs_1thread samples_per_s={:.0f} (batch {} per process) ratio={:.3f} (pairs: {:.3f}) "
        "target>=0.95\n",
        2e6 * static_cast<double>(batch) / med_total("ddp"), batch, median(throughput_pairs),
        fmt::join(throughput_pairs, " "));
  }
  std::cout << fmt::format("bench ddp/cnn_step_1proc_1thread us_per_step={:.0f} (batch {})\n", med_total("single"), batch);
  std::cout << fmt::format(
      "bench ddp/cnn_step_ddp_2procs us_per_step={:.0f} (batch {} per process) ratio={:.3f} (pairs: {:.3f}) "
      "target<=1.05\n",
      med_total("ddp"), batch, median(step_pairs), fmt::join(step_pairs, " "));
  std::cout << fmt::format(
      "bench ddp/cnn_step_two_independent us_per_step={:.0f} (2 processes x 1 thread, no DDP) "
      "ratio_to_single={:.3f} (pairs: {:.3f})\n",
      med_total("two_independent"), median(contention_pairs), fmt::join(contention_pairs, " "));
  std::cout << fmt::format("bench ddp/cnn_step_ddp_vs_two_independent ratio={:.3f} (pairs: {:.3f})\n",
                           median(own_pairs), fmt::join(own_pairs, " "));
  std::cout << fmt::format("bench ddp/cnn_cpu_ddp_vs_two_independent ratio={:.3f} (pairs: {:.3f}) (CPU time per step "
                           "and process, all threads)\n",
                           median(cpu_pairs), fmt::join(cpu_pairs, " "));
  if (!ddp_env.empty())
    std::cout << fmt::format("bench ddp/cnn_step_ddp_variant us_per_step={:.0f} ({}) ratio_to_ddp_defaults={:.3f} "
                             "(pairs: {:.3f})\n",
                             med_total("ddp_variant"), variant, median(variant_pairs), fmt::join(variant_pairs, " "));
  for (const auto& name : {"single", "two_independent", "ddp", "ddp_variant"})
    if (runs.count(name)) std::cout << phase_line(name, runs[name]);
  std::cout << fmt::format("bench ddp/buckets bytes={} (in the order they are reduced)\n", buckets);
  if (!ddp_env.empty()) std::cout << fmt::format("bench ddp/buckets_variant bytes={}\n", variant_buckets);
  return 0;
}
