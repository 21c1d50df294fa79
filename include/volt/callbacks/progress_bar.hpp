#pragma once
// volt::ProgressBar: Lightning's TQDMProgressBar, without Python's tqdm.
//
// On a terminal, one tqdm-style line per stage, redrawn in place with '\r':
//   Epoch 3:  45%|████▌     | 180/400 [00:12<00:14, 14.71it/s, val_loss=0.291, train_loss=0.312]
//   Testing:  67%|██████▋   | 2/3 [00:01<00:00, 1.50it/s]
// As in Lightning 2.x, the training bar keeps one line for the whole fit: each epoch redraws it
// ("Epoch 4: ...") and fit's end ends it with a newline. The validation bar inside fit and the
// sanity-check bar take the line while they run and are erased when they end, and the epoch's
// bar comes back; the bars of validate(), test() and predict() stay. Evaluation and predict bars
// show a total when the loader knows its length ("3/3"), else a count ("3it").
//
// The metrics after the rate: the ones a ModelCheckpoint or EarlyStopping monitors first, then
// the others by name. When they do not fit the terminal's width, the names are abbreviated
// (each '_'-separated part cut to the same length, as long as the names stay distinct) so that
// every metric stays visible; Lightning lets them overflow and the terminal cuts them off.
// The evaluation bars of validate() and test() show only what that stage logged, not the
// metrics fit left behind.
//
// Anywhere else (a file, a pipe, CI) '\r' frames would pile up, so it prints plain lines, with
// no control characters: one at most every plain_interval while a stage runs, and a last one
// when the epoch / stage ends, with the metrics (the epoch's line carries the validation
// metrics, so validation inside fit adds no line of its own unless it runs for longer than
// plain_interval):
//   Epoch 3: 180/400 batches, 14.71 it/s, elapsed 00:12, remaining 00:14, train_loss=0.312
//   Epoch 3: 400/400 batches, 14.71 it/s, elapsed 00:27, val_acc=0.891, train_loss=0.298
//
// When fit ends, one line says why (RunState::stop_reason): EarlyStopping, Timer, max_time,
// max_steps or max_epochs, e.g. "`Trainer.fit` stopped: `max_steps=100` reached."
//
// Cost: on_*_batch_end stores the batch index, reads the clock and compares it with the time
// of the next redraw; only a redraw formats text and reads ctx.progress_bar_metrics(), which
// syncs the device. So refresh_rate bounds the cost however fast the steps are.
//
// The clock is a template parameter so that tests can drive time; ProgressBar is the usual
// steady_clock instance. Only global rank 0 prints, as in Lightning.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <volt/core/context.hpp>
#include <volt/core/stage.hpp>
#include <volt/detail/terminal.hpp>
#include <volt/detail/config.hpp>

namespace volt {

struct ProgressBarOptions {
  // Least time between two redraws of a terminal bar (tqdm's mininterval). Lightning's
  // refresh_rate counts batches; a time bound keeps redraws rare whatever a step costs.
  std::chrono::duration<double> refresh_rate{0.1};
  std::ostream* out = &std::cout;  // nullptr: print nothing
  // nullopt: a terminal when `out` is std::cout (or std::cerr / std::clog) and isatty() says
  // so; any other stream is not a terminal.
  std::optional<bool> is_terminal{};
  // Off a terminal: least time between two progress lines of a running stage.
  std::chrono::seconds plain_interval{10};
  int bar_width = 10;  // characters between the bar's '|'s
  // Terminal width in columns; 0: ask the terminal (TIOCGWINSZ). A line never passes it.
  int columns = 0;
};

namespace detail {
// Appends `name` to `names` unless it is empty or already there; compiled once (fast mode).
VOLT_INLINE void add_monitored_metric(std::vector<std::string>& names, const std::string& name);
}  // namespace detail

// The metrics the callbacks of a run monitor (a callback whose options() has a `monitor`, as
// ModelCheckpoint and EarlyStopping do), in callback order, each once: the Trainer stores them
// in RunState::monitored_metrics for the progress bar.
template <class... Callbacks>
std::vector<std::string> monitored_metrics(const std::tuple<Callbacks...>& callbacks) {
  std::vector<std::string> names;
  auto visit = [&](const auto& cb) {
    if constexpr (requires { cb.options().monitor; }) {
      const auto& monitor = cb.options().monitor;
      if constexpr (std::is_convertible_v<decltype(monitor), const std::string&>) detail::add_monitored_metric(names, monitor);
      else if (monitor) detail::add_monitored_metric(names, *monitor);
    }
  };
  auto one = [&](const auto& c) {
    if constexpr (requires { c.has_value(); *c; }) {
      if (c.has_value()) visit(*c);
    } else {
      visit(c);
    }
  };
  // A fold over the indices, not std::apply (fewer layers to instantiate in every TU).
  [&]<std::size_t... I>(std::index_sequence<I...>) { (one(std::get<I>(callbacks)), ...); }(
      std::index_sequence_for<Callbacks...>{});
  return names;
}

namespace detail {

// What one frame or line of a bar shows; the clock-independent half of BasicProgressBar, so its
// text is compiled once (volt::compiled), not for every Clock and in every TU.
struct BarState {
  std::string_view label;
  std::int64_t n = 0;
  std::int64_t total = -1;  // -1: unknown
  double elapsed = 0;       // seconds since the bar started
};

// tqdm's bar: full blocks, then one partial block in eighths, then spaces.
VOLT_INLINE std::string bar_cells(double fraction, int bar_width);

// The metrics to show: monitored ones first, and for a stage bar only what the stage logged
// (`stale`: the progress-bar metrics when the stage started).
VOLT_INLINE std::vector<std::pair<std::string, double>> shown_metrics(std::map<std::string, double> all,
                                                                      bool stage_metrics_only,
                                                                      const std::map<std::string, double>& stale,
                                                                      const std::vector<std::string>& monitored);

// tqdm's format_meter: "{label}: {pct:3.0f}%|{bar}| {n}/{total} [{elapsed}<{remaining}, {rate}{postfix}]",
// or "{label}: {n}it [{elapsed}, {rate}{postfix}]" when the total is unknown. The postfix gets
// the columns the rest leaves (the line never passes columns - 1, where a terminal would wrap).
VOLT_INLINE std::string bar_line(const BarState& bar, int bar_width, int columns,
                                 const std::vector<std::pair<std::string, double>>* metrics);

// "{label}: {n}/{total} batches, {rate}, elapsed {t}[, remaining {t}]{, metrics}\n".
VOLT_INLINE std::string plain_line(const BarState& bar, bool last,
                                   const std::vector<std::pair<std::string, double>>* metrics);

}  // namespace detail

template <class Clock = std::chrono::steady_clock>
class BasicProgressBar {
 public:
  using clock = Clock;
  using time_point = typename Clock::time_point;

  explicit BasicProgressBar(ProgressBarOptions options = {})
      : options_(options),
        terminal_(options.is_terminal.value_or(detail::is_terminal(options.out))),
        interval_(std::chrono::duration_cast<typename Clock::duration>(
            terminal_ ? options.refresh_rate : std::chrono::duration<double>(options.plain_interval))) {}

  bool is_terminal() const noexcept { return terminal_; }
  const ProgressBarOptions& options() const noexcept { return options_; }

  void on_sanity_check_start(Context&) noexcept { sanity_checking_ = true; }
  void on_sanity_check_end(Context&) noexcept { sanity_checking_ = false; }

  void on_train_epoch_start(Context& ctx);
  template <class Output, class Batch>
  void on_train_batch_end(const Output&, const Batch&, std::int64_t batch_idx, Context& ctx) {
    tick(train_, batch_idx, ctx);
  }
  void on_train_epoch_end(Context& ctx) { finish(train_, ctx); }
  // The training line ends with fit (Lightning closes its bar in on_train_end), then the reason.
  void on_train_end(Context& ctx);

  void on_validation_start(Context& ctx);
  template <class Output, class Batch>
  void on_validation_batch_end(const Output&, const Batch&, std::int64_t batch_idx, Context& ctx) {
    tick(eval_, batch_idx, ctx);
  }
  void on_validation_end(Context& ctx) { finish_eval(ctx); }

  void on_test_start(Context& ctx);
  template <class Output, class Batch>
  void on_test_batch_end(const Output&, const Batch&, std::int64_t batch_idx, Context& ctx) {
    tick(eval_, batch_idx, ctx);
  }
  void on_test_end(Context& ctx) { finish_eval(ctx); }

  void on_predict_start(Context& ctx);
  template <class Output, class Batch>
  void on_predict_batch_end(const Output&, const Batch&, std::int64_t batch_idx, Context& ctx) {
    tick(eval_, batch_idx, ctx);
  }
  void on_predict_end(Context& ctx) { finish_eval(ctx); }

  // An error ends the run: end the half-drawn line so the error message starts on its own.
  void on_exception(const std::exception&, Context&);

 private:
  struct Style {
    bool metrics_while_running = false;  // postfix metrics on every redraw (the training bar)
    bool metrics_at_end = false;         // metrics on the last frame / line
    bool leave = true;                   // terminal: keep the last frame, else erase it
    bool keep_line = false;              // terminal: the kept frame stays open for the next epoch's
    bool end_line = true;                // off a terminal: a last line when the stage ends
    bool stage_metrics_only = false;     // hide metrics left from before the stage started
  };

  struct Bar {
    std::string label;
    std::int64_t n = 0;
    std::int64_t total = -1;  // -1: unknown
    time_point started{};
    // The next time a batch end may redraw. max(): never (no bar running, or not rank 0), so
    // the batch-end test needs no other branch.
    time_point next = time_point::max();
    bool running = false;
    Style style{};
    void stop() noexcept {
      running = false;
      next = time_point::max();
    }
  };

  void start(Bar& bar, std::string label, std::int64_t total, const Context& ctx, Style style);

  void tick(Bar& bar, std::int64_t batch_idx, const Context& ctx) {
    bar.n = batch_idx + 1;
    const time_point now = Clock::now();
    if (now < bar.next) return;  // the per-batch path: one clock read, one comparison
    bar.next = now + interval_;
    const Context* metrics = bar.style.metrics_while_running ? &ctx : nullptr;
    if (terminal_) draw(bar, now, metrics);
    else write_line(bar, now, metrics, /*last=*/false);
  }

  void finish(Bar& bar, const Context& ctx);

  // An evaluation bar ends; on a terminal the epoch's bar, if any, takes the line back, now
  // with the validation metrics.
  void finish_eval(const Context& ctx);

  double seconds_since(const Bar& bar, time_point now) const {
    return std::chrono::duration<double>(now - bar.started).count();
  }

  detail::BarState state_of(const Bar& bar, time_point now) const {
    return {.label = bar.label, .n = bar.n, .total = bar.total, .elapsed = seconds_since(bar, now)};
  }

  std::vector<std::pair<std::string, double>> shown_metrics(const Bar& bar, const Context& ctx) const;

  std::string bar_line(const Bar& bar, time_point now, const Context* metrics) const;

  // '\r', the frame, and spaces over what is left of a longer previous frame (as tqdm does;
  // no escape sequences, so any terminal shows it).
  void draw(const Bar& bar, time_point now, const Context* metrics);

  void erase();

  // Ends the line a kept frame is on.
  void end_line();

  void write_line(const Bar& bar, time_point now, const Context* metrics, bool last) const;

  ProgressBarOptions options_;
  bool terminal_;
  typename Clock::duration interval_;  // refresh_rate on a terminal, plain_interval elsewhere
  Bar train_{};
  Bar eval_{};  // validation, sanity check, test or predict: one at a time
  bool sanity_checking_ = false;
  std::size_t line_width_ = 0;  // columns of the frame on the terminal's current line
  int columns_ = 0;             // terminal width, 0: unknown (no truncation)
  std::map<std::string, double> stale_{};  // progress-bar metrics when the running stage started
  std::vector<std::string> monitored_{};
};

// Defined outside the class and not inline: in the separately compiled mode ProgressBar's are
// compiled once, in volt::compiled (the extern template below), not in every user TU. The
// per-batch test (tick) stays inline.
template <class Clock>
void BasicProgressBar<Clock>::on_train_epoch_start(Context& ctx) {
  start(train_, fmt::format("Epoch {}", ctx.current_epoch()), ctx.num_training_batches(), ctx,
        {.metrics_while_running = true, .metrics_at_end = true, .leave = true, .keep_line = true});
}

template <class Clock>
void BasicProgressBar<Clock>::on_train_end(Context& ctx) {
  if (!options_.out || !ctx.is_global_zero()) return;
  end_line();
  if (!ctx.state().stop_reason.empty()) {
    *options_.out << ctx.state().stop_reason << '\n';
    options_.out->flush();
  }
}

template <class Clock>
void BasicProgressBar<Clock>::on_validation_start(Context& ctx) {
  // Inside fit the epoch's bar has the metrics and comes back afterwards; validate() alone
  // keeps its bar (and its metrics) like test().
  const bool standalone = ctx.stage() == Stage::validate;
  start(eval_, sanity_checking_ ? "Sanity Checking" : "Validation", ctx.state().num_eval_batches, ctx,
        {.metrics_while_running = false,
         .metrics_at_end = standalone,
         .leave = standalone,
         .end_line = standalone,
         .stage_metrics_only = standalone});
}

template <class Clock>
void BasicProgressBar<Clock>::on_test_start(Context& ctx) {
  start(eval_, "Testing", ctx.state().num_eval_batches, ctx,
        {.metrics_while_running = false, .metrics_at_end = true, .leave = true, .stage_metrics_only = true});
}

template <class Clock>
void BasicProgressBar<Clock>::on_predict_start(Context& ctx) {
  start(eval_, "Predicting", ctx.state().num_eval_batches, ctx,
        {.metrics_while_running = false, .metrics_at_end = false, .leave = true});
}

template <class Clock>
void BasicProgressBar<Clock>::on_exception(const std::exception&, Context&) {
  train_.stop();
  eval_.stop();
  sanity_checking_ = false;
  if (options_.out) end_line();
}

template <class Clock>
void BasicProgressBar<Clock>::start(Bar& bar, std::string label, std::int64_t total, const Context& ctx, Style style) {
  bar.label = std::move(label);
  bar.n = 0;
  bar.total = total;
  bar.style = style;
  bar.started = Clock::now();
  bar.running = options_.out && ctx.is_global_zero();
  if (!bar.running) {
    bar.next = time_point::max();
    return;
  }
  // What fit left in the progress-bar metrics, so that a stage shows only what it logs.
  stale_.clear();
  if (style.stage_metrics_only && style.metrics_at_end) stale_ = ctx.progress_bar_metrics();
  monitored_ = ctx.state().monitored_metrics;
  bar.next = bar.started + interval_;
  if (terminal_) {
    columns_ = options_.columns > 0 ? options_.columns : detail::terminal_columns(options_.out);
    draw(bar, bar.started, nullptr);  // tqdm shows the empty bar at once
  }
}

template <class Clock>
void BasicProgressBar<Clock>::finish(Bar& bar, const Context& ctx) {
  if (!bar.running) return;
  bar.stop();
  const time_point now = Clock::now();
  const Context* metrics = bar.style.metrics_at_end ? &ctx : nullptr;
  if (!terminal_) {
    if (bar.style.end_line) write_line(bar, now, metrics, /*last=*/true);
  } else if (bar.style.leave) {
    draw(bar, now, metrics);
    if (!bar.style.keep_line) end_line();
  } else {
    erase();
  }
}

template <class Clock>
void BasicProgressBar<Clock>::finish_eval(const Context& ctx) {
  finish(eval_, ctx);
  if (terminal_ && train_.running) {
    const time_point now = Clock::now();
    train_.next = now + interval_;
    draw(train_, now, &ctx);
  }
}

template <class Clock>
std::vector<std::pair<std::string, double>> BasicProgressBar<Clock>::shown_metrics(const Bar& bar, const Context& ctx) const {
  return detail::shown_metrics(ctx.progress_bar_metrics(), bar.style.stage_metrics_only, stale_, monitored_);
}

template <class Clock>
std::string BasicProgressBar<Clock>::bar_line(const Bar& bar, time_point now, const Context* metrics) const {
  if (!metrics) return detail::bar_line(state_of(bar, now), options_.bar_width, columns_, nullptr);
  const auto shown = shown_metrics(bar, *metrics);
  return detail::bar_line(state_of(bar, now), options_.bar_width, columns_, &shown);
}

template <class Clock>
void BasicProgressBar<Clock>::draw(const Bar& bar, time_point now, const Context* metrics) {
  std::string line = bar_line(bar, now, metrics);
  if (columns_ > 1) detail::truncate_to_width(line, static_cast<std::size_t>(columns_ - 1));
  const std::size_t width = detail::display_width(line);
  std::string frame = "\r" + line;
  if (width < line_width_) frame.append(line_width_ - width, ' ');
  *options_.out << frame;
  options_.out->flush();
  line_width_ = width;
}

template <class Clock>
void BasicProgressBar<Clock>::erase() {
  if (line_width_ == 0) return;
  *options_.out << '\r' << std::string(line_width_, ' ') << '\r';
  options_.out->flush();
  line_width_ = 0;
}

template <class Clock>
void BasicProgressBar<Clock>::end_line() {
  if (line_width_ == 0) return;
  *options_.out << '\n';
  options_.out->flush();
  line_width_ = 0;
}

template <class Clock>
void BasicProgressBar<Clock>::write_line(const Bar& bar, time_point now, const Context* metrics, bool last) const {
  std::string line;
  if (metrics) {
    const auto shown = shown_metrics(bar, *metrics);
    line = detail::plain_line(state_of(bar, now), last, &shown);
  } else {
    line = detail::plain_line(state_of(bar, now), last, nullptr);
  }
  *options_.out << line;
  options_.out->flush();
}

using ProgressBar = BasicProgressBar<>;

#if defined(VOLT_SEPARATE_COMPILATION)
extern template class BasicProgressBar<std::chrono::steady_clock>;  // include/volt/impl/src.hpp
#endif

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/callbacks/impl/progress_bar.ipp>
#endif
