// hand_fashion_mnist.cpp's network in a model file of its own (the two-file layout of
// compile_cost_rebuild.sh): the header declares it, hand_model.cpp defines it, hand_train.cpp
// holds the data, the loops and main.
#pragma once

#include <torch/torch.h>

#include <cstdint>

struct FashionCNN : torch::nn::Module {
  torch::nn::Sequential net;
  FashionCNN(std::int64_t c, std::int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);
};
