#pragma once
// What training_step may return (Lightning's STEP_OUTPUT): the loss tensor; a struct with a
// `loss` member plus extra values; a map with a "loss" key; or an optional of one of those,
// where an empty optional skips backward and the optimizer step for that batch. The extras
// reach on_train_batch_end and training_epoch_end with the loss detached.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>

#include <torch/torch.h>

#include <volt/detail/meta.hpp>

namespace volt {

// What a step that returns nothing hands to on_*_batch_end. A hook written for steps that return
// the loss, on_train_batch_end(const torch::Tensor& outputs, ...), gets an undefined tensor
// (Lightning passes no outputs then either).
struct NoStepOutput {
  operator torch::Tensor() const { return {}; }
};

template <class T>
concept TensorMap = (detail::is_specialization_of_v<T, std::map> || detail::is_specialization_of_v<T, std::unordered_map>) &&
                    std::is_same_v<typename std::remove_cvref_t<T>::mapped_type, torch::Tensor>;

template <class T>
concept StructWithLoss = std::is_class_v<std::remove_cvref_t<T>> && requires(T& t) {
  { t.loss } -> std::convertible_to<torch::Tensor>;
};

template <class T>
concept LossOutput = std::is_same_v<std::remove_cvref_t<T>, torch::Tensor> || TensorMap<T> || StructWithLoss<T>;

template <class T>
concept StepOutput = LossOutput<T> || (detail::is_specialization_of_v<T, std::optional> &&
                                       LossOutput<typename std::remove_cvref_t<T>::value_type>);

// The loss inside a step output, or an undefined tensor for an empty optional.
template <class Out>
torch::Tensor loss_of(const Out& out) {
  using T = std::remove_cvref_t<Out>;
  if constexpr (std::is_same_v<T, torch::Tensor>) {
    return out;
  } else if constexpr (TensorMap<T>) {
    const auto it = out.find("loss");
    if (it == out.end())
      throw std::invalid_argument(
          "volt: training_step returned a map without a \"loss\" key; under automatic optimization the map "
          "must hold the loss to call backward on (Lightning's rule), e.g. {{\"loss\", loss}, {\"acc\", acc}}.");
    return it->second;
  } else if constexpr (StructWithLoss<T>) {
    return out.loss;
  } else {
    return out ? loss_of(*out) : torch::Tensor{};
  }
}

// The output with its loss detached and (for accumulation) divided: what the *_end hooks get.
template <class Out>
std::remove_cvref_t<Out> with_loss(Out&& out, const torch::Tensor& loss) {
  using T = std::remove_cvref_t<Out>;
  T copy(std::forward<Out>(out));
  if constexpr (std::is_same_v<T, torch::Tensor>) {
    copy = loss;
  } else if constexpr (TensorMap<T>) {
    copy["loss"] = loss;
  } else if constexpr (StructWithLoss<T>) {
    copy.loss = loss;
  } else {
    if (copy) *copy = with_loss(std::move(*copy), loss);
  }
  return copy;
}

}  // namespace volt
