// Precision policies against fp32, in one run, through volt's Trainer (barebones fits, one
// intra-op thread). Sides, per model: fp32 (precision::FP32) and bf16-mixed (BF16Mixed).
//   tiny   784-32-10 MLP, SGD, batch 16 (the training bench's mlp): per-step overhead dominates
//   wide   784-1024-1024-10 MLP, SGD, batch 256: matmul-bound, where bf16 pays off
//   cnn    the FashionMNIST example's CNN, Adam, batch 64, one epoch of the real data, then the
//          test accuracy of each side (bf16 conv is slower than fp32 on CPUs without AMX)
// Runs alternate (fp32, bf16, bf16, fp32, ...) and each ratio is the median of per-pair ratios,
// because the machine is shared and noisy. Not a test: it prints, it does not judge.
//
// Output: `bench precision/<model>/<side> us_per_step=<median> speedup=<median fp32/side>`
//         (cnn also: test_acc=<fraction> delta_acc_points=<side - fp32, in points>).
//
// --profile: where bf16-mixed spends the wide MLP's step, instead of the lines above. It times
// volt's Trainer against a hand-written libtorch loop doing the same step (autocast around
// forward and loss, backward and SGD outside), alternating, so volt's own overhead shows as
// the difference; then it runs 16 steps of each policy under volt::TorchProfiler and prints
// torch's operator table (self CPU time), where autocast's casts are aten::copy_ / _to_copy.
#include <algorithm>
#include <chrono>
#include <utility>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include "fashion_cnn.hpp"

#include <volt/data/fashion_mnist.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/profilers/torch.hpp>
#include <volt/volt.hpp>

namespace {

namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

// The training loop's own time (on_train_start to on_train_end): not the DataModule's setup
// (FashionMNIST decodes its files there) or the Trainer's.
struct Timed {
  Clock::time_point started, ended;
  void on_train_start() { started = Clock::now(); }
  void on_train_end() { ended = Clock::now(); }
  double us() const { return std::chrono::duration<double, std::micro>(ended - started).count(); }
};

struct MLP : torch::nn::Module, Timed {
  torch::nn::Sequential net;
  MLP(std::int64_t hidden, int layers) {
    net = torch::nn::Sequential(torch::nn::Linear(784, hidden), torch::nn::ReLU());
    for (int i = 1; i < layers; ++i) {
      net->push_back(torch::nn::Linear(hidden, hidden));
      net->push_back(torch::nn::ReLU());
    }
    net->push_back(torch::nn::Linear(hidden, 10));
    register_module("net", net);
  }
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t) {
    return F::cross_entropy(net->forward(b.data), b.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.05)); }
};

struct MLPData {
  torch::Tensor x, y;
  std::int64_t batch_size;
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = batch_size, .shuffle = true, .seed = 7}}; }
};

// examples/fashion_mnist's network (channels 32, hidden 128), Adam 2e-3.
struct CNN : torch::nn::Module, Timed {
  torch::nn::Sequential net;
  torch::Tensor correct = torch::zeros({}, torch::kLong);
  std::int64_t seen = 0;
  CNN() { net = register_module("net", volt_bench::fashion_cnn_layers()); }
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t) {
    return F::cross_entropy(net->forward(b.data), b.target);
  }
  void test_step(const volt::data::Example& b, std::int64_t) {
    correct += net->forward(b.data).argmax(1).eq(b.target).sum();
    seen += b.target.size(0);
  }
  auto configure_optimizers() { return torch::optim::Adam(parameters(), torch::optim::AdamOptions(2e-3)); }
  double accuracy() const { return static_cast<double>(correct.item<std::int64_t>()) / static_cast<double>(seen); }
};

volt::TrainerOptions barebones(std::int64_t epochs, std::int64_t max_steps = -1) {
  return {.max_epochs = epochs, .max_steps = max_steps, .barebones = true,
          .default_root_dir = (std::filesystem::temp_directory_path() / "volt_precision_bench").string()};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Microseconds per step of one fit of a fresh model (same seed on both sides).
template <class Precision, class Model, class Data, class Make>
double us_per_step(Make make, Data& data, std::int64_t epochs, std::int64_t steps) {
  torch::manual_seed(1);
  Model model = make();
  volt::Trainer<Model, Data, volt::SingleDevice, Precision> trainer(barebones(epochs, steps));
  trainer.fit(model, data);
  return model.us() / static_cast<double>(trainer.global_step());
}

template <class Model, class Data, class Make>
void bench_mlp(const std::string& name, Make make, Data& data, std::int64_t steps, int reps) {
  us_per_step<volt::precision::FP32, Model>(make, data, 1, 2);  // warm-up (allocator, OpenBLAS threads)
  us_per_step<volt::precision::BF16Mixed, Model>(make, data, 1, 2);
  std::vector<double> fp32, bf16, ratio;
  for (int r = 0; r < reps; ++r) {
    double a, b;
    if (r % 2 == 0) {
      a = us_per_step<volt::precision::FP32, Model>(make, data, 1000, steps);
      b = us_per_step<volt::precision::BF16Mixed, Model>(make, data, 1000, steps);
    } else {
      b = us_per_step<volt::precision::BF16Mixed, Model>(make, data, 1000, steps);
      a = us_per_step<volt::precision::FP32, Model>(make, data, 1000, steps);
    }
    fp32.push_back(a);
    bf16.push_back(b);
    ratio.push_back(a / b);
  }
  std::cout << fmt::format("bench precision/{}/32-true us_per_step={:.1f} speedup=1.00", name, median(fp32)) << std::endl;
  std::cout << fmt::format("bench precision/{}/bf16-mixed us_per_step={:.1f} speedup={:.2f}", name, median(bf16),
                           median(ratio))
            << std::endl;
}

template <class Precision>
std::pair<double, double> cnn_epoch(volt::data::FashionMNIST& data, std::int64_t max_steps) {
  torch::manual_seed(1);
  CNN model;
  volt::Trainer<CNN, volt::data::FashionMNIST, volt::SingleDevice, Precision> trainer(barebones(1, max_steps));
  trainer.fit(model, data);
  const double per_step = model.us() / static_cast<double>(trainer.global_step());
  trainer.test(model, data);
  return {per_step, model.accuracy()};
}

// The same training as the wide MLP fit, written by hand on libtorch: the baseline volt's own
// per-step overhead is measured against. Same model, data order, loss, optimizer and autocast.
double raw_us_per_step(bool bf16, MLPData& data, std::int64_t steps) {
  torch::manual_seed(1);
  MLP model(1024, 2);
  torch::optim::SGD sgd(model.parameters(), torch::optim::SGDOptions(0.05));
  volt::data::TensorLoader loader = data.train_dataloader();
  loader.set_epoch(0);
  std::int64_t done = 0;
  const auto started = Clock::now();
  for (const auto& batch : loader) {
    if (done == steps) break;
    torch::Tensor loss;
    {
      std::optional<volt::precision::AutocastGuard> autocast;
      if (bf16) autocast.emplace(torch::kCPU, torch::kBFloat16);
      loss = F::cross_entropy(model.net->forward(batch.data), batch.target);
    }
    sgd.zero_grad();
    loss.backward();
    sgd.step();
    ++done;
  }
  return std::chrono::duration<double, std::micro>(Clock::now() - started).count() / static_cast<double>(done);
}

template <class Precision>
void profile_wide(MLPData& data, std::int64_t steps) {
  torch::manual_seed(1);
  MLP model(1024, 2);
  volt::TorchProfiler profiler{{.sort_by_key = "self_cpu_time_total", .row_limit = 14}};
  volt::TrainerOptions options = barebones(1, steps);  // barebones' settings, spelled out, with a profiler
  options.barebones = false;
  options.logger = false;
  options.enable_checkpointing = false;
  options.enable_progress_bar = false;
  options.enable_model_summary = false;
  volt::Trainer<MLP, MLPData, volt::SingleDevice, Precision, volt::TorchProfiler> trainer(
      std::move(options), volt::SingleDevice{}, Precision{}, std::move(profiler));
  std::cout << "profile precision/wide/" << Precision::name << " (" << steps << " steps):" << std::endl;
  trainer.fit(model, data);
}

int profile(bool quick) {
  MLPData data{torch::randn({4096, 784}), torch::randint(0, 10, {4096}), 256};
  const std::int64_t steps = quick ? 4 : 16;
  const int reps = quick ? 2 : 6;
  us_per_step<volt::precision::BF16Mixed, MLP>([] { return MLP(1024, 2); }, data, 1, 2);  // warm-up
  raw_us_per_step(true, data, 2);
  std::vector<double> volt_fp32, raw_fp32, volt_bf16, raw_bf16;
  for (int r = 0; r < reps; ++r) {
    auto make = [] { return MLP(1024, 2); };
    volt_fp32.push_back(us_per_step<volt::precision::FP32, MLP>(make, data, 1, steps));
    raw_fp32.push_back(raw_us_per_step(false, data, steps));
    raw_bf16.push_back(raw_us_per_step(true, data, steps));
    volt_bf16.push_back(us_per_step<volt::precision::BF16Mixed, MLP>(make, data, 1, steps));
  }
  std::cout << fmt::format("profile precision/wide volt_vs_libtorch 32-true: volt {:.1f} us/step, libtorch {:.1f} us/step",
                           median(volt_fp32), median(raw_fp32))
            << std::endl;
  std::cout << fmt::format("profile precision/wide volt_vs_libtorch bf16-mixed: volt {:.1f} us/step, libtorch {:.1f} us/step",
                           median(volt_bf16), median(raw_bf16))
            << std::endl;
  std::cout << fmt::format("profile precision/wide speedup: volt {:.2f}x, libtorch {:.2f}x",
                           median(volt_fp32) / median(volt_bf16), median(raw_fp32) / median(raw_bf16))
            << std::endl;
  profile_wide<volt::precision::FP32>(data, steps);
  profile_wide<volt::precision::BF16Mixed>(data, steps);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  const std::vector<std::string> args(argv + 1, argv + argc);
  const bool quick = std::find(args.begin(), args.end(), "--quick") != args.end();
  torch::manual_seed(0);
  if (std::find(args.begin(), args.end(), "--profile") != args.end()) return profile(quick);
  {
    MLPData data{torch::randn({4096, 784}), torch::randint(0, 10, {4096}), 16};
    bench_mlp<MLP>("tiny", [] { return MLP(32, 1); }, data, quick ? 20 : 200, quick ? 2 : 10);
  }
  {
    MLPData data{torch::randn({4096, 784}), torch::randint(0, 10, {4096}), 256};
    bench_mlp<MLP>("wide", [] { return MLP(1024, 2); }, data, quick ? 4 : 16, quick ? 2 : 10);
  }
  if (!std::filesystem::exists(volt::data::FashionMNISTOptions{}.root)) {
    std::cout << "bench precision/cnn skipped: no FashionMNIST (apt-get install dataset-fashion-mnist)" << std::endl;
    return 0;
  }
  volt::data::FashionMNIST data;
  const std::int64_t steps = quick ? 20 : -1;  // -1: the whole epoch
  cnn_epoch<volt::precision::FP32>(data, 3);      // warm-up (oneDNN's first convolutions)
  cnn_epoch<volt::precision::BF16Mixed>(data, 3);
  const auto [fp32_us, fp32_acc] = cnn_epoch<volt::precision::FP32>(data, steps);
  const auto [bf16_us, bf16_acc] = cnn_epoch<volt::precision::BF16Mixed>(data, steps);
  std::cout << fmt::format("bench precision/cnn/32-true us_per_step={:.1f} speedup=1.00 test_acc={:.4f}", fp32_us,
                           fp32_acc)
            << std::endl;
  std::cout << fmt::format(
                   "bench precision/cnn/bf16-mixed us_per_step={:.1f} speedup={:.2f} test_acc={:.4f} "
                   "delta_acc_points={:+.2f}",
                   bf16_us, fp32_us / bf16_us, bf16_acc, 100.0 * (bf16_acc - fp32_acc))
            << std::endl;
  return 0;
}
