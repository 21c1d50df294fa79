// volt's Trainer against a hand-written libtorch loop, same model, data, order and seed, one
// intra-op thread. Sides, per model:
//   hand        (a) the loop a person writes with libtorch alone
//   barebones   (b) volt with everything off (TrainerOptions::barebones)
//   log_bar     (c) volt, one ctx.log per step and the progress bar on
//   hand_val        (a) plus a validation pass every epoch, written by hand
//   val         (d) volt with validation every epoch (barebones otherwise)
// Runs alternate (hand, volt, hand, volt, ...; the order flips every repetition) and each volt
// side's ratio is the median of its per-pair ratios, because the machine is shared and noisy.
// Every volt run must end with the same weights (and buffers, and validation sums) as its hand
// twin, bit for bit; otherwise the program prints FAIL and exits 1.
//
// Output: `bench <model>/<side> us_per_step=<median> ratio=<median pair ratio>`.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <streambuf>
#include <string>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "fashion_cnn.hpp"

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

constexpr std::uint64_t kSeed = 7;
namespace F = torch::nn::functional;

struct Dataset {
  torch::Tensor x, y, val_x, val_y;
};

struct Config {
  std::string name;
  std::int64_t epochs;
  std::int64_t batch_size;
  std::int64_t val_batch_size;
  int reps;
};

// 784-32-10 with plain SGD: the cheapest step, where any per-step framework cost shows most.
struct TinyMLP : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  TinyMLP() {
    fc1 = register_module("fc1", torch::nn::Linear(784, 32));
    fc2 = register_module("fc2", torch::nn::Linear(32, 10));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::relu(fc1(x))); }
  torch::optim::SGD make_optimizer() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.05)); }
};

// The network of examples/fashion_mnist (channels 32, hidden 128), Adam without the scheduler.
struct FashionCNN : torch::nn::Module {
  torch::nn::Sequential net;
  FashionCNN() { net = register_module("net", volt_bench::fashion_cnn_layers()); }
  torch::Tensor forward(const torch::Tensor& x) { return net->forward(x); }
  torch::optim::Adam make_optimizer() { return torch::optim::Adam(parameters(), torch::optim::AdamOptions(2e-3)); }
};

// The volt module: the same network (same registration order, so the same initial weights
// under the same seed) plus the hooks. Log: one ctx.log per training step.
template <class Net, bool Log>
struct VoltModule : Net {
  torch::Tensor val_sum = torch::zeros({});  // what validation computed, to compare with the hand loop

  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    auto loss = F::cross_entropy(this->forward(batch.data), batch.target);
    if constexpr (Log) ctx.log("train_loss", loss, {.prog_bar = true});
    return loss;
  }
  void validation_step(const volt::data::Example& batch, std::int64_t) {
    val_sum = val_sum + F::cross_entropy(this->forward(batch.data), batch.target);
  }
  auto configure_optimizers() { return this->make_optimizer(); }
};

struct TrainData {
  const Dataset* d;
  const Config* c;
  volt::data::TensorLoader train_dataloader() const {
    return {d->x, d->y, {.batch_size = c->batch_size, .shuffle = true, .seed = kSeed}};
  }
};
struct TrainValData : TrainData {
  volt::data::TensorLoader val_dataloader() const { return {d->val_x, d->val_y, {.batch_size = c->val_batch_size}}; }
};

// (a): what a person writes. The epoch order is TensorLoader's (one randperm from a generator
// seeded with seed_mix(seed, epoch), one gather of the dataset into a reused buffer), so both
// sides see the same batches.
template <class Net>
void hand_fit(Net& model, torch::Tensor& val_sum, const Dataset& d, const Config& c, bool validate) {
  auto optimizer = model.make_optimizer();
  model.train();
  const std::int64_t n = d.x.size(0);
  torch::Tensor xs, ys;
  for (std::int64_t epoch = 0; epoch < c.epochs; ++epoch) {
    {
      torch::NoGradGuard no_grad;
      at::Generator gen = at::detail::createCPUGenerator(volt::data::seed_mix(kSeed, epoch));
      const auto perm = at::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong));
      if (xs.defined()) {
        at::index_select_out(xs, d.x, 0, perm);
        at::index_select_out(ys, d.y, 0, perm);
      } else {
        xs = d.x.index_select(0, perm);
        ys = d.y.index_select(0, perm);
      }
    }
    for (std::int64_t start = 0; start < n; start += c.batch_size) {
      const std::int64_t stop = std::min(start + c.batch_size, n);
      auto loss = F::cross_entropy(model.forward(xs.slice(0, start, stop)), ys.slice(0, start, stop));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
    }
    if (validate) {
      model.eval();
      {
        c10::InferenceMode inference;
        const std::int64_t vn = d.val_x.size(0);
        for (std::int64_t start = 0; start < vn; start += c.val_batch_size) {
          const std::int64_t stop = std::min(start + c.val_batch_size, vn);
          val_sum = val_sum + F::cross_entropy(model.forward(d.val_x.slice(0, start, stop)),
                                               d.val_y.slice(0, start, stop));
        }
      }
      model.train();
    }
  }
}

// A stream that drops what the progress bar writes, so bars do not mix with the bench lines.
struct NullBuffer : std::streambuf {
  int overflow(int c) override { return c; }
};
NullBuffer null_buffer;
std::ostream null_stream(&null_buffer);

// One timed run: the model is built (seeded) before the clock starts; the clock covers the
// optimizer / Trainer construction and the whole fit.
struct RunResult {
  double us_per_step;
  std::vector<torch::Tensor> state;  // parameters, buffers, validation sum
};

template <class M>
std::vector<torch::Tensor> final_state(M& model, const torch::Tensor& val_sum) {
  std::vector<torch::Tensor> out;
  for (const auto& p : model.parameters()) out.push_back(p.detach().clone());
  for (const auto& b : model.buffers()) out.push_back(b.detach().clone());
  out.push_back(val_sum.clone());
  return out;
}

// Not inlined, so valgrind --toggle-collect='*elapsed_us*' counts exactly the timed region.
template <class F>
[[gnu::noinline]] double elapsed_us(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

enum class Side { hand, barebones, log_bar, hand_val, val };
constexpr const char* side_name(Side s) {
  switch (s) {
    case Side::hand: return "hand";
    case Side::barebones: return "barebones";
    case Side::log_bar: return "log_bar";
    case Side::hand_val: return "hand_val";
    case Side::val: return "val";
  }
  return "?";
}

template <class Net>
RunResult run_side(Side side, const Dataset& d, const Config& c) {
  const std::int64_t steps = c.epochs * ((d.x.size(0) + c.batch_size - 1) / c.batch_size);
  torch::manual_seed(kSeed);  // same initial weights and dropout draws on every side
  double us = 0;
  switch (side) {
    case Side::hand:
    case Side::hand_val: {
      Net model;
      torch::Tensor val_sum = torch::zeros({});
      us = elapsed_us([&] { hand_fit(model, val_sum, d, c, side == Side::hand_val); });
      return {us / static_cast<double>(steps), final_state(model, val_sum)};
    }
    case Side::barebones: {
      VoltModule<Net, false> model;
      TrainData data{&d, &c};
      us = elapsed_us([&] {
        volt::Trainer<VoltModule<Net, false>, TrainData> trainer{
            {.max_epochs = c.epochs, .barebones = true}, volt::SingleDevice{torch::kCPU}, {}};
        trainer.fit(model, data);
      });
      return {us / static_cast<double>(steps), final_state(model, model.val_sum)};
    }
    case Side::log_bar: {
      VoltModule<Net, true> model;
      TrainData data{&d, &c};
      us = elapsed_us([&] {
        // A terminal bar (redrawn every 0.1 s, the most work a bar does) into a null stream.
        volt::Trainer<VoltModule<Net, true>, TrainData, volt::SingleDevice, volt::precision::FP32, volt::ProgressBar>
            trainer{{.logger = false,
                     .max_epochs = c.epochs,
                     .enable_checkpointing = false,
                     .enable_model_summary = false},
                    volt::SingleDevice{torch::kCPU},
                    {},
                    volt::ProgressBar{{.out = &null_stream, .is_terminal = true}}};
        trainer.fit(model, data);
      });
      return {us / static_cast<double>(steps), final_state(model, model.val_sum)};
    }
    case Side::val: {
      VoltModule<Net, false> model;
      TrainValData data{{&d, &c}};
      us = elapsed_us([&] {
        volt::Trainer<VoltModule<Net, false>, TrainValData> trainer{
            {.max_epochs = c.epochs, .barebones = true}, volt::SingleDevice{torch::kCPU}, {}};
        trainer.fit(model, data);
      });
      return {us / static_cast<double>(steps), final_state(model, model.val_sum)};
    }
  }
  return {};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Bit-for-bit: same ops on the same data in the same order with one thread.
bool same_state(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b, double& max_diff) {
  max_diff = 0;
  if (a.size() != b.size()) return false;
  bool same = true;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) {
      same = false;
      max_diff = std::max(max_diff, (a[i].to(torch::kDouble) - b[i].to(torch::kDouble)).abs().max().item<double>());
    }
  }
  return same;
}

template <class Net>
bool bench_model(const Dataset& d, const Config& c) {
  // Pairs (reference, side): each volt side is timed right next to its hand twin.
  const std::vector<std::pair<Side, Side>> pairs = {
      {Side::hand, Side::barebones}, {Side::hand, Side::log_bar}, {Side::hand_val, Side::val}};
  std::map<Side, std::vector<double>> us;
  std::map<Side, std::vector<double>> ratio;
  bool ok = true;
  for (int rep = -1; rep < c.reps; ++rep) {  // rep -1 warms up (allocator, caches) and is not kept
    for (const auto& [ref, side] : pairs) {
      RunResult r_ref, r_side;
      if (rep % 2 == 0) {
        r_ref = run_side<Net>(ref, d, c);
        r_side = run_side<Net>(side, d, c);
      } else {
        r_side = run_side<Net>(side, d, c);
        r_ref = run_side<Net>(ref, d, c);
      }
      double diff = 0;
      if (!same_state(r_ref.state, r_side.state, diff)) {
        std::cout << fmt::format("bench FAIL {}/{}: final weights differ from {} (max abs diff {:.3g})", c.name,
                                 side_name(side), side_name(ref), diff)
                  << std::endl;
        ok = false;
      }
      if (rep < 0) continue;
      us[ref].push_back(r_ref.us_per_step);
      us[side].push_back(r_side.us_per_step);
      ratio[side].push_back(r_side.us_per_step / r_ref.us_per_step);
    }
  }
  const double hand = median(us[Side::hand]);
  auto print = [&](Side s, double r) {
    std::cout << fmt::format("bench {}/{} us_per_step={:.1f} ratio={:.3f}", c.name, side_name(s), median(us[s]), r)
              << std::endl;
  };
  print(Side::hand, 1.0);
  print(Side::barebones, median(ratio[Side::barebones]));
  print(Side::log_bar, median(ratio[Side::log_bar]));
  // hand_val against hand: not paired (ratio of medians); what validation itself costs.
  print(Side::hand_val, median(us[Side::hand_val]) / hand);
  print(Side::val, median(us[Side::val]) / hand);
  // (d)'s target: volt's validation costs what the hand loop's validation batches cost.
  std::cout << fmt::format("bench {}/val_vs_hand_val ratio={:.3f} val_batches_us_per_step={:.1f}", c.name,
                           median(ratio[Side::val]), median(us[Side::hand_val]) - hand)
            << std::endl;
  return ok;
}

Dataset make_data(std::int64_t n, std::int64_t val_n, std::vector<std::int64_t> shape) {
  torch::manual_seed(1);
  shape.insert(shape.begin(), n);
  auto val_shape = shape;
  val_shape[0] = val_n;
  return {torch::randn(shape), torch::randint(10, {n}, torch::kLong), torch::randn(val_shape),
          torch::randint(10, {val_n}, torch::kLong)};
}

// --only <model>/<side>: that run alone, `reps` times, unpaired (for a profiler such as
// valgrind --tool=callgrind, whose instruction counts do not depend on the machine's load).
template <class Net>
void run_only(const std::string& side, const Dataset& d, const Config& c) {
  for (const Side s : {Side::hand, Side::barebones, Side::log_bar, Side::hand_val, Side::val}) {
    if (side != side_name(s)) continue;
    for (int rep = 0; rep < c.reps; ++rep)
      std::cout << fmt::format("only {}/{} us_per_step={:.1f}", c.name, side, run_side<Net>(s, d, c).us_per_step)
                << std::endl;
  }
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  // --quick: a smoke run (CI-sized); default: the numbers docs/performance.md reports.
  const std::vector<std::string> args(argv + 1, argv + argc);
  const bool quick = std::find(args.begin(), args.end(), "--quick") != args.end();
  std::string only;
  if (auto it = std::find(args.begin(), args.end(), "--only"); it != args.end() && it + 1 != args.end()) only = *(it + 1);
  const Config mlp{"mlp", quick ? 1 : 3, 16, 64, quick ? 1 : 16};
  const Config cnn{"cnn", 2, 64, 64, quick ? 1 : 6};  // an even count: each order (ref first, side first) equally often
  auto mlp_data = [&] { return make_data(4096, 1024, {784}); };
  auto cnn_data = [&] { return make_data(quick ? 256 : 1024, 256, {1, 28, 28}); };
  if (!only.empty()) {
    if (only.rfind("mlp/", 0) == 0) run_only<TinyMLP>(only.substr(4), mlp_data(), mlp);
    if (only.rfind("cnn/", 0) == 0) run_only<FashionCNN>(only.substr(4), cnn_data(), cnn);
    return 0;
  }
  bool ok = true;
  ok &= bench_model<TinyMLP>(mlp_data(), mlp);
  ok &= bench_model<FashionCNN>(cnn_data(), cnn);
  if (!ok) {
    std::cout << "bench FAIL: volt and the hand-written loop did different work" << std::endl;
    return 1;
  }
  return 0;
}
