// Lightning's GAN example in C++ (gan.hpp has the module): two Adam optimizers stepped by hand,
// FashionMNIST in [-1, 1], d_loss / g_loss logged (CSV and TensorBoard under --out), and, after every
// epoch and at the end, samples from a fixed noise batch: printed statistics, a PNG grid
// (samples_epoch_N.png in the version folder, samples.png in --out) and TensorBoard's
// generated_images.
//
//   gan [--max-epochs 5] [--max-steps -1] [--batch-size 64] [--data-root DIR] [--out DIR] [--check]
//
// --check trains briefly (defaults to --max-steps 800: 400 batches, two optimizer steps each)
// and tests that it behaved like a GAN: the losses stay finite, the discriminator neither wins
// outright nor stays at chance, and the samples look like images (a background near -1,
// correlated neighbouring pixels, different from each other) where the untrained generator's
// were noise. Exit status: 0 passed (or no check), 1 failed, 77 when the FashionMNIST files are
// not installed (Debian dataset-fashion-mnist).
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "gan.hpp"

namespace {

namespace fs = std::filesystem;

// The losses after every batch (what the progress bar shows), for the check.
struct LossHistory {
  std::vector<double>* d_losses;
  std::vector<double>* g_losses;
  void on_train_batch_end(volt::Context& ctx) {
    const auto metrics = ctx.callback_metrics();
    d_losses->push_back(metrics.at("d_loss"));
    g_losses->push_back(metrics.at("g_loss"));
  }
};

// Lightning's on_train_epoch_end image logging, as a callback that gets the module as its type.
// Lightning's `self.logger.experiment.add_image("generated_images", grid, self.current_epoch)`,
// plus the same grid as a PNG file beside the logs (torchvision's save_image).
struct SampleReport {
  void on_train_epoch_end(volt::Context& ctx) {
    const torch::Tensor samples = ctx.module<gan::GAN>().sample();
    const auto s = gan::sample_statistics(samples);
    fmt::print("epoch {}: samples mean {:.3f}, background {:.2f}, neighbour correlation {:.3f}, spread {:.3f}\n",
               ctx.current_epoch(), s.mean, s.background_fraction, s.neighbour_correlation, s.spread_across_samples);
    const torch::Tensor grid = volt::make_grid(samples, {.normalize = true, .value_range = {{-1.0, 1.0}}});
    if (auto* tensorboard = ctx.loggers().find<volt::loggers::TensorBoardLogger>())
      tensorboard->add_image("generated_images", grid, ctx.current_epoch());
    const fs::path dir = ctx.first_logger_dir().empty() ? ctx.default_root_dir() : ctx.first_logger_dir();
    volt::write_png(dir / fmt::format("samples_epoch_{}.png", ctx.current_epoch()), grid);
  }
};

double mean_of_last(const std::vector<double>& values, std::size_t n) {
  n = std::min(n, values.size());
  double sum = 0.0;
  for (std::size_t i = values.size() - n; i < values.size(); ++i) sum += values[i];
  return n ? sum / static_cast<double>(n) : NAN;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Lightning's GAN example on FashionMNIST, with volt"};
  std::int64_t max_epochs = 5, max_steps = -1, batch_size = 64;
  std::string data_root{volt::data::FashionMNIST::default_root};
  std::string out = "gan_out";
  bool check = false;
  app.add_option("--max-epochs", max_epochs, "epochs to train");
  app.add_option("--max-steps", max_steps, "optimizer steps to train (two per batch); -1: no limit");
  app.add_option("--batch-size", batch_size, "images per batch");
  app.add_option("--data-root", data_root, "folder with the FashionMNIST IDX files");
  app.add_option("--out", out, "default_root_dir: logs and checkpoints");
  app.add_flag("--check", check, "train briefly and test that it behaved like a GAN");
  CLI11_PARSE(app, argc, argv);
  if (check && max_steps < 0) max_steps = 800;

  for (auto name : volt::data::FashionMNIST::file_names) {
    if (!fs::exists(fs::path(data_root) / (std::string(name) + ".gz")) && !fs::exists(fs::path(data_root) / name)) {
      std::cerr << "FashionMNIST is not installed in " << data_root << " (Debian package "
                << volt::data::FashionMNIST::package << "); skipping.\n";
      return 77;
    }
  }

  torch::manual_seed(0);
  volt::data::FashionMNIST data{{.root = data_root, .batch_size = batch_size}};
  gan::GAN model;
  const auto before = gan::sample_statistics(model.sample());

  std::vector<double> d_losses, g_losses;
  // One callback each, without spelling out the strategy and precision.
  auto trainer = volt::make_trainer<gan::GAN, volt::data::FashionMNIST>(
      {.max_epochs = max_epochs, .max_steps = max_steps, .enable_progress_bar = !check, .default_root_dir = out},
      LossHistory{&d_losses, &g_losses}, SampleReport{},
      volt::loggers::TensorBoardLogger{volt::loggers::TensorBoardLoggerOptions{.save_dir = out}});
  trainer.fit(model, data);
  // The final samples, 8 per row, as torchvision's save_image writes them.
  const fs::path samples_png = fs::path(out) / "samples.png";
  volt::write_png(samples_png, volt::make_grid(model.sample(), {.normalize = true, .value_range = {{-1.0, 1.0}}}));
  fmt::print("samples written to {}\n", samples_png.string());

  const auto after = gan::sample_statistics(model.sample());
  const double d_end = mean_of_last(d_losses, 50), g_end = mean_of_last(g_losses, 50);
  double d_min = INFINITY, d_max = -INFINITY;
  bool finite = true;
  for (std::size_t i = 0; i < d_losses.size(); ++i) {
    finite = finite && std::isfinite(d_losses[i]) && std::isfinite(g_losses[i]);
    d_min = std::min(d_min, d_losses[i]);
    d_max = std::max(d_max, d_losses[i]);
  }
  fmt::print("{} batches, {} optimizer steps\n", d_losses.size(), trainer.global_step());
  fmt::print("d_loss: first {:.3f}, mean of the last 50 {:.3f} (min {:.3f}, max {:.3f}); g_loss: first {:.3f}, mean "
             "of the last 50 {:.3f}\n",
             d_losses.front(), d_end, d_min, d_max, g_losses.front(), g_end);
  fmt::print("samples before training: mean {:.3f}, background {:.2f}, neighbour correlation {:.3f}, spread {:.3f}\n",
             before.mean, before.background_fraction, before.neighbour_correlation, before.spread_across_samples);
  fmt::print("samples after training:  mean {:.3f}, background {:.2f}, neighbour correlation {:.3f}, spread {:.3f}\n",
             after.mean, after.background_fraction, after.neighbour_correlation, after.spread_across_samples);
  {  // for comparison: 64 real training images, in [-1, 1] as the GAN sees them
    using volt::data::FashionMNIST;
    const auto real = gan::sample_statistics(
        (data.train_images().narrow(0, 0, 64) * FashionMNIST::stddev + FashionMNIST::mean) * 2.0 - 1.0);
    fmt::print("real images:             mean {:.3f}, background {:.2f}, neighbour correlation {:.3f}, spread {:.3f}\n",
               real.mean, real.background_fraction, real.neighbour_correlation, real.spread_across_samples);
  }
  if (!check) return 0;

  std::vector<std::string> failures;
  auto expect = [&](bool ok, std::string what) {
    if (!ok) failures.push_back(std::move(what));
  };
  expect(trainer.global_step() == max_steps, fmt::format("global_step {} != max_steps {}", trainer.global_step(), max_steps));
  expect(finite, "a loss is not finite");
  expect(fs::is_regular_file(samples_png) && fs::file_size(samples_png) > 1000,
         fmt::format("{} was not written", samples_png.string()));
  // Chance is ln 2 = 0.693 for the discriminator; a discriminator that wins outright goes to 0
  // and leaves the generator without a gradient.
  expect(d_end > 0.05 && d_end < 0.69, fmt::format("d_loss of the last batches {:.3f} not in (0.05, 0.69)", d_end));
  expect(g_end > 0.3 && g_end < 10.0, fmt::format("g_loss of the last batches {:.3f} not in (0.3, 10)", g_end));
  expect(after.background_fraction > 0.1,
         fmt::format("only {:.2f} of the sampled pixels are background (< -0.9)", after.background_fraction));
  expect(after.neighbour_correlation > 0.4,
         fmt::format("neighbouring sampled pixels correlate only {:.3f}", after.neighbour_correlation));
  expect(after.neighbour_correlation > before.neighbour_correlation + 0.2,
         "the samples' neighbour correlation barely changed from the untrained generator's");
  expect(after.spread_across_samples > 0.1,
         fmt::format("the samples hardly differ from each other (spread {:.3f}): mode collapse",
                     after.spread_across_samples));
  for (const auto& f : failures) std::cerr << "check failed: " << f << '\n';
  if (failures.empty()) std::cout << "check passed: the losses and samples behave like a GAN's\n";
  return failures.empty() ? 0 : 1;
}
