// volt::DDP on the FashionMNIST CNN (the network of examples/fashion_mnist), Gloo on this
// machine's cores. Two comparisons, each run as fresh processes started by the local launcher
// (strategy/launcher.hpp), alternating the sides (A B, then B A, ...) and reporting the median of
// the per-pair ratios, because the machine is shared and noisy:
//   throughput  2 processes x 1 intra-op thread (DDP, per-process batch B) against
//               1 process x 2 threads (SingleDevice, batch 2B): the same global batch and data;
//               ratio = DDP samples/s / single samples/s (target >= 0.95)
//   step        the DDP step (2 x 1 thread, per-process batch B) against the single-process step
//               at the same per-process batch (1 process x 1 thread, batch B); ratio = DDP
//               us/step / single us/step (target <= 1.05: the allreduce overlaps backward)
// Timing covers the steps after `kWarmup` batches until on_train_end (no process start, no
// rendezvous). The data is random tensors of FashionMNIST's shape (1x28x28, 10 classes): the
// cost of a step does not depend on the pixel values.
//
// Output: `bench ddp/<name> ... ratio=<median pair ratio> (pairs: ...)`.
// The program is its own worker: VOLT_DDP_BENCH_ROLE selects what one process runs.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

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

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::optional<std::string>(v) : std::nullopt;
}

struct FashionCNN : torch::nn::Module {
  torch::nn::Sequential net;
  FashionCNN() { net = register_module("net", volt_bench::fashion_cnn_layers()); }
  torch::Tensor forward(const torch::Tensor& x) { return net->forward(x); }
};

struct TimedCNN : FashionCNN {
  std::chrono::steady_clock::time_point start{};
  double seconds = 0.0;
  std::int64_t timed_batches = 0;
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t batch_idx) {
    if (batch_idx == kWarmup) start = std::chrono::steady_clock::now();
    if (batch_idx >= kWarmup) ++timed_batches;
    return F::cross_entropy(forward(batch.data), batch.target);
  }
  void on_train_end() { seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); }
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

// One process of one side: fits one epoch and (rank 0) writes "seconds timed_batches".
template <class Strategy>
int run_side(Strategy strategy, std::int64_t samples, std::int64_t batch, const std::string& out) {
  TimedCNN module;
  RandomFashion data{samples, batch};
  const bool rank0 = strategy.global_rank() == 0;
  volt::Trainer<TimedCNN, RandomFashion, Strategy> trainer({.max_epochs = 1, .barebones = true}, std::move(strategy),
                                                           volt::precision::FP32{});
  trainer.fit(module, data);
  if (rank0) std::ofstream(out) << fmt::format("{} {}", module.seconds, module.timed_batches);
  return 0;
}

struct Timing {
  double seconds = 0.0;
  std::int64_t batches = 0;
};

// Runs one side as `procs` fresh processes of this program with `threads` intra-op threads.
Timing measure(const std::string& role, std::int64_t procs, int threads, std::int64_t samples, std::int64_t batch) {
  const auto out = std::filesystem::temp_directory_path() / fmt::format("volt_ddp_bench_{}.txt", ::getpid());
  std::filesystem::remove(out);
  const auto result = volt::launch_processes(
      volt::own_command_line(),
      {.nprocs = procs,
       .env = {{"VOLT_DDP_BENCH_ROLE", role}, {"VOLT_DDP_BENCH_THREADS", std::to_string(threads)},
               {"OMP_NUM_THREADS", std::to_string(threads)}, {"VOLT_DDP_BENCH_SAMPLES", std::to_string(samples)},
               {"VOLT_DDP_BENCH_BATCH", std::to_string(batch)}, {"VOLT_DDP_BENCH_OUT", out.string()}}});
  if (result.exit_code != 0) throw std::runtime_error(fmt::format("bench ddp: side {} failed: {}", role, result.message));
  Timing t;
  std::ifstream(out) >> t.seconds >> t.batches;
  std::filesystem::remove(out);
  if (t.batches <= 0 || t.seconds <= 0.0) throw std::runtime_error("bench ddp: side " + role + " reported no timing");
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  if (const auto role = env("VOLT_DDP_BENCH_ROLE")) {  // a worker process
    torch::set_num_threads(std::stoi(env("VOLT_DDP_BENCH_THREADS").value_or("1")));
    const auto samples = std::stoll(env("VOLT_DDP_BENCH_SAMPLES").value());
    const auto batch = std::stoll(env("VOLT_DDP_BENCH_BATCH").value());
    const auto out = env("VOLT_DDP_BENCH_OUT").value();
    if (*role == "ddp") return run_side(volt::DDP{}, samples, batch, out);
    return run_side(volt::SingleDevice{}, samples, batch, out);
  }
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const std::int64_t samples = quick ? 2048 : 8192, batch = 64;
  const int reps = quick ? 2 : 5;
  std::vector<double> throughput_pairs, step_pairs;
  std::vector<double> ddp_us, single1_us, ddp_sps, single2_sps;
  for (int rep = 0; rep < reps; ++rep) {
    Timing ddp, single2, single1;
    // A B A B: the order flips every repetition.
    if (rep % 2 == 0) {
      ddp = measure("ddp", 2, 1, samples, batch);
      single2 = measure("single", 1, 2, samples, 2 * batch);
      single1 = measure("single", 1, 1, samples / 2, batch);
    } else {
      single1 = measure("single", 1, 1, samples / 2, batch);
      single2 = measure("single", 1, 2, samples, 2 * batch);
      ddp = measure("ddp", 2, 1, samples, batch);
    }
    // Samples per second over the timed batches: DDP's two ranks each take `batch` per step.
    const double ddp_rate = static_cast<double>(2 * batch * ddp.batches) / ddp.seconds;
    const double single2_rate = static_cast<double>(2 * batch * single2.batches) / single2.seconds;
    const double ddp_step = 1e6 * ddp.seconds / static_cast<double>(ddp.batches);
    const double single1_step = 1e6 * single1.seconds / static_cast<double>(single1.batches);
    throughput_pairs.push_back(ddp_rate / single2_rate);
    step_pairs.push_back(ddp_step / single1_step);
    ddp_sps.push_back(ddp_rate);
    single2_sps.push_back(single2_rate);
    ddp_us.push_back(ddp_step);
    single1_us.push_back(single1_step);
  }
  std::cout << fmt::format("bench ddp/cnn_1proc_2threads samples_per_s={:.0f} (batch {})\n", median(single2_sps),
                           2 * batch);
  std::cout << fmt::format(
      "bench ddp/cnn_2procs_1thread samples_per_s={:.0f} (batch {} per process) ratio={:.3f} (pairs: {:.3f}) "
      "target>=0.95\n",
      median(ddp_sps), batch, median(throughput_pairs), fmt::join(throughput_pairs, " "));
  std::cout << fmt::format("bench ddp/cnn_step_1proc_1thread us_per_step={:.0f} (batch {})\n", median(single1_us), batch);
  std::cout << fmt::format(
      "bench ddp/cnn_step_ddp_2procs us_per_step={:.0f} (batch {} per process) ratio={:.3f} (pairs: {:.3f}) "
      "target<=1.05\n",
      median(ddp_us), batch, median(step_pairs), fmt::join(step_pairs, " "));
  return 0;
}
