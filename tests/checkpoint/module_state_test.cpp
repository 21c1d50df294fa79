#include <volt/checkpoint/module_state.hpp>

#include <volt/checkpoint/checkpoint_file.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Contains;
using volt::checkpoint::CheckpointError;
using volt::checkpoint::load_state_dict;
using volt::checkpoint::NamedTensors;
using volt::checkpoint::state_dict;

namespace {

// The message of the CheckpointError `fn` throws (Catch 2's Message matcher only compares whole
// messages); any other exception propagates and fails the test.
template <class Fn>
std::string checkpoint_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "<no CheckpointError was thrown>";
}

// A root parameter and buffer, a Sequential with a conv, a batch norm (3 buffers), a module
// without parameters and a bias-free Linear (whose undefined bias libtorch registers anyway).
struct Net : torch::nn::Module {
  torch::Tensor scale, steps;
  torch::nn::Sequential net{nullptr};
  explicit Net(int64_t hidden) {
    scale = register_parameter("scale", torch::ones({1}));
    steps = register_buffer("steps", torch::zeros({}, torch::kInt64));
    net = register_module("net",
                          torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, hidden, 3)),
                                                torch::nn::BatchNorm2d(hidden), torch::nn::Flatten(),
                                                torch::nn::Linear(torch::nn::LinearOptions(hidden, 10).bias(false))));
  }
};

std::vector<std::string> names(const NamedTensors& state) {
  std::vector<std::string> out;
  for (const auto& [name, t] : state) out.push_back(name);
  return out;
}

NamedTensors clones(const NamedTensors& state) {
  NamedTensors out;
  for (const auto& [name, t] : state) out.emplace_back(name, t.clone());
  return out;
}

// Bit-identical: same dtype, shape and values (the test tensors hold no NaN).
void require_unchanged(const torch::nn::Module& model, const NamedTensors& before) {
  const NamedTensors now = state_dict(model);
  REQUIRE(names(now) == names(before));
  for (std::size_t i = 0; i < now.size(); ++i) {
    INFO(now[i].first);
    CHECK(torch::equal(now[i].second, before[i].second));
  }
}

NamedTensors randomized(const NamedTensors& state, int seed) {
  torch::manual_seed(seed);
  NamedTensors out;
  for (const auto& [name, t] : state)
    out.emplace_back(name, t.is_floating_point() ? torch::randn_like(t) : torch::randint_like(t, 100));
  return out;
}

const fs::path ckpt = "/runs/exp1/last.ckpt";

}  // namespace

TEST_CASE("state_dict lists parameters and buffers in PyTorch's order", "[checkpoint]") {
  Net model(16);  // on the stack: no shared_ptr needed
  const NamedTensors state = state_dict(model);
  CHECK(names(state) == std::vector<std::string>{"scale", "steps", "net.0.weight", "net.0.bias", "net.1.weight",
                                                 "net.1.bias", "net.1.running_mean", "net.1.running_var",
                                                 "net.1.num_batches_tracked", "net.3.weight"});
  // Detached views of the module's own memory.
  CHECK_FALSE(state[0].second.requires_grad());
  CHECK(state[0].second.data_ptr() == model.scale.data_ptr());
}

TEST_CASE("load_state_dict round trip through a checkpoint file", "[checkpoint]") {
  Net source(16);
  const NamedTensors values = randomized(state_dict(source), 3);
  load_state_dict(source, values, ckpt);
  require_unchanged(source, values);

  volt::checkpoint::CheckpointWriter writer;
  writer.add_tensors("state_dict", state_dict(source));
  const auto reader = volt::checkpoint::CheckpointReader::from_bytes(writer.to_bytes(), ckpt);

  Net target(16);
  const auto* weight_memory = target.net[0]->named_parameters()["weight"].data_ptr();
  const auto report = load_state_dict(target, reader.tensors("state_dict"), ckpt);
  CHECK(report.missing_keys.empty());
  CHECK(report.unexpected_keys.empty());
  require_unchanged(target, values);
  // Copied in place: an optimizer holding the parameters still holds the loaded ones.
  CHECK(target.net[0]->named_parameters()["weight"].data_ptr() == weight_memory);
  CHECK(target.scale.requires_grad());
}

TEST_CASE("load_state_dict checks everything first and leaves the model bit-identical on a mismatch", "[checkpoint]") {
  Net model(16);
  const NamedTensors before = clones(state_dict(model));
  const NamedTensors good = randomized(before, 5);
  const std::string prefix = "volt: checkpoint \"/runs/exp1/last.ckpt\" does not fit the model: ";

  SECTION("wrong shape") {
    Net wider(32);
    NamedTensors state = randomized(state_dict(wider), 6);
    CHECK_THAT(checkpoint_error_of([&] { (void)load_state_dict(model, state, ckpt); }),
               Contains(prefix + "parameter \"net.0.weight\" has shape [32, 1, 3, 3] in the "
                                 "checkpoint but [16, 1, 3, 3] in the model") &&
                   Contains("nothing was loaded"));
  }
  SECTION("missing key") {
    NamedTensors state = good;
    state.erase(state.begin() + 6);  // net.1.running_mean
    CHECK_THROWS_WITH(load_state_dict(model, state, ckpt),
                      Contains(prefix + "buffer \"net.1.running_mean\" is in the model but not in the checkpoint"));
  }
  SECTION("unexpected key") {
    NamedTensors state = good;
    state.emplace_back("net.4.weight", torch::ones({2}));
    CHECK_THROWS_WITH(load_state_dict(model, state, ckpt),
                      Contains(prefix + "the checkpoint has \"net.4.weight\", which the model does not have"));
  }
  SECTION("dtype mismatch") {
    NamedTensors state = good;
    state[2].second = state[2].second.to(torch::kFloat64);
    CHECK_THROWS_WITH(load_state_dict(model, state, ckpt),
                      Contains(prefix + "parameter \"net.0.weight\" has dtype Double in the checkpoint but Float in "
                                        "the model"));
  }
  SECTION("duplicate key") {
    NamedTensors state = good;
    state.push_back(state.front());
    CHECK_THROWS_WITH(load_state_dict(model, state, ckpt), Contains(prefix + "it has two entries named \"scale\""));
  }
  SECTION("several problems: the first is named, the rest counted") {
    NamedTensors state = good;
    state.erase(state.begin());          // scale missing
    state[1].second = torch::ones({1});  // net.0.weight wrong shape
    state.emplace_back("extra", torch::ones({1}));
    CHECK_THROWS_WITH(load_state_dict(model, state, ckpt),
                      Contains(prefix + "parameter \"scale\" is in the model but not in the checkpoint (2 more "
                                        "mismatches: parameter \"net.0.weight\" has shape [1]") &&
                          Contains("\"extra\""));
  }
  // The valid entries of every bad state above were not copied either.
  require_unchanged(model, before);
}

TEST_CASE("load_state_dict with strict=false reports missing and unexpected keys and loads the rest", "[checkpoint]") {
  Net model(16);
  NamedTensors state = randomized(state_dict(model), 7);
  const torch::Tensor old_scale = model.scale.detach().clone();
  const NamedTensors expected = state;
  state.erase(state.begin());
  state.emplace_back("head.weight", torch::ones({3}));
  const auto report = load_state_dict(model, state, ckpt, {.strict = false});
  CHECK(report.missing_keys == std::vector<std::string>{"scale"});
  CHECK(report.unexpected_keys == std::vector<std::string>{"head.weight"});
  CHECK(torch::equal(model.scale, old_scale));
  CHECK(torch::equal(model.net[1]->named_buffers()["running_var"], expected[7].second));

  // A shape mismatch stays an error without strict.
  state[1].second = torch::ones({2});
  CHECK_THROWS_AS(load_state_dict(model, state, ckpt, {.strict = false}), CheckpointError);
}
