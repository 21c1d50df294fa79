// hand_fashion_mnist.cpp without its network (hand_model.hpp/.cpp): the data, the loops and main,
// the file a user does not touch while editing the model.
#include <torch/torch.h>

#include "model.hpp"

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// An IDX file through `gzip -dc` (the Debian dataset ships .gz files).
torch::Tensor read_idx(const std::string& path) {
  const std::string command = "gzip -dc '" + path + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::vector<unsigned char> bytes;
  unsigned char buffer[1 << 16];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) bytes.insert(bytes.end(), buffer, buffer + n);
  pclose(pipe);
  auto be32 = [&](std::size_t at) {
    return static_cast<std::int64_t>(bytes.at(at)) << 24 | bytes.at(at + 1) << 16 | bytes.at(at + 2) << 8 | bytes.at(at + 3);
  };
  const int dims = bytes.at(3);
  std::vector<std::int64_t> shape;
  for (int d = 0; d < dims; ++d) shape.push_back(be32(4 + 4 * d));
  const std::size_t offset = 4 + 4 * static_cast<std::size_t>(dims);
  return torch::from_blob(bytes.data() + offset, shape, torch::kUInt8).clone();
}

// Mean loss and accuracy of `model` over (x, y) in batches.
std::pair<double, double> evaluate(FashionCNN& model, const torch::Tensor& x, const torch::Tensor& y, std::int64_t batch) {
  torch::InferenceMode guard;
  model.eval();
  double loss = 0, correct = 0;
  for (std::int64_t start = 0; start < x.size(0); start += batch) {
    const auto xb = x.slice(0, start, start + batch), yb = y.slice(0, start, start + batch);
    const auto logits = model.forward(xb);
    loss += torch::nn::functional::cross_entropy(logits, yb, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum)).item<double>();
    correct += logits.argmax(1).eq(yb).sum().item<double>();
  }
  model.train();
  return {loss / static_cast<double>(x.size(0)), correct / static_cast<double>(x.size(0))};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  const std::int64_t epochs = argc > 2 ? std::stoll(argv[2]) : 5, batch = 64;
  torch::manual_seed(42);
  auto images = [&](const std::string& f) { return read_idx(root + "/" + f).to(torch::kFloat32).div_(255).sub_(0.2860).div_(0.3530).unsqueeze(1); };
  auto labels = [&](const std::string& f) { return read_idx(root + "/" + f).to(torch::kLong); };
  auto x = images("train-images-idx3-ubyte.gz"), y = labels("train-labels-idx1-ubyte.gz");
  auto test_x = images("t10k-images-idx3-ubyte.gz"), test_y = labels("t10k-labels-idx1-ubyte.gz");
  // 55000 / 5000 train / validation split, as the example's DataModule.
  auto val_x = x.slice(0, 55000), val_y = y.slice(0, 55000);
  x = x.slice(0, 0, 55000);
  y = y.slice(0, 0, 55000);

  FashionCNN model(32, 128);
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(2e-3));
  torch::optim::StepLR scheduler(optimizer, 1, 0.6);
  double best_acc = -1;
  for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
    const auto perm = torch::randperm(x.size(0));
    const auto xs = x.index_select(0, perm), ys = y.index_select(0, perm);
    auto loss_sum = torch::zeros({}, torch::kFloat64);
    std::int64_t steps = 0;
    for (std::int64_t start = 0; start < xs.size(0); start += batch, ++steps) {
      auto loss = torch::nn::functional::cross_entropy(model.forward(xs.slice(0, start, start + batch)),
                                                       ys.slice(0, start, start + batch));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.detach();
    }
    scheduler.step();
    const auto [val_loss, val_acc] = evaluate(model, val_x, val_y, batch);
    std::cout << "epoch " << epoch << ": train_loss=" << loss_sum.item<double>() / static_cast<double>(steps)
              << " val_loss=" << val_loss << " val_acc=" << val_acc << std::endl;
    if (val_acc > best_acc) {
      best_acc = val_acc;
      torch::save(model.net, "best.pt");
    }
  }
  std::cout << "test_acc=" << evaluate(model, test_x, test_y, batch).second << std::endl;
  return 0;
}
