#pragma once
// SequentialLR (torch.optim.lr_scheduler.SequentialLR): runs schedulers one after another,
// switching at the milestones (scheduler steps). At a milestone the next scheduler restarts at
// its epoch 0 (closed form), as torch's does:
//   volt::optim::SequentialLR{{.milestones = {5}},
//                             volt::optim::LinearLR{{.start_factor = 0.1, .total_iters = 5}},
//                             volt::optim::CosineAnnealingLR{{.T_max = 95}}}
// The schedulers are held by value with their concrete types.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <volt/optim/scheduler.hpp>

namespace volt::optim {

struct SequentialLROptions {
  std::vector<std::int64_t> milestones;  // one fewer than the schedulers, increasing
};

// What SequentialLR needs of the schedulers it runs: volt's LRSchedulerBase protocol.
template <class S>
concept SequenceableScheduler = requires(S& s, const S& cs, torch::optim::Optimizer& o) {
  s.bind(o);
  s.rebind(o);
  s.initial_step();
  s.step();
  s.step_to(std::int64_t{0});
  { cs.last_lr() } -> std::convertible_to<std::vector<double>>;
};

template <class... Schedulers>
class SequentialLR {
  static_assert(sizeof...(Schedulers) >= 1, "volt: SequentialLR needs at least one scheduler.");
  static_assert((SequenceableScheduler<Schedulers> && ...),
                "volt: SequentialLR runs volt's epoch/step schedulers (StepLR, LinearLR, CosineAnnealingLR, ... "
                "held by value); ReduceLROnPlateau and torch's schedulers cannot be sequenced.");

 public:
  explicit SequentialLR(SequentialLROptions options, Schedulers... schedulers)
      : options_(std::move(options)), schedulers_(std::move(schedulers)...) {
    if (options_.milestones.size() + 1 != sizeof...(Schedulers))
      detail::sched::throw_sequential_milestones(sizeof...(Schedulers), options_.milestones.size());
    if (!std::is_sorted(options_.milestones.begin(), options_.milestones.end()))
      throw std::invalid_argument("volt: SequentialLR milestones must be increasing.");
  }

  // torch's SequentialLR construction: every scheduler bound to the optimizer's lrs, then the
  // initial step of the first one only.
  void attach(torch::optim::Optimizer& optimizer) {
    optimizer_ = &optimizer;
    std::apply([&](auto&... s) { (s.bind(optimizer), ...); }, schedulers_);
    std::get<0>(schedulers_).initial_step();
    last_epoch_ = 0;
    last_lr_ = std::get<0>(schedulers_).last_lr();
  }
  void rebind(torch::optim::Optimizer& optimizer) noexcept {
    optimizer_ = &optimizer;
    std::apply([&](auto&... s) { (s.rebind(optimizer), ...); }, schedulers_);
  }
  bool attached() const noexcept { return optimizer_ != nullptr; }

  void step() {
    ++last_epoch_;
    const auto& m = options_.milestones;
    const auto idx = static_cast<std::size_t>(std::upper_bound(m.begin(), m.end(), last_epoch_) - m.begin());
    const bool restart = idx > 0 && m[idx - 1] == last_epoch_;
    visit(idx, [&](auto& s) {
      if (restart) s.step_to(0);
      else s.step();
      last_lr_ = s.last_lr();
    });
  }

  const std::vector<double>& last_lr() const noexcept { return last_lr_; }
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  const SequentialLROptions& options() const noexcept { return options_; }
  std::tuple<Schedulers...>& schedulers() noexcept { return schedulers_; }
  const std::tuple<Schedulers...>& schedulers() const noexcept { return schedulers_; }

  void save(torch::serialize::OutputArchive& archive) const {
    detail::sched::write(archive, "last_epoch", last_epoch_);
    detail::sched::write(archive, "last_lr", last_lr_);
    for_each([&](const auto& s, std::size_t i) {
      torch::serialize::OutputArchive sub(archive.compilation_unit());
      s.save(sub);
      archive.write("schedulers/" + std::to_string(i), sub);
    });
  }
  void load(torch::serialize::InputArchive& archive) {
    last_epoch_ = detail::sched::read_int(archive, "last_epoch");
    for_each([&](auto& s, std::size_t i) {
      torch::serialize::InputArchive sub;
      archive.read("schedulers/" + std::to_string(i), sub);
      s.load(sub);
    });
    last_lr_ = detail::sched::read_doubles(archive, "last_lr");
    if (optimizer_ != nullptr && !last_lr_.empty()) detail::sched::set_group_lrs(*optimizer_, last_lr_);
  }

 private:
  template <class F>
  void visit(std::size_t idx, F&& f) {
    std::size_t k = 0;
    std::apply([&](auto&... s) { ((k++ == idx ? f(s) : void()), ...); }, schedulers_);
  }
  template <class F>
  void for_each(F&& f) {
    std::size_t k = 0;
    std::apply([&](auto&... s) { (f(s, k++), ...); }, schedulers_);
  }
  template <class F>
  void for_each(F&& f) const {
    std::size_t k = 0;
    std::apply([&](const auto&... s) { (f(s, k++), ...); }, schedulers_);
  }

  SequentialLROptions options_;
  std::tuple<Schedulers...> schedulers_;
  torch::optim::Optimizer* optimizer_ = nullptr;
  std::vector<double> last_lr_;
  std::int64_t last_epoch_ = 0;
};

template <class... Schedulers>
SequentialLR(SequentialLROptions, Schedulers...) -> SequentialLR<Schedulers...>;

}  // namespace volt::optim
