// The consumer tests' program: a small, real use of volt from outside its source tree. It fits
// a linear regression (y = x . w + b, a little noise) with volt::Trainer on the CPU and exits
// non-zero unless the loss on the whole data set ends below a threshold, well under where it
// started. Built and run by consumer.find_package and consumer.add_subdirectory. The module is in
// model.hpp / model.cpp, so the program has two TUs that include volt.
#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

#include <cstdint>
#include <iostream>

#include "model.hpp"

namespace {

using consumer::LinearRegression;

struct RegressionData {
  torch::Tensor x, y;
  RegressionData() {
    auto gen = at::detail::createCPUGenerator(42);
    x = torch::randn({512, 3}, gen);
    const auto w = torch::tensor({{1.5}, {-2.0}, {0.75}});
    y = x.matmul(w) + 0.5 + 0.01 * torch::randn({512, 1}, gen);
  }
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 32, .shuffle = true, .seed = 1}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 128}}; }
};

double full_loss(LinearRegression& model, const RegressionData& data) {
  torch::NoGradGuard no_grad;
  return torch::mse_loss(model.forward(data.x), data.y).item<double>();
}

}  // namespace

int main() {
  constexpr double threshold = 1e-2;
  volt::seed_everything(0);
  LinearRegression model;
  RegressionData data;
  const double initial = full_loss(model, data);

  volt::Trainer<LinearRegression, RegressionData> trainer{
      {.max_epochs = 5}, volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}};
  trainer.fit(model, data);

  const double final_loss = full_loss(model, data);
  const auto metrics = trainer.callback_metrics();
  std::cout << "volt " << volt::to_string(volt::Stage::fit) << ": " << trainer.current_epoch() << " epochs, "
            << trainer.global_step() << " steps; loss " << initial << " -> " << final_loss;
  if (auto it = metrics.find("val_loss"); it != metrics.end()) std::cout << " (val_loss " << it->second << ")";
  std::cout << '\n';
#if defined(VOLT_SEPARATE_COMPILATION)
  std::cout << "volt mode: compiled\n";
#else
  std::cout << "volt mode: header-only\n";
#endif

  if (!(final_loss < threshold)) {
    std::cerr << "FAIL: final loss " << final_loss << " is not below " << threshold << '\n';
    return 1;
  }
  return 0;
}
