#pragma once
// Lightning's `example_input_array`: a Module member holding an input of its forward, e.g.
//
//   torch::Tensor example_input_array = torch::zeros({64, 100});
//
// ModelSummary runs forward on it (in eval mode, without gradients, on the module's device) and
// prints the in and out sizes as Lightning writes them ("[64, 100]"). libtorch modules have no
// forward hooks, so volt sees the model's input and output, not each layer's: the sizes are the
// whole model's, printed under the table instead of per row.
#include <concepts>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <torch/torch.h>

namespace volt {

template <class M>
concept HasExampleInputArray = requires(M& m) {
  { m.example_input_array } -> std::convertible_to<torch::Tensor>;
};

namespace detail {
// Lightning's parse_batch_shape: a tensor's shape as a list, a tuple / vector of tensors as a
// list of those, anything else "?".
template <class T>
std::string batch_shape(const T& value) {
  if constexpr (std::is_convertible_v<const T&, torch::Tensor>) {
    const torch::Tensor t = value;
    return t.defined() ? fmt::format("[{}]", fmt::join(t.sizes(), ", ")) : std::string("?");
  } else if constexpr (requires { std::tuple_size<T>::value; }) {
    return std::apply(
        [](const auto&... parts) {
          std::string out = "[";
          std::size_t i = 0;
          ((out += (i++ ? ", " : "") + batch_shape(parts)), ...);
          return out + "]";
        },
        value);
  } else if constexpr (requires { value.begin(); value.end(); }) {
    std::string out = "[";
    for (const auto& part : value) out += (out.size() > 1 ? ", " : "") + batch_shape(part);
    return out + "]";
  } else {
    return "?";
  }
}
}  // namespace detail

// "In sizes: [64, 100]; Out sizes: [64, 1, 28, 28]": forward on the example, as Lightning's
// summary does (eval mode and no gradients for the pass, the mode restored after).
template <HasExampleInputArray M>
std::string example_input_sizes(M& module) {
  torch::NoGradGuard no_grad;
  torch::Tensor input = module.example_input_array;
  if (!input.defined()) return {};
  const auto params = module.parameters();
  if (!params.empty()) input = input.to(params.front().device());
  const bool was_training = module.is_training();
  module.eval();
  std::string out;
  try {
    out = detail::batch_shape(module.forward(input));
  } catch (...) {
    module.train(was_training);
    throw;
  }
  module.train(was_training);
  return fmt::format("In sizes: {}; Out sizes: {} (the model's forward on example_input_array)",
                     detail::batch_shape(input), out);
}

}  // namespace volt
