// precision::FP32: the default precision does exactly what plain libtorch code does. One SGD
// step through FP32's backward and optimizer_step gives the same weights as loss.backward();
// opt.step(), and as w - lr * grad written by hand.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <volt/precision/fp32.hpp>
#include <volt/precision/precision.hpp>

namespace {

struct Net : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  Net() {
    fc1 = register_module("fc1", torch::nn::Linear(4, 8));
    fc2 = register_module("fc2", torch::nn::Linear(8, 1));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::tanh(fc1(x))); }
};

// A second network with the same weights.
void copy_weights(Net& from, Net& to) {
  torch::NoGradGuard no_grad;
  auto src = from.parameters();
  auto dst = to.parameters();
  REQUIRE(src.size() == dst.size());
  for (std::size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
}

// The hooks the step path passes, recording the order FP32 calls them in.
struct RecordingHooks {
  std::vector<std::string> calls;
  void before_backward(const torch::Tensor&) { calls.push_back("before_backward"); }
  void backward(const torch::Tensor& loss) {
    calls.push_back("backward");
    loss.backward();
  }
  void after_backward() { calls.push_back("after_backward"); }
  void after_closure(torch::optim::Optimizer&) { calls.push_back("after_closure"); }
};

}  // namespace

TEST_CASE("FP32 satisfies Precision and names itself as Lightning does", "[precision]") {
  STATIC_REQUIRE(volt::Precision<volt::precision::FP32>);
  STATIC_REQUIRE(std::is_empty_v<volt::precision::FP32>);
  CHECK(std::string_view(volt::precision::FP32::name) == "32-true");
}

TEST_CASE("FP32 leaves the module and the inputs as they are", "[precision]") {
  const volt::precision::FP32 fp32;
  Net net;
  const auto before = net.fc1->weight.detach().clone();
  fp32.convert_module(net);
  for (const auto& p : net.parameters()) CHECK(p.dtype() == torch::kFloat32);
  CHECK(torch::equal(net.fc1->weight.detach(), before));

  auto x = torch::randn({2, 4});
  auto&& same = fp32.convert_input(x);
  CHECK(&same == &x);  // an lvalue comes back as itself, not a copy
  STATIC_REQUIRE(std::is_same_v<decltype(fp32.convert_input(x)), torch::Tensor&>);
  STATIC_REQUIRE(std::is_empty_v<decltype(fp32.forward_context())>);  // no autocast guard
}

TEST_CASE("FP32 backward and optimizer_step match plain libtorch and a hand-written SGD step", "[precision]") {
  torch::manual_seed(11);
  Net volt_net, torch_net;
  copy_weights(volt_net, torch_net);
  const auto x = torch::randn({16, 4});
  const auto y = torch::randn({16, 1});
  const double lr = 0.05;
  torch::optim::SGD volt_opt(volt_net.parameters(), torch::optim::SGDOptions(lr));
  torch::optim::SGD torch_opt(torch_net.parameters(), torch::optim::SGDOptions(lr));
  const volt::precision::FP32 fp32;

  // What the training loop does with FP32: the closure runs training_step, zero_grad and backward.
  RecordingHooks hooks;
  torch::Tensor volt_loss;
  std::vector<torch::Tensor> volt_grads, expected, original;
  auto closure = [&] {
    hooks.calls.push_back("closure");
    volt_opt.zero_grad();
    volt_loss = torch::mse_loss(volt_net.forward(x), y);
    fp32.backward(volt_loss, hooks);
    return volt_loss.detach();
  };
  struct AfterClosure {
    RecordingHooks* hooks;
    Net* net;
    std::vector<torch::Tensor>* grads;
    std::vector<torch::Tensor>* expected;
    std::vector<torch::Tensor>* original;
    double lr;
    void after_closure(torch::optim::Optimizer& opt) {
      hooks->after_closure(opt);
      for (const auto& p : net->parameters()) {  // before the step: what the step will use
        original->push_back(p.detach().clone());
        REQUIRE(p.grad().defined());
        grads->push_back(p.grad().clone());
        expected->push_back((p.detach() - lr * p.grad()).clone());  // the hand-written SGD step
      }
    }
  } after{&hooks, &volt_net, &volt_grads, &expected, &original, lr};
  CHECK(fp32.optimizer_step(volt_opt, closure, after));  // true: the step was taken
  CHECK((hooks.calls == std::vector<std::string>{"closure", "before_backward", "backward", "after_backward",
                                                 "after_closure"}));

  // The same with plain libtorch.
  torch_opt.zero_grad();
  auto torch_loss = torch::mse_loss(torch_net.forward(x), y);
  torch_loss.backward();
  torch_opt.step();

  CHECK(volt_loss.item<double>() == torch_loss.item<double>());
  const auto volt_params = volt_net.parameters();
  const auto torch_params = torch_net.parameters();
  for (std::size_t i = 0; i < volt_params.size(); ++i) {
    INFO("parameter " << i);
    CHECK(torch::equal(volt_grads[i], torch_params[i].grad()));     // the same gradients, bit for bit
    CHECK(torch::equal(volt_params[i].detach(), torch_params[i].detach()));  // the same step
    CHECK(torch::allclose(volt_params[i].detach(), expected[i], 1e-6, 1e-7));  // w - lr * grad
    CHECK_FALSE(torch::equal(volt_params[i].detach(), original[i]));  // the step did move it
  }
}

TEST_CASE("FP32 optimizer_step works with any optimizer type, by its concrete type", "[precision]") {
  torch::manual_seed(3);
  Net net;
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-2));
  const volt::precision::FP32 fp32;
  const auto before = net.fc2->weight.detach().clone();
  RecordingHooks hooks;
  auto closure = [&] {
    adam.zero_grad();
    auto loss = net.forward(torch::randn({8, 4})).pow(2).mean();
    fp32.backward(loss, hooks);
    return loss.detach();
  };
  CHECK(fp32.optimizer_step(adam, closure, hooks));
  CHECK_FALSE(torch::equal(net.fc2->weight.detach(), before));
}
