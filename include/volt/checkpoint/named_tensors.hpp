#pragma once
// volt::checkpoint::NamedTensors: the vocabulary type of the checkpoint layer, a state dict.
// A vector of (name, tensor) pairs rather than a map because the order carries meaning, as in
// PyTorch's OrderedDict state_dict (a module's parameters, then its buffers, then its children);
// names are unique, and every reader and writer of this layer checks that.
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace volt::checkpoint {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

}  // namespace volt::checkpoint
