// volt::ProgressBar with a fake clock: the exact plain lines off a terminal (no control
// characters), the exact tqdm frames on one, redraws bounded by refresh_rate however many
// batches pass, evaluation bars, rank 0 only, and a real Trainer fit / test / predict.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <volt/callbacks/model_summary.hpp>
#include <volt/callbacks/progress_bar.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/detail/terminal.hpp>
#include <volt/volt.hpp>

namespace {

using namespace std::chrono_literals;

// A clock that moves only when told to.
struct FakeClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<FakeClock>;
  static constexpr bool is_steady = true;
  static inline time_point current{};
  static time_point now() noexcept { return current; }
  static void advance(duration d) noexcept { current += d; }
};

using Bar = volt::BasicProgressBar<FakeClock>;

// A Context over state the test owns, as the Trainer builds one.
struct Harness {
  volt::RunState state;
  volt::MetricStore metrics;
  torch::nn::Module module;
  volt::Context ctx{state, metrics, module};
  torch::Tensor loss = torch::tensor(0.5);

  void log(const char* name, double value, volt::HookFamily family) {
    state.family = family;
    ctx.log(name, value, {.on_step = true, .on_epoch = false, .prog_bar = true});
  }
  // n training batches, each taking `step` of fake time.
  void train_batches(Bar& bar, std::int64_t first, std::int64_t n, FakeClock::duration step) {
    for (std::int64_t i = first; i < first + n; ++i) {
      FakeClock::advance(step);
      bar.on_train_batch_end(loss, 0, i, ctx);
    }
  }
};

std::size_t count(const std::string& s, char c) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), c)); }

bool has_control_characters(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\x1b' || c == '\b'; });
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("terminal helpers format like tqdm", "[callbacks][progress_bar]") {
  using namespace volt::detail;
  CHECK(format_interval(0) == "00:00");
  CHECK(format_interval(12.9) == "00:12");
  CHECK(format_interval(3725) == "1:02:05");
  CHECK(format_rate(14.705) == "14.71it/s");
  CHECK(format_rate(0.3) == "3.33s/it");
  CHECK(format_rate(0) == "?it/s");
  CHECK(format_rate(14.705, " ") == "14.71 it/s");
  CHECK(format_metric(0.3123456) == "0.312");
  CHECK(format_metric(0.891) == "0.891");
  CHECK(format_metric(3.0) == "3");
  CHECK(format_metric(1e-5) == "1e-5");
  CHECK(format_metric(-0.5) == "-0.5");
  CHECK(format_metric(12345.678) == "1.23e+4");
  CHECK(display_width("\u2588\u2588\u258C a") == 5);
  std::string s = "ab\u2588cd";
  truncate_to_width(s, 3);
  CHECK(s == "ab\u2588");
  CHECK(group_thousands("1234567.125") == "1,234,567.125");
  CHECK(group_thousands("123") == "123");
}

TEST_CASE("a stream other than std::cout is not a terminal unless the options say so", "[callbacks][progress_bar]") {
  std::ostringstream out;
  CHECK_FALSE(volt::ProgressBar{{.out = &out}}.is_terminal());
  CHECK(volt::ProgressBar{{.out = &out, .is_terminal = true}}.is_terminal());
  STATIC_REQUIRE(std::is_same_v<volt::ProgressBar::clock, std::chrono::steady_clock>);
}

TEST_CASE("off a terminal: a plain line every plain_interval and one with the metrics at epoch end",
          "[callbacks][progress_bar]") {
  Harness h;
  h.state.current_epoch = 3;
  h.state.num_training_batches = 400;
  std::ostringstream out;
  Bar bar{{.out = &out, .plain_interval = 10s}};
  REQUIRE_FALSE(bar.is_terminal());

  bar.on_train_epoch_start(h.ctx);
  h.log("train_loss", 0.3123, volt::HookFamily::train_step);
  h.train_batches(bar, 0, 400, 68ms);  // 14.7 it/s for 27.2 s
  h.log("val_acc", 0.891, volt::HookFamily::validation);
  bar.on_train_epoch_end(h.ctx);

  const std::string text = out.str();
  CHECK_FALSE(has_control_characters(text));
  // Batch 148 is the first at 10 s (10.064 s), batch 296 the first at 20.064 s.
  CHECK(lines_of(text) ==
        std::vector<std::string>{
            "Epoch 3: 148/400 batches, 14.71 it/s, elapsed 00:10, remaining 00:17, train_loss=0.312",
            "Epoch 3: 296/400 batches, 14.71 it/s, elapsed 00:20, remaining 00:07, train_loss=0.312",
            "Epoch 3: 400/400 batches, 14.71 it/s, elapsed 00:27, train_loss=0.312, val_acc=0.891",
        });
}

TEST_CASE("off a terminal: validation inside fit adds no line; stages show their totals and only their metrics",
          "[callbacks][progress_bar]") {
  Harness h;
  std::ostringstream out;
  Bar bar{{.out = &out}};

  bar.on_sanity_check_start(h.ctx);
  bar.on_validation_start(h.ctx);
  for (std::int64_t i = 0; i < 2; ++i) FakeClock::advance(250ms), bar.on_validation_batch_end(h.loss, 0, i, h.ctx);
  bar.on_validation_end(h.ctx);
  bar.on_sanity_check_end(h.ctx);

  h.state.num_training_batches = -1;
  bar.on_train_epoch_start(h.ctx);
  h.train_batches(bar, 0, 5, 1s);
  bar.on_validation_start(h.ctx);
  for (std::int64_t i = 0; i < 4; ++i) FakeClock::advance(500ms), bar.on_validation_batch_end(h.loss, 0, i, h.ctx);
  h.log("val_loss", 0.25, volt::HookFamily::validation);
  bar.on_validation_end(h.ctx);
  bar.on_train_epoch_end(h.ctx);

  // test(): the loader's length is known; val_loss is fit's, not the stage's.
  h.state.stage = volt::Stage::test;
  h.state.num_eval_batches = 3;
  bar.on_test_start(h.ctx);
  for (std::int64_t i = 0; i < 3; ++i) FakeClock::advance(100ms), bar.on_test_batch_end(h.loss, 0, i, h.ctx);
  h.log("test_loss", 0.125, volt::HookFamily::test);
  bar.on_test_end(h.ctx);

  h.state.stage = volt::Stage::predict;
  h.state.num_eval_batches = -1;
  bar.on_predict_start(h.ctx);
  for (std::int64_t i = 0; i < 3; ++i) FakeClock::advance(2s), bar.on_predict_batch_end(h.loss, 0, i, h.ctx);
  bar.on_predict_end(h.ctx);

  const std::string text = out.str();
  CHECK_FALSE(has_control_characters(text));
  // No line for the sanity check or the validation pass: the epoch's line has their metrics.
  CHECK(lines_of(text) == std::vector<std::string>{
                              "Epoch 0: 5 batches, 1.40 s/it, elapsed 00:07, val_loss=0.25",
                              "Testing: 3/3 batches, 10.00 it/s, elapsed 00:00, test_loss=0.125",
                              "Predicting: 3 batches, 2.00 s/it, elapsed 00:06",
                          });
}

TEST_CASE("on a terminal: tqdm frames redrawn with carriage returns, a newline at epoch end",
          "[callbacks][progress_bar]") {
  Harness h;
  h.state.current_epoch = 3;
  h.state.num_training_batches = 400;
  std::ostringstream out;
  Bar bar{{.refresh_rate = 100ms, .out = &out, .is_terminal = true}};

  bar.on_train_epoch_start(h.ctx);
  h.log("train_loss", 0.3123, volt::HookFamily::train_step);
  h.train_batches(bar, 0, 400, 68ms);  // every second batch is 100 ms after the last redraw
  h.log("val_acc", 0.891, volt::HookFamily::validation);
  bar.on_train_epoch_end(h.ctx);

  const std::string text = out.str();
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.rfind("\rEpoch 3:   0%|          | 0/400 [00:00<?, ?it/s]", 0) == 0);
  CHECK(text.find("\rEpoch 3:  45%|\u2588\u2588\u2588\u2588\u258C     | 180/400 [00:12<00:14, 14.71it/s, "
                  "train_loss=0.312]") != std::string::npos);
  CHECK(text.find("\rEpoch 3:  50%|\u2588\u2588\u2588\u2588\u2588     | 200/400 [00:13<00:13, 14.71it/s, "
                  "train_loss=0.312]") != std::string::npos);
  // The epoch's last frame stays open: the next epoch redraws the same line.
  CHECK(ends_with(text, "\rEpoch 3: 100%|\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588| 400/400 "
                        "[00:27<00:00, 14.71it/s, train_loss=0.312, val_acc=0.891]"));
  CHECK(count(text, '\n') == 0);
  // The initial frame, one per two batches, the last frame.
  CHECK(count(text, '\r') == 1 + 200 + 1);

  h.state.current_epoch = 4;
  out.str("");
  bar.on_train_epoch_start(h.ctx);
  // Over the previous epoch's longer frame, blanking the rest of it.
  CHECK(out.str().rfind("\rEpoch 4:   0%|          | 0/400 [00:00<?, ?it/s]    ", 0) == 0);
  CHECK(count(out.str(), '\n') == 0);
  h.train_batches(bar, 0, 400, 68ms);
  bar.on_train_epoch_end(h.ctx);
  // fit's end ends the line, then says why fit stopped.
  h.state.stop_reason = "`Trainer.fit` stopped: `max_epochs=5` reached.";
  out.str("");
  bar.on_train_end(h.ctx);
  CHECK(out.str() == "\n`Trainer.fit` stopped: `max_epochs=5` reached.\n");
}

TEST_CASE("redraws are bounded by refresh_rate however many batches pass", "[callbacks][progress_bar]") {
  Harness h;
  h.state.num_training_batches = 100'000;
  std::ostringstream out;
  Bar bar{{.refresh_rate = 100ms, .out = &out, .is_terminal = true}};

  bar.on_train_epoch_start(h.ctx);
  h.train_batches(bar, 0, 50'000, 0ns);  // all within one refresh interval: no redraw
  CHECK(count(out.str(), '\r') == 1);
  h.train_batches(bar, 50'000, 50'000, 20us);  // 1 s in all: one redraw per 100 ms
  CHECK(count(out.str(), '\r') == 1 + 10);
  bar.on_train_epoch_end(h.ctx);
  CHECK(count(out.str(), '\r') == 1 + 10 + 1);

  // Off a terminal, 10 s apart: 4 lines in 40 s, then the epoch's last line.
  std::ostringstream plain;
  Bar quiet{{.out = &plain, .plain_interval = 10s}};
  quiet.on_train_epoch_start(h.ctx);
  h.train_batches(quiet, 0, 100'000, 400us);
  quiet.on_train_epoch_end(h.ctx);
  CHECK(count(plain.str(), '\n') == 4 + 1);
}

TEST_CASE("on a terminal: the validation bar inside fit is erased and the epoch bar comes back with its metrics",
          "[callbacks][progress_bar]") {
  Harness h;
  h.state.num_training_batches = 4;
  std::ostringstream out;
  Bar bar{{.refresh_rate = 100ms, .out = &out, .is_terminal = true}};

  bar.on_train_epoch_start(h.ctx);
  h.train_batches(bar, 0, 4, 1s);
  const std::string epoch_frame = "\rEpoch 0: 100%|\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588| 4/4 "
                                  "[00:04<00:00, 1.00it/s]";
  REQUIRE(ends_with(out.str(), epoch_frame));
  out.str("");

  bar.on_validation_start(h.ctx);
  for (std::int64_t i = 0; i < 2; ++i) FakeClock::advance(1s), bar.on_validation_batch_end(h.loss, 0, i, h.ctx);
  h.log("val_loss", 0.25, volt::HookFamily::validation);
  bar.on_validation_end(h.ctx);
  const std::string expected =
      // The first validation frame writes over the longer (53 columns) epoch frame and blanks
      // the rest; the sanity bar is erased at the end, and the epoch frame drawn again.
      "\rValidation: 0it [00:00, ?it/s]" + std::string(53 - 30, ' ') +
      "\rValidation: 1it [00:01, 1.00it/s]"
      "\rValidation: 2it [00:02, 1.00it/s]"
      "\r" + std::string(33, ' ') + "\r" +
      "\rEpoch 0: 100%|\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588| 4/4 [00:06<00:00, 1.50s/it, "
      "val_loss=0.25]";
  CHECK(out.str() == expected);
  out.str("");
  bar.on_train_epoch_end(h.ctx);
  CHECK(out.str() == "\rEpoch 0: 100%|\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588| 4/4 [00:06<00:00, "
                     "1.50s/it, val_loss=0.25]");
}

TEST_CASE("on a terminal: the sanity check bar is erased; test, predict and validate() bars stay", "[callbacks][progress_bar]") {
  Harness h;
  std::ostringstream out;
  Bar bar{{.out = &out, .is_terminal = true}};

  bar.on_sanity_check_start(h.ctx);
  bar.on_validation_start(h.ctx);
  FakeClock::advance(1s);
  bar.on_validation_batch_end(h.loss, 0, 0, h.ctx);
  bar.on_validation_end(h.ctx);
  bar.on_sanity_check_end(h.ctx);
  const std::string sanity = out.str();
  CHECK(sanity.find("\rSanity Checking: 1it [00:01, 1.00it/s]") != std::string::npos);
  CHECK(ends_with(sanity, "\r" + std::string(38, ' ') + "\r"));  // erased

  out.str("");
  h.state.stage = volt::Stage::test;
  bar.on_test_start(h.ctx);
  FakeClock::advance(1s);
  bar.on_test_batch_end(h.loss, 0, 0, h.ctx);
  h.log("test_loss", 0.125, volt::HookFamily::test);
  bar.on_test_end(h.ctx);
  CHECK(ends_with(out.str(), "\rTesting: 1it [00:01, 1.00it/s, test_loss=0.125]\n"));

  out.str("");
  h.state.stage = volt::Stage::predict;
  bar.on_predict_start(h.ctx);
  FakeClock::advance(1s);
  bar.on_predict_batch_end(h.loss, 0, 0, h.ctx);
  bar.on_predict_end(h.ctx);
  CHECK(ends_with(out.str(), "\rPredicting: 1it [00:01, 1.00it/s]\n"));

  // validate() on its own keeps its bar, with its own metrics (not test()'s), as test() does;
  // with a known length it shows the total.
  out.str("");
  h.state.stage = volt::Stage::validate;
  h.state.num_eval_batches = 1;
  bar.on_validation_start(h.ctx);
  FakeClock::advance(1s);
  bar.on_validation_batch_end(h.loss, 0, 0, h.ctx);
  h.log("val_loss", 0.5, volt::HookFamily::validation);
  bar.on_validation_end(h.ctx);
  CHECK(ends_with(out.str(), "\rValidation: 100%|\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588| 1/1 "
                             "[00:01<00:00, 1.00it/s, val_loss=0.5]\n"));
}

TEST_CASE("only global rank 0 prints; an exception ends a half-drawn line", "[callbacks][progress_bar]") {
  Harness h;
  h.state.num_training_batches = 10;
  h.state.global_rank = 1;
  std::ostringstream out;
  Bar bar{{.out = &out, .is_terminal = true}};
  bar.on_train_epoch_start(h.ctx);
  h.train_batches(bar, 0, 10, 1s);
  bar.on_train_epoch_end(h.ctx);
  CHECK(out.str().empty());

  h.state.global_rank = 0;
  bar.on_train_epoch_start(h.ctx);
  h.train_batches(bar, 0, 3, 1s);
  bar.on_exception(std::runtime_error("boom"), h.ctx);
  CHECK(out.str().back() == '\n');
  CHECK(count(out.str(), '\n') == 1);
  bar.on_train_epoch_end(h.ctx);  // the bar was stopped: nothing more
  CHECK(count(out.str(), '\n') == 1);
}

namespace {

// y = 3x0 - 2x1 + 0.5; every step moves the fake clock, so the output is exact.
struct TimedRegressor : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  TimedRegressor() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    FakeClock::advance(1s);
    auto loss = torch::mse_loss(fc(batch.data), batch.target);
    ctx.log("train_loss", loss, {.prog_bar = true});
    return loss;
  }
  torch::Tensor validation_step(const volt::data::Example& batch, std::int64_t, volt::Context& ctx) {
    FakeClock::advance(500ms);
    auto loss = torch::mse_loss(fc(batch.data), batch.target);
    ctx.log("val_loss", loss, {.prog_bar = true});
    return loss;
  }
  void test_step(const volt::data::Example& batch, volt::Context& ctx) {
    FakeClock::advance(250ms);
    ctx.log("test_loss", torch::mse_loss(fc(batch.data), batch.target), {.prog_bar = true});
  }
  torch::Tensor predict_step(const volt::data::Example& batch) {
    FakeClock::advance(250ms);
    return fc(batch.data);
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct TimedData {
  torch::Tensor x, y;
  TimedData() {
    auto gen = at::detail::createCPUGenerator(7);
    x = torch::randn({64, 2}, gen);
    y = (3 * x.select(1, 0) - 2 * x.select(1, 1) + 0.5).unsqueeze(1);
  }
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }   // 16 batches
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 16}}; }    // 4 batches
  volt::data::TensorLoader test_dataloader() const { return {x, y, {.batch_size = 32}}; }   // 2 batches
  volt::data::TensorLoader predict_dataloader() const { return {x, y, {.batch_size = 32}}; }
};

using BarTrainer = volt::Trainer<TimedRegressor, TimedData, volt::SingleDevice, volt::precision::FP32, Bar,
                                 volt::ModelSummary>;

}  // namespace

TEST_CASE("a Trainer fit, test and predict print plain progress lines off a terminal", "[callbacks][progress_bar]") {
  torch::manual_seed(0);
  TimedRegressor model;
  TimedData data;
  std::ostringstream out;
  BarTrainer trainer{{.max_epochs = 2},
                     volt::SingleDevice{torch::kCPU},
                     volt::precision::FP32{},
                     Bar{{.out = &out, .plain_interval = 10s}},
                     volt::ModelSummary{{.out = &out}}};
  trainer.fit(model, data);
  trainer.test(model, data);
  trainer.predict(model, data);

  const std::string text = out.str();
  INFO(text);
  CHECK_FALSE(has_control_characters(text));
  const auto lines = lines_of(text);
  // ModelSummary at on_fit_start (8 lines), then two lines per epoch (none for the sanity check
  // or the validation passes), why fit stopped, test and predict with their totals.
  REQUIRE(lines.size() == 8 + 2 * 2 + 1 + 2);
  CHECK(lines[2] == "0 | fc   | Linear | 3     ");
  CHECK(lines[7] == "0.000     Total estimated model params size (MB)");
  for (int epoch = 0; epoch < 2; ++epoch) {
    const std::size_t at = 8 + 2 * static_cast<std::size_t>(epoch);
    const std::string e = "Epoch " + std::to_string(epoch) + ": ";
    CHECK(lines[at].rfind(e + "10/16 batches, 1.00 it/s, elapsed 00:10, remaining 00:06, train_loss=", 0) == 0);
    CHECK(lines[at + 1].rfind(e + "16/16 batches, 1.12 s/it, elapsed 00:18, train_loss=", 0) == 0);
    CHECK(lines[at + 1].find(", val_loss=") != std::string::npos);
  }
  CHECK(lines[12] == "`Trainer.fit` stopped: `max_epochs=2` reached.");
  // test() shows test_loss only, not the train / val metrics fit left.
  CHECK(lines[13].rfind("Testing: 2/2 batches, 4.00 it/s, elapsed 00:00, test_loss=", 0) == 0);
  CHECK(lines[13].find("val_loss") == std::string::npos);
  CHECK(lines[13].find("train_loss") == std::string::npos);
  CHECK(lines[14] == "Predicting: 2/2 batches, 4.00 it/s, elapsed 00:00");
}

TEST_CASE("a Trainer fit draws tqdm bars on a terminal", "[callbacks][progress_bar]") {
  torch::manual_seed(0);
  TimedRegressor model;
  TimedData data;
  std::ostringstream out;
  volt::Trainer<TimedRegressor, TimedData, volt::SingleDevice, volt::precision::FP32, Bar> trainer{
      {.max_epochs = 2, .num_sanity_val_steps = 0},
      volt::SingleDevice{torch::kCPU},
      volt::precision::FP32{},
      Bar{{.out = &out, .is_terminal = true}}};
  trainer.fit(model, data);

  const std::string text = out.str();
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.rfind("\rEpoch 0:   0%|          | 0/16 [00:00<?, ?it/s]", 0) == 0);
  CHECK(text.find("\rEpoch 0:  50%|\u2588\u2588\u2588\u2588\u2588     | 8/16 [00:08<00:08, 1.00it/s, train_loss=") !=
        std::string::npos);
  CHECK(text.find("\rValidation: 100%|\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588| 4/4 [00:02<00:00, "
                  "2.00it/s]") != std::string::npos);
  CHECK(text.find("\rEpoch 1:   0%|") != std::string::npos);
  const auto lines = lines_of(text);
  // One line for the whole fit, as Lightning 2.x's training bar, then why fit stopped.
  REQUIRE(lines.size() == 2);
  const auto last_frame = lines[0].substr(lines[0].rfind('\r'));
  CHECK(last_frame.rfind("\rEpoch 1: 100%", 0) == 0);
  CHECK(last_frame.find("| 16/16 [00:18<00:00, 1.12s/it, train_loss=") != std::string::npos);
  CHECK(last_frame.find(", val_loss=") != std::string::npos);
  CHECK(last_frame.back() == ']');
  CHECK(lines[1] == "`Trainer.fit` stopped: `max_epochs=2` reached.");
}

TEST_CASE("metrics that do not fit the terminal are abbreviated, every name kept, monitored ones first",
          "[callbacks][progress_bar]") {
  using volt::detail::fit_metrics;
  using volt::detail::order_metrics;
  CHECK(volt::detail::abbreviate_metric_name("train_loss_epoch", 3) == "tra_los_epo");
  CHECK(volt::detail::abbreviate_metric_name("lr-SGD", 2) == "lr");
  const std::map<std::string, double> metrics{
      {"train_loss_epoch", 0.5}, {"train_loss_step", 0.25}, {"val_acc", 0.875}, {"val_loss", 0.75}};
  const auto ordered = order_metrics(metrics, {"val_loss", "not_logged"});
  REQUIRE(ordered.size() == 4);
  CHECK(ordered[0].first == "val_loss");
  CHECK(ordered[1].first == "train_loss_epoch");

  const std::string full = ", val_loss=0.75, train_loss_epoch=0.5, train_loss_step=0.25, val_acc=0.875";
  CHECK(fit_metrics(ordered, 0) == full);
  CHECK(fit_metrics(ordered, full.size()) == full);
  // The longest part width that fits: 3 letters (64 columns) is too long, 2 fits.
  CHECK(fit_metrics(ordered, 63) == ", va_lo=0.75, tr_lo_ep=0.5, tr_lo_st=0.25, va_ac=0.875");
  CHECK(fit_metrics(ordered, 64) == ", val_los=0.75, tra_los_epo=0.5, tra_los_ste=0.25, val_acc=0.875");
  CHECK(fit_metrics(ordered, 44) == ", v_l=0.75, t_l_e=0.5, t_l_s=0.25, v_a=0.875");
  // Narrower still: the separators lose their space; what is left is the caller's to cut.
  CHECK(fit_metrics(ordered, 42) == ",v_l=0.75,t_l_e=0.5,t_l_s=0.25,v_a=0.875");
  // Names whose abbreviations would collide keep their previous, distinct form.
  const std::vector<std::pair<std::string, double>> alike{{"val_loss", 1}, {"val_lr", 2}, {"epoch", 3}};
  CHECK(fit_metrics(alike, 24) == ", va_lo=1, va_lr=2, ep=3");
  CHECK(fit_metrics(alike, 23) == ", va_lo=1, va_lr=2, e=3");  // "v_l" twice: both keep "va_.."
  CHECK(fit_metrics(alike, 22) == ",va_lo=1,va_lr=2,e=3");

  // On a 100-column terminal the bar's line keeps every metric and the monitored one first.
  Harness h;
  h.state.num_training_batches = 10;
  h.state.monitored_metrics = {"val_loss"};
  h.log("train_loss_step", 0.25, volt::HookFamily::train_step);
  h.log("val_acc", 0.875, volt::HookFamily::validation);
  h.log("val_loss", 0.75, volt::HookFamily::validation);
  std::ostringstream out;
  Bar bar{{.out = &out, .is_terminal = true, .columns = 100}};
  bar.on_train_epoch_start(h.ctx);
  h.train_batches(bar, 0, 10, 1s);
  bar.on_train_epoch_end(h.ctx);
  const std::string frame = out.str().substr(out.str().rfind('\r') + 1);
  INFO(frame);
  CHECK(volt::detail::display_width(frame) <= 99);
  CHECK(frame == "Epoch 0: 100%|\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588| 10/10 [00:10<00:00, "
                 "1.00it/s, va_lo=0.75, tr_lo_st=0.25, va_ac=0.875]");
}

namespace {

struct StopData : TimedData {
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 64}}; }
};

}  // namespace

TEST_CASE("one line says why fit stopped: EarlyStopping, max_steps, max_time", "[callbacks][progress_bar]") {
  torch::manual_seed(0);
  StopData data;
  const auto last_line = [](const std::string& text) { return lines_of(text).back(); };
  {
    TimedRegressor model;
    std::ostringstream out;
    volt::Trainer<TimedRegressor, StopData, volt::SingleDevice, volt::precision::FP32, Bar, volt::EarlyStopping>
        trainer{{.logger = false, .max_epochs = 5, .num_sanity_val_steps = 0, .enable_checkpointing = false},
                volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}, Bar{{.out = &out}},
                volt::EarlyStopping{{.monitor = "val_loss", .stopping_threshold = 1e9}}};
    trainer.fit(model, data);
    CHECK(trainer.current_epoch() == 1);
    CHECK(last_line(out.str()).rfind("`Trainer.fit` stopped by EarlyStopping: Stopping threshold reached: val_loss = ",
                                     0) == 0);
    CHECK(ends_with(last_line(out.str()), " < 1000000000. Signaling Trainer to stop."));
    // The metric EarlyStopping monitors comes first in the epoch's line.
    const auto epoch_line = lines_of(out.str()).at(lines_of(out.str()).size() - 2);
    INFO(epoch_line);
    CHECK(epoch_line.rfind("Epoch 0: 16/16 batches", 0) == 0);
    CHECK(epoch_line.find(", val_loss=") != std::string::npos);
    CHECK(epoch_line.find(", val_loss=") < epoch_line.find(", train_loss="));
  }
  {
    TimedRegressor model;
    std::ostringstream out;
    volt::Trainer<TimedRegressor, StopData, volt::SingleDevice, volt::precision::FP32, Bar> trainer{
        {.logger = false, .max_epochs = 5, .max_steps = 20, .enable_checkpointing = false},
        volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}, Bar{{.out = &out}}};
    trainer.fit(model, data);
    CHECK(trainer.global_step() == 20);
    CHECK(last_line(out.str()) == "`Trainer.fit` stopped: `max_steps=20` reached.");
  }
  {
    TimedRegressor model;
    std::ostringstream out;
    volt::Trainer<TimedRegressor, StopData, volt::SingleDevice, volt::precision::FP32, Bar> trainer{
        {.logger = false, .max_epochs = 5, .max_time = std::chrono::duration<double>(1e-9),
         .enable_checkpointing = false},
        volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}, Bar{{.out = &out}}};
    trainer.fit(model, data);
    CHECK(trainer.global_step() == 1);
    CHECK(last_line(out.str()).rfind("`Trainer.fit` stopped: `max_time=1e-09s` reached (elapsed ", 0) == 0);
  }
}
