#pragma once
// Lightning's `example_input_array`: a Module member holding an input of its forward, e.g.
//
//   torch::Tensor example_input_array = torch::zeros({64, 100});
//
// ModelSummary runs forward on it (in eval mode, without gradients, on the module's device) and
// prints the in and out sizes as Lightning writes them ("[64, 100]"). libtorch modules have no
// forward hooks, so volt sees the model's input and output, not each layer's: the sizes are the
// whole model's, printed under the table instead of per row. Except for a module that is a
// torch::nn::Sequential at its top level: volt runs its children in turn, and the table gets
// Lightning's "In sizes" / "Out sizes" columns (example_layer_sizes).
#include <concepts>
#include <cstddef>
#include <exception>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

namespace volt {

// One summary row's sizes (Lightning's "In sizes" / "Out sizes" columns), by the row's name.
struct LayerSizes {
  std::string name;
  std::string in;
  std::string out;
};

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

// Each layer's sizes when the module is a torch::nn::Sequential at its top level: its children
// run in turn on example_input_array, as Sequential's forward runs them (eval mode, no gradients,
// the mode restored after). Empty for any other module (per-layer sizes would need forward
// hooks), and when a child does not take and return one tensor.
template <HasExampleInputArray M>
std::vector<LayerSizes> example_layer_sizes(M& module) {
  auto* sequential = dynamic_cast<torch::nn::SequentialImpl*>(static_cast<torch::nn::Module*>(&module));
  torch::Tensor x = module.example_input_array;
  if (sequential == nullptr || !x.defined()) return {};
  torch::NoGradGuard no_grad;
  const auto params = module.parameters();
  if (!params.empty()) x = x.to(params.front().device());
  const auto children = sequential->named_children();
  const bool was_training = module.is_training();
  module.eval();
  std::vector<LayerSizes> rows;
  try {
    std::size_t i = 0;
    for (auto& layer : *sequential) {
      std::string in = detail::batch_shape(x);
      x = layer.forward(x);
      rows.push_back({children[i++].key(), std::move(in), detail::batch_shape(x)});
    }
  } catch (const std::exception&) {
    rows.clear();  // a layer of other argument or result types: the whole model's line only
  }
  module.train(was_training);
  return rows;
}

}  // namespace volt
