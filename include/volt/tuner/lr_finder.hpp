#pragma once
// Lightning's learning-rate range test (tuner/lr_finder.py), step for step:
//   every param group's lr starts at min_lr and follows an exponential (or linear) schedule to
//   max_lr over num_training optimizer steps (Lightning's _ExponentialLR / _LinearLR: step 0 uses
//   min_lr, step i > 0 uses min_lr * (max_lr / min_lr)^((i + 1) / num_training));
//   each step's loss is smoothed (beta 0.98) and debiased with the global step + 1;
//   the run stops once the smoothed loss exceeds early_stop_threshold x the best one;
//   suggestion() = the lr at the steepest descent of the loss (torch.gradient over the lrs, in
//   float32 as Lightning's torch.tensor(list) makes them, after dropping the first skip_begin
//   points, the last skip_end and the non-finite losses).
// The Tuner (tuner/tuner.hpp) runs the search as a fit with LRFinderCallback as its only callback,
// and writes the result as lr_find.csv into the trainer's log_dir (beside the metrics.csv of the
// fit that follows, whose HTML report then shows the curve).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/core/context.hpp>
#include <volt/core/step_output.hpp>
#include <volt/reflect/python_format.hpp>

namespace volt::tuner {

enum class LRFindMode { exponential, linear };

// Lightning's lr_find arguments, with its defaults.
struct LRFindOptions {
  double min_lr = 1e-8;
  double max_lr = 1.0;
  std::int64_t num_training = 100;
  LRFindMode mode = LRFindMode::exponential;
  std::optional<double> early_stop_threshold = 4.0;  // nullopt: never stop early
  bool update_attr = false;  // set the module's lr (a member `lr` / `learning_rate`, or hparams.lr) to the suggestion

  void validate() const {
    auto fail = [](const std::string& what) { throw std::invalid_argument("volt: lr_find: " + what); };
    if (!(min_lr > 0.0) || !std::isfinite(min_lr)) fail(fmt::format("min_lr={} must be a finite number > 0.", min_lr));
    if (!(max_lr > min_lr) || !std::isfinite(max_lr))
      fail(fmt::format("max_lr={} must be finite and greater than min_lr={}.", max_lr, min_lr));
    if (num_training < 1) fail(fmt::format("num_training={} must be >= 1 (Lightning's default is 100).", num_training));
    if (early_stop_threshold && !(*early_stop_threshold > 0.0))
      fail(fmt::format("early_stop_threshold={} must be > 0, or std::nullopt to never stop early.",
                       *early_stop_threshold));
  }
};

// The lr Lightning's scheduler gives the optimizer step `step` (0-based) of the search.
inline double scheduled_lr(LRFindMode mode, double min_lr, double max_lr, std::int64_t num_training,
                           std::int64_t step) {
  if (step <= 0) return min_lr;  // the scheduler's first value is its base lr
  const double r = static_cast<double>(step + 1) / static_cast<double>(num_training);
  return mode == LRFindMode::exponential ? min_lr * std::pow(max_lr / min_lr, r) : min_lr + r * (max_lr - min_lr);
}

// The index (into losses) of Lightning's suggestion, or nullopt when fewer than two finite
// points remain after skipping.
inline std::optional<std::size_t> steepest_descent_index(const std::vector<double>& lrs,
                                                         const std::vector<double>& losses,
                                                         std::int64_t skip_begin = 10, std::int64_t skip_end = 1) {
  const auto n = static_cast<std::int64_t>(std::min(lrs.size(), losses.size()));
  // Python's list[skip_begin:-skip_end]
  const std::int64_t begin = std::min(std::max<std::int64_t>(skip_begin, 0), n);
  const std::int64_t end = skip_end > 0 ? std::max<std::int64_t>(n - skip_end, 0) : n;
  std::vector<float> kept_losses, kept_lrs;
  std::vector<std::size_t> kept_index;
  for (std::int64_t i = begin; i < end; ++i) {
    const auto loss = static_cast<float>(losses[static_cast<std::size_t>(i)]);
    if (!std::isfinite(loss)) continue;
    kept_losses.push_back(loss);
    kept_lrs.push_back(static_cast<float>(lrs[static_cast<std::size_t>(i)]));
    kept_index.push_back(static_cast<std::size_t>(i));
  }
  if (kept_losses.size() < 2) return std::nullopt;
  const auto loss_t = torch::tensor(kept_losses, torch::kFloat32);
  const auto lr_t = torch::tensor(kept_lrs, torch::kFloat32);
  const auto gradients = torch::gradient(loss_t, torch::TensorList{lr_t})[0];
  return kept_index[static_cast<std::size_t>(torch::argmin(gradients).item<std::int64_t>())];
}

// What lr_find returns (Lightning's _LRFinder): the (lr, smoothed loss) pairs and the suggestion.
struct LRFinderResult {
  LRFindMode mode = LRFindMode::exponential;
  double min_lr = 1e-8;
  double max_lr = 1.0;
  std::int64_t num_training = 100;
  std::vector<double> lrs;
  std::vector<double> losses;

  std::optional<std::size_t> optimal_index(std::int64_t skip_begin = 10, std::int64_t skip_end = 1) const {
    return steepest_descent_index(lrs, losses, skip_begin, skip_end);
  }
  std::optional<double> suggestion(std::int64_t skip_begin = 10, std::int64_t skip_end = 1) const {
    const auto i = optimal_index(skip_begin, skip_end);
    if (!i) return std::nullopt;
    return lrs[*i];
  }

  // Loss against learning rate (log-scaled x in exponential mode), the suggestion as a red dot:
  // Lightning's plot(suggest=True) as a standalone SVG.
  std::string svg(bool suggest = true) const {
    constexpr double width = 640, height = 400, left = 80, right = 24, top = 36, bottom = 56;
    const bool log_x = mode == LRFindMode::exponential;
    std::vector<std::pair<double, double>> points;
    for (std::size_t i = 0; i < std::min(lrs.size(), losses.size()); ++i)
      if (std::isfinite(losses[i]) && lrs[i] > 0.0) points.emplace_back(lrs[i], losses[i]);
    std::string out = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lr-finder\" width=\"{}\" height=\"{}\" "
        "viewBox=\"0 0 {} {}\" data-points=\"{}\">\n"
        "<style>text{{font:12px sans-serif}} .curve{{fill:none;stroke:#1f77b4;stroke-width:1.5}} "
        ".axis{{stroke:#333}}</style>\n"
        "<text x=\"{}\" y=\"22\" text-anchor=\"middle\">Learning rate finder</text>\n",
        width, height, width, height, points.size(), width / 2);
    const double x0 = left, x1 = width - right, y0 = height - bottom, y1 = top;
    out += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>\n", x0, y0, x1);
    out += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", x0, y0, y1);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">Learning rate</text>\n", (x0 + x1) / 2,
                       height - 12);
    out += fmt::format("<text x=\"16\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {0})\">Loss</text>\n",
                       (y0 + y1) / 2);
    if (points.empty()) return out + "</svg>\n";
    auto xv = [&](double lr) { return log_x ? std::log10(lr) : lr; };
    double xmin = xv(points.front().first), xmax = xmin, ymin = points.front().second, ymax = ymin;
    for (const auto& [lr, loss] : points) {
      xmin = std::min(xmin, xv(lr)), xmax = std::max(xmax, xv(lr));
      ymin = std::min(ymin, loss), ymax = std::max(ymax, loss);
    }
    if (xmax == xmin) xmax = xmin + 1;
    if (ymax == ymin) ymax = ymin + 1;
    auto px = [&](double lr) { return x0 + (xv(lr) - xmin) / (xmax - xmin) * (x1 - x0); };
    auto py = [&](double loss) { return y0 - (loss - ymin) / (ymax - ymin) * (y0 - y1); };
    // x ticks: each decade in exponential mode, five even steps otherwise
    if (log_x) {
      for (auto d = static_cast<int>(std::ceil(xmin)); d <= static_cast<int>(std::floor(xmax)); ++d)
        out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">1e{}</text>\n",
                           px(std::pow(10.0, d)), y0 + 18, d);
    } else {
      for (int k = 0; k <= 4; ++k) {
        const double lr = xmin + (xmax - xmin) * k / 4;
        out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:.3g}</text>\n", px(lr), y0 + 18, lr);
      }
    }
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.4g}</text>\n", x0 - 6, y0, ymin);
    out += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.4g}</text>\n", x0 - 6, y1 + 10, ymax);
    out += "<polyline class=\"curve\" points=\"";
    for (const auto& [lr, loss] : points) out += fmt::format("{:.2f},{:.2f} ", px(lr), py(loss));
    out += "\"/>\n";
    if (suggest) {
      if (const auto i = optimal_index())
        out += fmt::format("<circle class=\"suggestion\" cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"5\" fill=\"red\" "
                           "data-lr=\"{}\"/>\n",
                           px(lrs[*i]), py(losses[*i]), lrs[*i]);
    }
    return out + "</svg>\n";
  }

  void save_svg(const std::filesystem::path& path, bool suggest = true) const {
    write_text(path, svg(suggest), "the plot");
  }

  // The search as lr_find.csv (what the HTML report draws when it sits beside metrics.csv):
  // columns lr, loss, suggestion; the suggested row's `suggestion` cell holds its lr, the others
  // are empty. Numbers as Python's repr spells them; a skipped step's loss is "nan".
  std::string csv() const {
    const auto best = optimal_index();
    std::string out = "lr,loss,suggestion\n";
    for (std::size_t i = 0; i < std::min(lrs.size(), losses.size()); ++i)
      out += reflect::python_repr(lrs[i]) + ',' + reflect::python_repr(losses[i]) + ',' +
             (best && *best == i ? reflect::python_repr(lrs[i]) : std::string()) + '\n';
    return out;
  }
  void save_csv(const std::filesystem::path& path) const { write_text(path, csv(), "lr_find.csv"); }

 private:
  static void write_text(const std::filesystem::path& path, const std::string& text, const char* what) {
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    std::ofstream file(path, std::ios::binary);
    file << text;
    if (!file) throw std::runtime_error(fmt::format("volt: lr_find: could not write {} to {}", what, path.string()));
  }
};

// Lightning's _LRCallback together with its scheduler: sets the lr of every param group before
// each step and records (lr, smoothed loss) after it; asks the fit to stop when the loss diverges.
class LRFinderCallback {
 public:
  explicit LRFinderCallback(LRFindOptions options = {}, double beta = 0.98) : options_(options), beta_(beta) {}

  void on_fit_start(Context& ctx) {
    const auto optimizers = ctx.raw_optimizers();
    if (optimizers.size() != 1)
      throw std::invalid_argument(fmt::format(
          "volt: lr_find: configure_optimizers returned {} optimizers, but the learning rate finder works with a "
          "single optimizer (Lightning's rule); tune one optimizer at a time.",
          optimizers.size()));
    optimizer_ = optimizers.front();
    start_step_ = ctx.global_step();
  }

  template <class Batch>
  void on_train_batch_start(const Batch&, std::int64_t batch_idx, Context& ctx) {
    const double lr = scheduled_lr(options_.mode, options_.min_lr, options_.max_lr, options_.num_training,
                                   ctx.global_step() - start_step_);
    for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);
    if ((batch_idx + 1) % ctx.accumulate_grad_batches() == 0) lrs_.push_back(lr);
  }

  template <class Output, class Batch>
  void on_train_batch_end(const Output& output, const Batch&, std::int64_t batch_idx, Context& ctx) {
    if ((batch_idx + 1) % ctx.accumulate_grad_batches() != 0) return;
    const torch::Tensor loss = loss_of(output);
    if (!loss.defined()) {  // a skipped step: keeps lrs and losses aligned; suggestion() drops it
      losses_.push_back(std::numeric_limits<double>::quiet_NaN());
      return;
    }
    const double current = loss.item<double>();
    const std::int64_t step = ctx.global_step();
    avg_loss_ = beta_ * avg_loss_ + (1 - beta_) * current;
    const double smoothed = avg_loss_ / (1 - std::pow(beta_, static_cast<double>(step + 1)));
    if (options_.early_stop_threshold && step > 1 && smoothed > *options_.early_stop_threshold * best_loss_)
      ctx.request_stop();
    if (smoothed < best_loss_ || step == 1) best_loss_ = smoothed;
    losses_.push_back(smoothed);
  }

  const std::vector<double>& lrs() const noexcept { return lrs_; }
  const std::vector<double>& losses() const noexcept { return losses_; }

 private:
  LRFindOptions options_;
  double beta_;
  torch::optim::Optimizer* optimizer_ = nullptr;
  std::int64_t start_step_ = 0;
  double avg_loss_ = 0.0;
  double best_loss_ = 0.0;
  std::vector<double> lrs_;
  std::vector<double> losses_;
};

}  // namespace volt::tuner
