#pragma once
// What a learning-rate scheduler is to volt, and the base volt's own schedulers share.
//
// A volt scheduler is built from its options alone (no optimizer reference, so nothing can
// dangle) and bound to its optimizer later, by the configure_optimizers normalizer, once the
// optimizer sits at its final address:
//
//   volt::optim::CosineAnnealingLR sched{{.T_max = 10, .eta_min = 0.0}};
//   sched.attach(optimizer);   // records each param group's lr as its base lr, takes torch's
//                              // initial step (epoch 0), as a torch scheduler's constructor does
//   sched.step();              // after each epoch (or step): torch.optim.lr_scheduler's formulas
//   sched.last_lr();           // one lr per param group
//   sched.save(out_archive); sched.load(in_archive);   // resumes identically
//
// torch's own schedulers (torch::optim::StepLR, holding an Optimizer&) are schedulers too; volt
// saves and restores their step count.
#include <concepts>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <volt/detail/meta.hpp>
#include <volt/detail/config.hpp>

namespace volt::optim {

// A scheduler that steps without a metric (torch's and volt's epoch/step schedulers).
template <class S>
concept StepScheduler = requires(S& s) { s.step(); };

// A scheduler that steps on a monitored metric (ReduceLROnPlateau): Lightning's
// `reduce_on_plateau`. It needs LRSchedulerConfig::monitor.
template <class S>
concept MetricScheduler = requires(S& s, double metric) { s.step(metric); } && !StepScheduler<S>;

// Anything configure_optimizers may hand over as a scheduler (by value or behind a pointer).
template <class S>
concept Scheduler = StepScheduler<detail::deref_t<S>> || MetricScheduler<detail::deref_t<S>>;

// torch's schedulers: bound to their optimizer at construction through an Optimizer&.
template <class S>
concept TorchLRScheduler = std::derived_from<detail::deref_t<S>, torch::optim::LRScheduler>;

// volt's schedulers: bound late by attach(optimizer); rebind(optimizer) follows the optimizer
// when its owner moves it (the normalized Optimization does this on move).
template <class S>
concept AttachableScheduler = requires(S& s, const S& cs, torch::optim::Optimizer& o) {
  s.attach(o);
  s.rebind(o);
  { cs.attached() } -> std::convertible_to<bool>;
};

// A scheduler whose state can be saved and restored through torch's archives.
template <class S>
concept SerializableScheduler = requires(S& s, const S& cs, torch::serialize::OutputArchive& out,
                                         torch::serialize::InputArchive& in) {
  cs.save(out);
  s.load(in);
};

}  // namespace volt::optim

namespace volt::detail::sched {

VOLT_INLINE std::vector<double> group_lrs(const torch::optim::Optimizer& optimizer);

VOLT_INLINE void set_group_lrs(torch::optim::Optimizer& optimizer, const std::vector<double>& lrs);

VOLT_INLINE void write(torch::serialize::OutputArchive& archive, const std::string& key, std::int64_t value);
VOLT_INLINE void write(torch::serialize::OutputArchive& archive, const std::string& key, double value);
VOLT_INLINE void write(torch::serialize::OutputArchive& archive, const std::string& key, const std::vector<double>& values);

VOLT_INLINE torch::Tensor read_tensor(torch::serialize::InputArchive& archive, const std::string& key);
VOLT_INLINE std::int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key);
VOLT_INLINE double read_double(torch::serialize::InputArchive& archive, const std::string& key);
VOLT_INLINE std::vector<double> read_doubles(torch::serialize::InputArchive& archive, const std::string& key);

// The schedulers' option errors, compiled once (fast mode) rather than a checked fmt::format per
// argument list in every TU that includes a scheduler: "volt: <scheduler> <option>=<value> is
// invalid; <rule>."
[[noreturn]] VOLT_INLINE void throw_invalid_option(const char* scheduler, const char* option, std::int64_t value,
                                                   const char* rule);
[[noreturn]] VOLT_INLINE void throw_invalid_option(const char* scheduler, const char* option, double value,
                                                   const char* rule);
// "<scheduler> <field> has <values> values for an optimizer with <groups> param groups".
[[noreturn]] VOLT_INLINE void throw_per_group_count(const char* scheduler, const char* field, std::size_t values,
                                                    std::size_t groups, const char* single);
[[noreturn]] VOLT_INLINE void throw_one_cycle_no_total_steps(std::int64_t total_steps, std::int64_t epochs,
                                                             std::int64_t steps_per_epoch);
[[noreturn]] VOLT_INLINE void throw_one_cycle_stepped_past(std::int64_t step, std::int64_t total_steps);
[[noreturn]] VOLT_INLINE void throw_one_cycle_empty_phase(std::size_t phase, std::int64_t total_steps, double pct_start);
[[noreturn]] VOLT_INLINE void throw_sequential_milestones(std::size_t schedulers, std::size_t milestones);

// Python's modulo (the result has the divisor's sign), as torch's formulas use it.
constexpr std::int64_t py_mod(std::int64_t a, std::int64_t m) noexcept { return ((a % m) + m) % m; }

// torch::optim::LRScheduler keeps its step count protected; this reaches it through a pointer to
// member named via a derived class (never instantiated), so volt can save and restore it.
struct TorchSchedulerAccess : torch::optim::LRScheduler {
  static unsigned& step_count(torch::optim::LRScheduler& s) { return s.*(&TorchSchedulerAccess::step_count_); }
  static unsigned step_count(const torch::optim::LRScheduler& s) {
    return s.*(&TorchSchedulerAccess::step_count_);
  }
};

}  // namespace volt::detail::sched

namespace volt::optim {

// Saves / restores a scheduler of any kind volt knows: volt's (save/load) and torch's (its step
// count; its lrs live in the optimizer, whose state is saved alongside).
template <class S>
void save_scheduler(const S& scheduler, torch::serialize::OutputArchive& archive) {
  if constexpr (SerializableScheduler<S>) {
    scheduler.save(archive);
  } else if constexpr (std::derived_from<S, torch::optim::LRScheduler>) {
    detail::sched::write(archive, "step_count",
                         static_cast<std::int64_t>(detail::sched::TorchSchedulerAccess::step_count(scheduler)));
  } else {
    static_assert(detail::dependent_false<S>,
                  "volt: this lr scheduler cannot be saved: give it `void save(torch::serialize::OutputArchive&) "
                  "const` and `void load(torch::serialize::InputArchive&)`, or derive it from "
                  "volt::optim::LRSchedulerBase.");
  }
}

template <class S>
void load_scheduler(S& scheduler, torch::serialize::InputArchive& archive) {
  if constexpr (SerializableScheduler<S>) {
    scheduler.load(archive);
  } else if constexpr (std::derived_from<S, torch::optim::LRScheduler>) {
    detail::sched::TorchSchedulerAccess::step_count(scheduler) =
        static_cast<unsigned>(detail::sched::read_int(archive, "step_count"));
  } else {
    static_assert(detail::dependent_false<S>,
                  "volt: this lr scheduler cannot be loaded: give it `void save(torch::serialize::OutputArchive&) "
                  "const` and `void load(torch::serialize::InputArchive&)`, or derive it from "
                  "volt::optim::LRSchedulerBase.");
  }
}

// The state torch's _LRScheduler keeps (last_epoch, base_lrs, last lrs) and its step protocol,
// shared by volt's epoch/step schedulers through CRTP (no dynamic dispatch). Derived provides
//   std::vector<double> chainable_lrs();     torch's get_lr(): the next lrs from the current ones
// and optionally
//   std::vector<double> closed_form_lrs();   torch's _get_closed_form_lr() (used by step_to)
//   std::vector<double> base_lrs_for(torch::optim::Optimizer&);   base lrs other than the groups' lrs
//   void on_bind(torch::optim::Optimizer&);  checks / set-up when bound
//   void save_state(OutputArchive&) const; void load_state(InputArchive&);   extra state
template <class Derived>
class LRSchedulerBase {
 public:
  // Binds to `optimizer`, records the base lrs and takes torch's initial step (epoch 0), which
  // sets each group's lr to the schedule's first value (LinearLR: base_lr * start_factor).
  void attach(torch::optim::Optimizer& optimizer);

  // Follows the optimizer to a new address (the owner moved it); the schedule is unchanged.
  void rebind(torch::optim::Optimizer& optimizer) noexcept { optimizer_ = &optimizer; }
  bool attached() const noexcept { return optimizer_ != nullptr; }

  // One scheduler step: epoch (or step) `last_epoch() + 1`.
  void step();

  // The lrs this scheduler last set, one per param group (torch's get_last_lr()).
  const std::vector<double>& last_lr() const noexcept { return last_lr_; }
  const std::vector<double>& base_lrs() const noexcept { return base_lrs_; }
  std::int64_t last_epoch() const noexcept { return last_epoch_; }

  // State for exact resume. Save the optimizer's state alongside (its param groups hold the lrs
  // the chainable formulas continue from); load() also writes last_lr() into the bound optimizer.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

  // The two halves of attach(), for composite schedulers (SequentialLR binds all its schedulers,
  // then takes the initial step of the first only, as torch's SequentialLR does).
  void bind(torch::optim::Optimizer& optimizer);
  void initial_step() { step(); }

  // torch's step(epoch): jumps to `epoch` with the closed form where the scheduler has one.
  void step_to(std::int64_t epoch);

 protected:
  LRSchedulerBase() = default;

  std::vector<double> current_lrs() const { return detail::sched::group_lrs(bound()); }
  torch::optim::Optimizer& bound() const {
    if (optimizer_ == nullptr)
      throw std::logic_error(
          "volt: an lr scheduler was stepped before it was attached to an optimizer. Return it from "
          "configure_optimizers (volt attaches it), or call scheduler.attach(optimizer) first.");
    return *optimizer_;
  }

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
  const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }

  void apply(std::vector<double> lrs);

  torch::optim::Optimizer* optimizer_ = nullptr;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  std::int64_t last_epoch_ = -1;
};

template <class Derived>
void LRSchedulerBase<Derived>::attach(torch::optim::Optimizer& optimizer) {
  bind(optimizer);
  initial_step();
}

template <class Derived>
void LRSchedulerBase<Derived>::step() {
  ++last_epoch_;
  apply(self().chainable_lrs());
}

template <class Derived>
void LRSchedulerBase<Derived>::save(torch::serialize::OutputArchive& archive) const {
  detail::sched::write(archive, "last_epoch", last_epoch_);
  detail::sched::write(archive, "base_lrs", base_lrs_);
  detail::sched::write(archive, "last_lr", last_lr_);
  if constexpr (requires(const Derived& d) { d.save_state(archive); }) self().save_state(archive);
}

template <class Derived>
void LRSchedulerBase<Derived>::load(torch::serialize::InputArchive& archive) {
  last_epoch_ = detail::sched::read_int(archive, "last_epoch");
  base_lrs_ = detail::sched::read_doubles(archive, "base_lrs");
  last_lr_ = detail::sched::read_doubles(archive, "last_lr");
  if constexpr (requires(Derived& d) { d.load_state(archive); }) self().load_state(archive);
  if (optimizer_ != nullptr && !last_lr_.empty()) detail::sched::set_group_lrs(*optimizer_, last_lr_);
}

template <class Derived>
void LRSchedulerBase<Derived>::bind(torch::optim::Optimizer& optimizer) {
  optimizer_ = &optimizer;
  if constexpr (requires(Derived& d) { d.base_lrs_for(optimizer); }) base_lrs_ = self().base_lrs_for(optimizer);
  else base_lrs_ = detail::sched::group_lrs(optimizer);
  if constexpr (requires(Derived& d) { d.on_bind(optimizer); }) self().on_bind(optimizer);
  last_epoch_ = -1;
  last_lr_ = detail::sched::group_lrs(optimizer);
}

template <class Derived>
void LRSchedulerBase<Derived>::step_to(std::int64_t epoch) {
  last_epoch_ = epoch;
  if constexpr (requires(Derived& d) { d.closed_form_lrs(); }) apply(self().closed_form_lrs());
  else apply(self().chainable_lrs());
}

template <class Derived>
void LRSchedulerBase<Derived>::apply(std::vector<double> lrs) {
  detail::sched::set_group_lrs(bound(), lrs);
  last_lr_ = std::move(lrs);
}

}  // namespace volt::optim

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/optim/impl/scheduler.ipp>
#endif
