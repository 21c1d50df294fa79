// volt::data::TensorLoader against torch::data's stateless DataLoader (a Dataset whose get(i)
// returns one example, mapped through Stack<>, no worker threads) over the same in-memory
// tensors: batches per second for a whole epoch, sequential and shuffled, median of several
// repetitions taken alternately (the machine is shared and noisy).
//
// The two do different amounts of work by design: torch::data builds each batch from
// batch_size single-example views and stacks them (batch_size copies); TensorLoader's batch
// is a view of a (once per epoch permuted) tensor. What a step then does with the batch is
// the same, so this is what the loader adds per step.
//
// Output: `bench loader/<name> batches_per_s=<median> ratio=<volt / torch::data>`.
//
// Two more comparisons, each alternating A B A B and reporting the median of per-pair ratios:
// - TensorBatchLoader<std::tuple<Tensor, Tensor>> against TensorLoader (the same two tensors):
//   the any-shape loader must cost what the two-tensor one does.
// - DataLoader over a map-style dataset whose get(i) costs ~100 us of CPU work, with 2 worker
//   threads against 0: on 2 cores the target is >= 1.8x the batches per second.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <tuple>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <volt/data/data_loader.hpp>
#include <volt/data/tensor_batch_loader.hpp>
#include <volt/data/tensor_loader.hpp>

namespace {

// TensorDataset-like: libtorch's own TensorDataset holds only one tensor (no targets).
struct PairDataset : torch::data::datasets::Dataset<PairDataset> {
  torch::Tensor x, y;
  PairDataset(torch::Tensor x_, torch::Tensor y_) : x(std::move(x_)), y(std::move(y_)) {}
  torch::data::Example<> get(std::size_t i) override {
    const auto index = static_cast<std::int64_t>(i);
    return {x[index], y[index]};
  }
  torch::optional<std::size_t> size() const override { return static_cast<std::size_t>(x.size(0)); }
};

// CPU work that cannot be optimized away; calibrated to a duration below.
double burn(std::int64_t iterations) {
  double acc = 0;
  for (std::int64_t i = 0; i < iterations; ++i) acc += std::sqrt(static_cast<double>(i) + acc * 1e-9);
  return acc;
}

// Iterations of burn() that take about `micros` on this machine (single thread, best of 5).
std::int64_t calibrate_burn(double micros) {
  const std::int64_t probe = 200000;
  double best = 1e9;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    volatile double sink = burn(probe);
    (void)sink;
    best = std::min(best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  return static_cast<std::int64_t>(static_cast<double>(probe) * micros / best);
}

// A map-style dataset standing for decoding a file per example: get(i) burns ~100 us.
struct SlowDataset {
  std::int64_t n = 0;
  std::int64_t work = 0;
  std::int64_t size() const { return n; }
  std::tuple<torch::Tensor, torch::Tensor> get(std::int64_t i) const {
    const double v = burn(work);
    return {torch::full({16}, v), torch::tensor(i)};
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Batches per second over `epochs` epochs; the checksum keeps every batch observable.
template <class MakeEpoch>
double batches_per_s(std::int64_t epochs, MakeEpoch&& run_epoch) {
  std::int64_t batches = 0, rows = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t e = 0; e < epochs; ++e) run_epoch(e, batches, rows);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rows == 0) std::cerr << "no rows\n";
  return static_cast<double>(batches) / s;
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const std::int64_t n = quick ? 2048 : 10000, batch = 64, epochs = 2;
  const int reps = quick ? 1 : 7;
  torch::manual_seed(1);
  const auto x = torch::randn({n, 1, 28, 28});
  const auto y = torch::randint(10, {n}, torch::kLong);

  for (const bool shuffle : {false, true}) {
    std::vector<double> volt_bps, torch_bps, ratios;
    for (int rep = -1; rep < reps; ++rep) {  // rep -1: warm-up
      auto volt_side = [&] {
        volt::data::TensorLoader loader(x, y, {.batch_size = batch, .shuffle = shuffle, .seed = 3});
        return batches_per_s(epochs, [&](std::int64_t e, std::int64_t& b, std::int64_t& r) {
          loader.set_epoch(e);
          for (const auto& ex : loader) {
            ++b;
            r += ex.data.size(0);
          }
        });
      };
      auto torch_side = [&] {
        auto dataset = PairDataset(x, y).map(torch::data::transforms::Stack<>());
        auto options = torch::data::DataLoaderOptions(batch).workers(0);
        auto run = [&](auto loader) {
          return batches_per_s(epochs, [&](std::int64_t, std::int64_t& b, std::int64_t& r) {
            for (auto& ex : *loader) {
              ++b;
              r += ex.data.size(0);
            }
          });
        };
        if (shuffle)
          return run(torch::data::make_data_loader<torch::data::samplers::RandomSampler>(std::move(dataset), options));
        return run(torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(std::move(dataset), options));
      };
      double v = 0, t = 0;
      if (rep % 2 == 0) {
        v = volt_side();
        t = torch_side();
      } else {
        t = torch_side();
        v = volt_side();
      }
      if (rep < 0) continue;
      volt_bps.push_back(v);
      torch_bps.push_back(t);
      ratios.push_back(v / t);
    }
    const char* order = shuffle ? "shuffled" : "sequential";
    std::cout << fmt::format("bench loader/torch_data_{} batches_per_s={:.0f} ratio=1.000", order, median(torch_bps))
              << std::endl;
    std::cout << fmt::format("bench loader/tensor_loader_{} batches_per_s={:.0f} ratio={:.1f}", order,
                             median(volt_bps), median(ratios))
              << std::endl;
  }
  {  // TensorBatchLoader against TensorLoader, the same two tensors, shuffled
    std::vector<double> ratios, tuple_bps;
    for (int rep = -1; rep < reps; ++rep) {
      auto tensor_side = [&] {
        volt::data::TensorLoader loader(x, y, {.batch_size = batch, .shuffle = true, .seed = 3});
        return batches_per_s(epochs, [&](std::int64_t e, std::int64_t& b, std::int64_t& r) {
          loader.set_epoch(e);
          for (const auto& ex : loader) {
            ++b;
            r += ex.data.size(0);
          }
        });
      };
      auto tuple_side = [&] {
        volt::data::TensorBatchLoader<std::tuple<torch::Tensor, torch::Tensor>> loader(
            std::tuple{x, y}, {.batch_size = batch, .shuffle = true, .seed = 3});
        return batches_per_s(epochs, [&](std::int64_t e, std::int64_t& b, std::int64_t& r) {
          loader.set_epoch(e);
          for (const auto& [data, target] : loader) {
            ++b;
            r += data.size(0);
          }
        });
      };
      double a = 0, t = 0;
      if (rep % 2 == 0) {
        a = tuple_side();
        t = tensor_side();
      } else {
        t = tensor_side();
        a = tuple_side();
      }
      if (rep < 0) continue;
      tuple_bps.push_back(a);
      ratios.push_back(a / t);
    }
    std::cout << fmt::format("bench loader/tensor_batch_loader_tuple2_shuffled batches_per_s={:.0f} "
                             "ratio_to_tensor_loader={:.3f}",
                             median(tuple_bps), median(ratios))
              << std::endl;
  }

  {  // DataLoader: 2 worker threads against 0, get(i) ~100 us
    const std::int64_t work = calibrate_burn(100.0);
    const SlowDataset dataset{quick ? 512 : 2048, work};
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < 200; ++i) (void)dataset.get(i);
    const double get_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 200;
    std::vector<double> zero_bps, two_bps, ratios;
    auto run = [&](std::int64_t workers) {
      volt::data::DataLoader loader(dataset, {.batch_size = 32, .shuffle = true, .num_workers = workers, .seed = 1});
      return batches_per_s(1, [&](std::int64_t e, std::int64_t& b, std::int64_t& r) {
        loader.set_epoch(e);
        for (const auto& [data, index] : loader) {
          ++b;
          r += data.size(0);
        }
      });
    };
    // The machine's own ceiling, for reading the ratio: the same CPU work (one epoch's get()
    // calls) on one thread against two plain std::threads. On a shared machine whose cores are
    // busy, two threads may get no more CPU than one, and no loader can beat that.
    auto plain = [&](int threads) {
      const auto t = std::chrono::steady_clock::now();
      std::vector<std::thread> pool;
      for (int k = 0; k < threads; ++k)
        pool.emplace_back([&] {
          volatile double sink = burn(work * dataset.n / threads);
          (void)sink;
        });
      for (auto& th : pool) th.join();
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    };
    std::vector<double> ceilings;
    for (int rep = -1; rep < reps; ++rep) {
      double zero = 0, two = 0, one_thread = 0, two_threads = 0;
      if (rep % 2 == 0) {
        zero = run(0);
        two = run(2);
        one_thread = plain(1);
        two_threads = plain(2);
      } else {
        two_threads = plain(2);
        one_thread = plain(1);
        two = run(2);
        zero = run(0);
      }
      if (rep < 0) continue;
      zero_bps.push_back(zero);
      two_bps.push_back(two);
      ratios.push_back(two / zero);
      ceilings.push_back(one_thread / two_threads);
    }
    std::cout << fmt::format("bench loader/data_loader_0_workers batches_per_s={:.1f} get_us={:.0f}", median(zero_bps),
                             get_us)
              << std::endl;
    std::cout << fmt::format("bench loader/data_loader_2_workers batches_per_s={:.1f} ratio_to_0_workers={:.2f} "
                             "(pairs: {:.2f}) plain_threads_ceiling={:.2f}",
                             median(two_bps), median(ratios), fmt::join(ratios, " "), median(ceilings))
              << std::endl;
  }
  return 0;
}
