// The network of examples/fashion_mnist (channels 32, hidden 128), shared by the benchmarks that
// train it (training, precision, DDP). The compile-cost TUs keep their own copies: they measure
// one self-contained file each.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace volt_bench {

inline torch::nn::Sequential fashion_cnn_layers(std::int64_t channels = 32, std::int64_t hidden = 128) {
  using namespace torch::nn;
  const std::int64_t c = channels;
  return Sequential(Conv2d(Conv2dOptions(1, c, 3).padding(1)), BatchNorm2d(c), ReLU(), MaxPool2d(2),
                    Conv2d(Conv2dOptions(c, 2 * c, 3).padding(1)), BatchNorm2d(2 * c), ReLU(), MaxPool2d(2),
                    Flatten(), Dropout(0.25), Linear(2 * c * 7 * 7, hidden), ReLU(), Dropout(0.25),
                    Linear(hidden, 10));
}

}  // namespace volt_bench
