#pragma once
// The default batch type of volt's loaders: libtorch's own Example, so code written against
// torch::data (batch.data, batch.target) works unchanged with volt's loaders and vice versa.
#include <torch/data/example.h>
#include <torch/types.h>

namespace volt::data {

using Example = torch::data::Example<torch::Tensor, torch::Tensor>;

}  // namespace volt::data
