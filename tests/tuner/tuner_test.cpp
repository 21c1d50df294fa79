// volt::Tuner: lr_find (Lightning's algorithm, its suggestion against torch.gradient, the restore)
// and scale_batch_size (trials, the pick, the restore).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <volt/data/tensor_loader.hpp>
#include <volt/loggers/html_report.hpp>
#include <volt/tuner/tuner.hpp>
#include <volt/volt.hpp>

namespace {

namespace fs = std::filesystem;

// A small classifier; `lr` is what lr_find(update_attr) sets and configure_optimizers reads.
struct Net : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout drop{nullptr};
  double lr = 0.01;
  Net() {
    fc1 = register_module("fc1", torch::nn::Linear(8, 16));
    drop = register_module("drop", torch::nn::Dropout(0.1));
    fc2 = register_module("fc2", torch::nn::Linear(16, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(drop(torch::relu(fc1(x)))); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t) {
    return torch::cross_entropy_loss(forward(batch.data), batch.target);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(lr).momentum(0.9)); }
};

// A Net that owns its optimizer (Adam, with state from earlier training).
struct OwningNet : Net {
  std::shared_ptr<torch::optim::Adam> optimizer;
  std::shared_ptr<torch::optim::Adam> configure_optimizers() {
    if (!optimizer) optimizer = std::make_shared<torch::optim::Adam>(parameters(), torch::optim::AdamOptions(lr));
    return optimizer;
  }
};

struct Data {
  std::int64_t batch_size = 8;
  torch::Tensor x, y;
  explicit Data(std::int64_t n = 256) {
    torch::manual_seed(7);
    x = torch::randn({n, 8});
    y = (x.slice(1, 0, 3).argmax(1)).to(torch::kLong);
  }
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = batch_size, .shuffle = true}}; }
};

struct DataWithoutBatchSize {
  torch::Tensor x = torch::randn({16, 8}), y = torch::zeros({16}, torch::kLong);
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

volt::TrainerOptions quiet(const fs::path& root) {
  return {.logger = false, .max_epochs = 1, .enable_checkpointing = false, .enable_progress_bar = false,
          .enable_model_summary = false, .default_root_dir = root};
}

fs::path temp_root(const std::string& name) {
  auto root = fs::temp_directory_path() / ("volt_tuner_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  return root;
}

bool same(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.defined() != b.defined()) return false;
  return !a.defined() || (a.sizes() == b.sizes() && a.dtype() == b.dtype() && torch::equal(a, b));
}

struct ModuleState {
  std::vector<torch::Tensor> params, grads;
  std::vector<bool> requires_grad, training;
  explicit ModuleState(torch::nn::Module& m) {
    for (auto& p : m.parameters()) {
      params.push_back(p.detach().clone());
      grads.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor{});
      requires_grad.push_back(p.requires_grad());
    }
    training.push_back(m.is_training());
    for (auto& sub : m.modules(/*include_self=*/false)) training.push_back(sub->is_training());
  }
  bool operator==(const ModuleState& o) const {
    if (params.size() != o.params.size() || requires_grad != o.requires_grad || training != o.training) return false;
    for (std::size_t i = 0; i < params.size(); ++i)
      if (!same(params[i], o.params[i]) || !same(grads[i], o.grads[i])) return false;
    return true;
  }
};

// Lightning's suggestion index computed the way torch.gradient does it (second-order central
// differences on uneven spacing, first-order at the edges), in double, independently of volt.
std::size_t reference_suggestion_index(const std::vector<double>& lrs, const std::vector<double>& losses) {
  std::vector<double> x, f;
  std::vector<std::size_t> idx;
  for (std::size_t i = 10; i + 1 < losses.size(); ++i)
    if (std::isfinite(losses[i])) x.push_back(lrs[i]), f.push_back(losses[i]), idx.push_back(i);
  std::vector<double> g(f.size());
  g.front() = (f[1] - f[0]) / (x[1] - x[0]);
  g.back() = (f[f.size() - 1] - f[f.size() - 2]) / (x[x.size() - 1] - x[x.size() - 2]);
  for (std::size_t i = 1; i + 1 < f.size(); ++i) {
    const double hl = x[i] - x[i - 1], hr = x[i + 1] - x[i];
    g[i] = (hl * hl * f[i + 1] - hr * hr * f[i - 1] + (hr * hr - hl * hl) * f[i]) / (hl * hr * (hl + hr));
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < g.size(); ++i)
    if (g[i] < g[best]) best = i;
  return idx[best];
}

bool python_torch_available() { return std::system("/usr/bin/python3 -c 'import torch' > /dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("lr_find's suggestion is the steepest descent, as torch.gradient finds it", "[tuner][lr_find]") {
  std::vector<double> lrs;
  for (int i = 0; i < 24; ++i) lrs.push_back(1e-6 * std::pow(10.0, i / 4.0));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> losses{2.30, 2.31, 2.29, 2.30, 2.30, 2.29, 2.28, 2.27, 2.25, 2.22, 2.18, 2.10,
                                   1.95, 1.70, 1.40, 1.10, 0.90, 0.80, 0.78, 0.85, 1.20, 2.00, nan,  5.0};
  volt::tuner::LRFinderResult result{.lrs = lrs, .losses = losses};
  // /usr/bin/python3: torch.argmin(torch.gradient(torch.tensor(losses[10:-1]) [finite],
  // spacing=[torch.tensor(lrs[10:-1]) [finite]])[0]) + 10 == 12 on these lists
  REQUIRE(result.optimal_index() == std::optional<std::size_t>(12));
  CHECK(result.optimal_index() == std::optional<std::size_t>(reference_suggestion_index(lrs, losses)));
  CHECK(result.suggestion() == std::optional<double>(lrs[12]));

  SECTION("too few points: no suggestion") {
    volt::tuner::LRFinderResult few{.lrs = {1e-3, 1e-2, 1e-1}, .losses = {1.0, 0.5, 0.2}};
    CHECK_FALSE(few.suggestion().has_value());
  }
  SECTION("the plot marks the suggestion") {
    const std::string svg = result.svg();
    CHECK(svg.find("<svg") == 0);
    CHECK(svg.find("data-points=\"23\"") != std::string::npos);  // the NaN is left out
    CHECK(svg.find(fmt::format("data-lr=\"{}\"", lrs[12])) != std::string::npos);
  }
}

TEST_CASE("lr_find follows Lightning's schedule and smoothing, then restores everything bit for bit",
          "[tuner][lr_find]") {
  const auto root = temp_root("lr_find");
  torch::manual_seed(1);
  Net model;
  Data data;
  volt::Trainer<Net, Data> trainer{quiet(root)};
  const ModuleState before(model);
  const auto rng_before = at::detail::getDefaultCPUGenerator().get_state();

  volt::Tuner tuner(trainer);
  const auto result = tuner.lr_find(model, data, {.min_lr = 1e-5, .max_lr = 1.0, .num_training = 40});
  REQUIRE(result);
  CHECK(ModuleState(model) == before);
  CHECK(torch::equal(at::detail::getDefaultCPUGenerator().get_state(), rng_before));
  CHECK(trainer.global_step() == 0);
  CHECK(trainer.current_epoch() == 0);
  CHECK(model.lr == 0.01);

  // Lightning's _ExponentialLR: min_lr first, then min_lr * ratio^((i + 1) / num_training)
  REQUIRE(result->lrs.size() == result->losses.size());
  REQUIRE(result->lrs.size() >= 12);
  CHECK(result->lrs[0] == 1e-5);
  for (std::size_t i = 1; i < result->lrs.size(); ++i)
    CHECK(result->lrs[i] == Approx(1e-5 * std::pow(1e5, (i + 1) / 40.0)).epsilon(1e-12));
  for (double loss : result->losses) CHECK(std::isfinite(loss));
  const auto suggestion = result->suggestion();
  REQUIRE(suggestion);
  CHECK(*suggestion == result->lrs[*result->optimal_index()]);

  SECTION("the suggestion matches Python's torch.gradient on the same lists") {
    if (!python_torch_available()) {
      WARN("skipped: /usr/bin/python3 cannot import torch (Debian python3-torch)");
      return;
    }
    const auto lists = root / "lists.txt";
    {
      std::ofstream out(lists);
      out.precision(17);
      for (double v : result->lrs) out << v << ' ';
      out << '\n';
      for (double v : result->losses) out << v << ' ';
      out << '\n';
    }
    const auto script = root / "suggest.py";
    std::ofstream(script) << "import sys, torch\n"
                             "lines = open(sys.argv[1]).read().split('\\n')\n"
                             "lrs = [float(v) for v in lines[0].split()]\n"
                             "losses = [float(v) for v in lines[1].split()]\n"
                             "l = torch.tensor(losses[10:-1]); r = torch.tensor(lrs[10:-1])\n"
                             "ok = torch.isfinite(l)\n"
                             "g = torch.gradient(l[ok], spacing=[r[ok]])[0]\n"
                             "print(torch.arange(len(losses))[10:-1][ok][torch.argmin(g).item()].item())\n";
    const auto out_file = root / "index.txt";
    REQUIRE(std::system(("/usr/bin/python3 " + script.string() + " " + lists.string() + " > " + out_file.string())
                            .c_str()) == 0);
    std::size_t python_index = 0;
    std::ifstream(out_file) >> python_index;
    CHECK(*result->optimal_index() == python_index);
  }
  SECTION("update_attr sets the module's lr to the suggestion; a fit after it trains as without the search") {
    const auto again = tuner.lr_find(model, data, {.min_lr = 1e-5, .max_lr = 1.0, .num_training = 40, .update_attr = true});
    REQUIRE(again);
    CHECK(again->lrs == result->lrs);  // the restore made the second search the same as the first
    CHECK(again->losses == result->losses);
    CHECK(model.lr == *again->suggestion());
    CHECK(ModuleState(model) == before);
  }
  SECTION("a diverging loss stops the search early") {
    const auto diverged = tuner.lr_find(model, data, {.min_lr = 1e-2, .max_lr = 1e4, .num_training = 60});
    REQUIRE(diverged);
    CHECK(diverged->lrs.size() < 60);
    CHECK(ModuleState(model) == before);
  }
  SECTION("a fit after lr_find equals a fit without it") {
    torch::manual_seed(1);
    Net twin;
    volt::Trainer<Net, Data> twin_trainer{quiet(root)};
    torch::manual_seed(3);
    twin_trainer.fit(twin, data);
    torch::manual_seed(3);
    trainer.fit(model, data);
    CHECK(ModuleState(model) == ModuleState(twin));
  }
  fs::remove_all(root);
}

// A Net that logs its loss per epoch, so that its fit writes a metrics.csv.
struct LoggingNet : Net {
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t batch_idx, volt::Context& ctx) {
    auto loss = Net::training_step(batch, batch_idx);
    ctx.log("train_loss", loss, {.on_step = false, .on_epoch = true});
    return loss;
  }
};

TEST_CASE("lr_find writes lr_find.csv into the trainer's log_dir, and the next fit's HTML report draws it",
          "[tuner][lr_find]") {
  const auto root = temp_root("lr_find_csv");
  torch::manual_seed(1);
  LoggingNet model;
  Data data;
  auto options = quiet(root);
  options.logger = true;  // the default CSVLogger: lr_find.csv lands beside its metrics.csv
  volt::Trainer<LoggingNet, Data> trainer{options};
  volt::Tuner tuner(trainer);
  const auto result = tuner.lr_find(model, data, {.min_lr = 1e-5, .max_lr = 1.0, .num_training = 30});
  REQUIRE(result);
  const auto log_dir = trainer.log_dir();
  CHECK(log_dir == root / "lightning_logs" / "version_0");
  const auto csv_path = log_dir / "lr_find.csv";
  REQUIRE(fs::exists(csv_path));
  std::stringstream text;
  text << std::ifstream(csv_path).rdbuf();
  CHECK(text.str().rfind("lr,loss,suggestion\n", 0) == 0);
  CHECK(text.str() == result->csv());
  const auto read = volt::loggers::detail::html::read_lr_find(text.str());  // what the report reads
  REQUIRE(read);
  CHECK(read->lrs == result->lrs);  // Python's repr round-trips every double
  CHECK(read->losses == result->losses);
  REQUIRE(result->suggestion());
  CHECK(read->suggestion == result->suggestion());

  trainer.fit(model, data);  // the same version_0: metrics.csv beside lr_find.csv
  REQUIRE(fs::exists(log_dir / "metrics.csv"));
  const auto report = root / "report.html";
  volt::loggers::write_html_report(log_dir / "metrics.csv", report);
  std::stringstream html;
  html << std::ifstream(report).rdbuf();
  CHECK(html.str().find("data-quantity=\"lr_find\"") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("lr_find puts back the state of an optimizer the module owns", "[tuner][lr_find]") {
  const auto root = temp_root("lr_find_owned");
  torch::manual_seed(2);
  OwningNet model;
  Data data;
  volt::Trainer<OwningNet, Data> trainer{quiet(root)};
  trainer.fit(model, data);  // gives Adam a state
  REQUIRE(model.optimizer);
  auto state_of = [&] {
    std::vector<torch::Tensor> out;
    for (auto& p : model.parameters()) {
      auto& s = static_cast<torch::optim::AdamParamState&>(
          *model.optimizer->state().at(c10::guts::to_string(p.unsafeGetTensorImpl())));
      out.push_back(s.exp_avg().clone());
      out.push_back(s.exp_avg_sq().clone());
      out.push_back(torch::tensor(s.step()));
    }
    out.push_back(torch::tensor(model.optimizer->param_groups()[0].options().get_lr()));
    return out;
  };
  const auto before = state_of();
  const ModuleState weights(model);
  volt::Tuner tuner(trainer);
  REQUIRE(tuner.lr_find(model, data, {.num_training = 20}));
  const auto after = state_of();
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    INFO("optimizer state entry " << i << ": " << before[i] << " vs " << after[i]);
    CHECK(same(before[i], after[i]));
  }
  CHECK(ModuleState(model) == weights);
  fs::remove_all(root);
}

TEST_CASE("lr_find rejects bad options before it runs", "[tuner][lr_find]") {
  const auto root = temp_root("lr_find_bad");
  Net model;
  Data data;
  volt::Trainer<Net, Data> trainer{quiet(root)};
  volt::Tuner tuner(trainer);
  CHECK_THROWS_WITH(tuner.lr_find(model, data, {.min_lr = 1.0, .max_lr = 0.1}),
                    Catch::Contains("max_lr=0.1 must be finite and greater than min_lr=1"));
  CHECK_THROWS_WITH(tuner.lr_find(model, data, {.num_training = 0}), Catch::Contains("num_training=0 must be >= 1"));
  fs::remove_all(root);
}

TEST_CASE("scale_batch_size picks the smallest batch within 5% of the best throughput", "[tuner][batch_size]") {
  using volt::tuner::BatchSizeTrial;
  using volt::tuner::TrialOutcome;
  const std::vector<BatchSizeTrial> trials{{2, TrialOutcome::ok, 100.0},
                                           {4, TrialOutcome::ok, 190.0},
                                           {8, TrialOutcome::ok, 300.0},
                                           {16, TrialOutcome::ok, 312.0},
                                           {32, TrialOutcome::ok, 310.0},
                                           {64, TrialOutcome::out_of_memory, 0.0}};
  CHECK(volt::tuner::pick_batch_size(trials, 0.05) == std::optional<std::int64_t>(8));
  CHECK(volt::tuner::pick_batch_size(trials, 0.0) == std::optional<std::int64_t>(16));
  CHECK_FALSE(volt::tuner::pick_batch_size({{2, TrialOutcome::out_of_memory}}, 0.05));
}

TEST_CASE("scale_batch_size runs trials, sets the pick on the DataModule and restores the module",
          "[tuner][batch_size]") {
  const auto root = temp_root("batch_size");
  torch::manual_seed(4);
  Net model;
  Data data(512);
  volt::Trainer<Net, Data> trainer{quiet(root)};
  Data tiny(24);
  const ModuleState before(model);
  const auto rng_before = at::detail::getDefaultCPUGenerator().get_state();
  volt::Tuner tuner(trainer);

  SECTION("power") {
    const auto result = tuner.scale_batch_size(model, data, {.init_val = 2, .max_val = 64});
    REQUIRE(result);
    REQUIRE_FALSE(result->trials.empty());
    CHECK(result->trials.front().batch_size == 2);
    for (std::size_t i = 1; i < result->trials.size(); ++i)
      CHECK(result->trials[i].batch_size == 2 * result->trials[i - 1].batch_size);
    CHECK(result->trials.back().batch_size <= 64);
    for (const auto& t : result->trials) {
      CHECK(t.outcome == volt::tuner::TrialOutcome::ok);
      CHECK(t.samples_per_second > 0.0);
      CHECK(t.peak_memory_bytes > 0);
    }
    CHECK(data.batch_size == result->batch_size);
    CHECK(result->batch_size == volt::tuner::pick_batch_size(result->trials, 0.05));
    CHECK_FALSE(result->stop_reason.empty());
    CHECK(result->table().find("picked batch size") != std::string::npos);
  }
  SECTION("the data set's length ends the doubling") {
    const auto result = tuner.scale_batch_size(model, tiny, {.init_val = 4, .min_gain = -1.0});
    REQUIRE(result);
    CHECK(result->trials.back().batch_size == 32);  // 32 >= 24 samples: one batch holds them all
    CHECK(result->stop_reason.find("whole data set") != std::string::npos);
  }
  SECTION("binsearch under a cap no trial fits: a clear error, the batch size put back") {
    CHECK_THROWS_WITH(tuner.scale_batch_size(model, data, {.mode = volt::tuner::BatchSizeMode::binsearch,
                                                           .memory_cap_bytes = 1}),
                      Catch::Contains("no batch size ran"));
    CHECK(data.batch_size == 8);
  }
  CHECK(ModuleState(model) == before);
  CHECK(torch::equal(at::detail::getDefaultCPUGenerator().get_state(), rng_before));
  CHECK(trainer.global_step() == 0);
  fs::remove_all(root);
}
