// The model file a user edits: the network of hand_fashion_mnist.cpp.
#include "model.hpp"

FashionCNN::FashionCNN(std::int64_t c, std::int64_t hidden) {
  using namespace torch::nn;
  net = register_module(
      "net", Sequential(Conv2d(Conv2dOptions(1, c, 3).padding(1)), BatchNorm2d(c), ReLU(), MaxPool2d(2),
                        Conv2d(Conv2dOptions(c, 2 * c, 3).padding(1)), BatchNorm2d(2 * c), ReLU(), MaxPool2d(2),
                        Flatten(), Dropout(0.25), Linear(2 * c * 7 * 7, hidden), ReLU(), Dropout(0.25),
                        Linear(hidden, 10)));
}

torch::Tensor FashionCNN::forward(const torch::Tensor& x) { return net->forward(x); }
