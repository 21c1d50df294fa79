#pragma once
// LambdaLR (torch.optim.lr_scheduler.LambdaLR): lr = base_lr * lr_lambda(epoch), with any callable
// std::int64_t -> double, kept by its concrete type:
//   volt::optim::LambdaLR{[](std::int64_t epoch) { return std::pow(0.95, epoch); }}
//   volt::optim::LambdaLR{volt::optim::LambdaLROptions{.lr_lambda = f}}
// State saved: the step and lrs (the callable itself is code, rebuilt by configure_optimizers).
#include <concepts>
#include <cstdint>
#include <utility>
#include <vector>

#include <volt/optim/scheduler.hpp>

namespace volt::optim {

template <class F>
struct LambdaLROptions {
  F lr_lambda;  // epoch -> multiplicative factor of the base lr
};

template <class F>
class LambdaLR : public LRSchedulerBase<LambdaLR<F>> {
  static_assert(std::is_invocable_r_v<double, F&, std::int64_t>,
                "volt: LambdaLR's lr_lambda must be callable as double(std::int64_t epoch).");

 public:
  explicit LambdaLR(LambdaLROptions<F> options) : options_(std::move(options)) {}
  template <class G>
    requires std::invocable<G&, std::int64_t> && std::same_as<std::remove_cvref_t<G>, F>
  explicit LambdaLR(G&& lr_lambda) : options_{std::forward<G>(lr_lambda)} {}

  const LambdaLROptions<F>& options() const noexcept { return options_; }

 private:
  friend LRSchedulerBase<LambdaLR<F>>;
  std::vector<double> chainable_lrs() {
    std::vector<double> lrs;
    const double factor = static_cast<double>(options_.lr_lambda(this->last_epoch()));
    for (double base : this->base_lrs()) lrs.push_back(base * factor);
    return lrs;
  }

  LambdaLROptions<F> options_;
};

template <class F>
  requires std::invocable<F&, std::int64_t>
LambdaLR(F) -> LambdaLR<F>;
template <class F>
LambdaLR(LambdaLROptions<F>) -> LambdaLR<F>;

}  // namespace volt::optim
