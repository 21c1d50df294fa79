// volt::ModelSummary: Lightning's table (rows, column padding, divider width) and totals, with
// parameter counts worked out by hand; frozen parameters count as non-trainable.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <sstream>
#include <string>

#include <volt/callbacks/model_summary.hpp>
#include <volt/core/context.hpp>
#include <volt/core/example_input.hpp>
#include <volt/core/metrics.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

// conv: 1*8*3*3 weights + 8 biases = 80
// head: Linear(200, 100) = 20'000 + 100 = 20'100; ReLU = 0; Linear(100, 10) = 1'000 + 10 = 1'010
//       -> 21'110
// total 21'190 parameters -> 21'190 * 4 bytes = 0.08476 MB
struct Net : torch::nn::Module {
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Sequential head{nullptr};
  Net() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 8, 3)));
    head = register_module("head", torch::nn::Sequential(torch::nn::Linear(200, 100), torch::nn::ReLU(),
                                                         torch::nn::Linear(100, 10)));
  }
};

}  // namespace

TEST_CASE("human_readable_count matches Lightning's get_human_readable_count", "[callbacks][model_summary]") {
  CHECK(volt::human_readable_count(0) == "0  ");
  CHECK(volt::human_readable_count(80) == "80  ");
  CHECK(volt::human_readable_count(320) == "320  ");
  CHECK(volt::human_readable_count(999) == "999  ");
  CHECK(volt::human_readable_count(1'010) == "1.0 K");
  CHECK(volt::human_readable_count(18'500) == "18.5 K");
  CHECK(volt::human_readable_count(123'456) == "123 K");
  CHECK(volt::human_readable_count(999'999) == "999 K");
  CHECK(volt::human_readable_count(1'234'567) == "1.2 M");
  CHECK(volt::human_readable_count(7'000'000'000) == "7.0 B");
  CHECK(volt::human_readable_count(1'234'567'890'123'456) == "1,234 T");  // no unit past T
}

TEST_CASE("module_type_name is the class name without namespaces and libtorch's Impl", "[callbacks][model_summary]") {
  Net net;
  CHECK(volt::module_type_name(*net.conv) == "Conv2d");
  CHECK(volt::module_type_name(*net.head) == "Sequential");
  CHECK(volt::module_type_name(*net.head[1]) == "ReLU");
  CHECK(volt::module_type_name(net) == "Net");  // "(anonymous namespace)::Net"
}

TEST_CASE("summarize prints Lightning's table for the direct children", "[callbacks][model_summary]") {
  Net net;
  const std::string expected =
      "  | Name | Type       | Params\n"
      "------------------------------------\n"
      "0 | conv | Conv2d     | 80    \n"
      "1 | head | Sequential | 21.1 K\n"
      "------------------------------------\n"
      "21.2 K    Trainable params\n"
      "0         Non-trainable params\n"
      "21.2 K    Total params\n"
      "0.085     Total estimated model params size (MB)";
  CHECK(volt::summarize(net, 1) == expected);
  CHECK(volt::ModelSummary::summarize(net) == expected);  // max_depth = 1 by default
}

TEST_CASE("summarize descends to max_depth with dotted names; -1 shows every submodule", "[callbacks][model_summary]") {
  Net net;
  const std::string rows =
      "  | Name   | Type       | Params\n"
      "--------------------------------------\n"
      "0 | conv   | Conv2d     | 80    \n"
      "1 | head   | Sequential | 21.1 K\n"
      "2 | head.0 | Linear     | 20.1 K\n"
      "3 | head.1 | ReLU       | 0     \n"
      "4 | head.2 | Linear     | 1.0 K \n"
      "--------------------------------------\n";
  CHECK(volt::summarize(net, 2).rfind(rows, 0) == 0);
  CHECK(volt::summarize(net, -1) == volt::summarize(net, 2));
  // max_depth 0: no rows, only the totals.
  CHECK(volt::summarize(net, 0).rfind("  | Name | Type | Params\n" + std::string(30, '-') + "\n" + std::string(30, '-') +
                                          "\n21.2 K    Trainable params\n",
                                      0) == 0);
}

TEST_CASE("frozen parameters are counted as non-trainable", "[callbacks][model_summary]") {
  Net net;
  for (auto& p : net.conv->parameters()) p.set_requires_grad(false);
  net.head[2]->as<torch::nn::Linear>()->bias.set_requires_grad(false);  // 10 more
  const std::string summary = volt::summarize(net, 1);
  // trainable: 21'110 - 10 = 21'100 -> "21.1 K"; non-trainable: 80 + 10 = 90
  CHECK(summary.find("\n21.1 K    Trainable params\n") != std::string::npos);
  CHECK(summary.find("\n90        Non-trainable params\n") != std::string::npos);
  CHECK(summary.find("\n21.2 K    Total params\n") != std::string::npos);
}

TEST_CASE("parameters of a module registered twice are counted once", "[callbacks][model_summary]") {
  torch::nn::Module root;
  torch::nn::Linear shared(10, 10);  // 110 parameters
  root.register_module("a", shared);
  root.register_module("b", shared);
  const std::string summary = volt::summarize(root, 1);
  CHECK(summary.find("0 | a    | Linear | 110   \n1 | b    | Linear | 110   \n") != std::string::npos);
  CHECK(summary.find("\n110       Total params\n") != std::string::npos);
  CHECK(summary.find("\n0.000     Total estimated model params size (MB)") != std::string::npos);
}

TEST_CASE("the estimated size counts each parameter at its dtype's size", "[callbacks][model_summary][precision]") {
  Net net;  // 21'190 parameters
  CHECK(volt::parameter_bytes(net) == 21'190 * 4);
  net.to(torch::kFloat64);  // what precision::FP64 does: 21'190 * 8 bytes = 0.16952 MB
  CHECK(volt::parameter_bytes(net) == 21'190 * 8);
  CHECK(volt::summarize(net).find("\n0.170     Total estimated model params size (MB)") != std::string::npos);
  net.to(torch::kBFloat16);  // BF16True: 21'190 * 2 bytes = 0.04238 MB
  CHECK(volt::parameter_bytes(net) == 21'190 * 2);
  CHECK(volt::summarize(net).find("\n0.042     Total estimated model params size (MB)") != std::string::npos);
  net.to(torch::kHalf);  // FP16True
  CHECK(volt::parameter_bytes(net) == 21'190 * 2);
  // A module that mixes dtypes: each parameter at its own size (conv in fp64, head in fp32).
  Net mixed;
  mixed.conv->to(torch::kFloat64);
  CHECK(volt::parameter_bytes(mixed) == 80 * 8 + 21'110 * 4);
}

namespace {
struct SummaryData {
  torch::Tensor x = torch::randn({8, 200}), y = torch::randn({8, 10});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};
struct Head : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(200, 10))};  // 2'010 parameters
  // (fc(x) - y)^2 by hand: libtorch 1.13 has no CPU mse_loss for bfloat16.
  torch::Tensor training_step(const volt::data::Example& b) { return (fc(b.data) - b.target).pow(2).mean(); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.01)); }
};
template <class Precision>
std::string summary_of_fit() {
  std::ostringstream out;
  Head model;
  SummaryData data;
  volt::Trainer<Head, SummaryData, volt::SingleDevice, Precision, volt::ModelSummary> trainer(
      {.logger = false, .max_epochs = 1, .enable_checkpointing = false, .enable_progress_bar = false},
      volt::SingleDevice{torch::kCPU}, Precision{}, volt::ModelSummary{{.out = &out}});
  trainer.fit(model, data);
  return out.str();
}
}  // namespace

TEST_CASE("in a fit, the summary sizes the parameters as the precision converted them", "[callbacks][model_summary][precision]") {
  // 2'010 parameters: 8'040 bytes in fp32 and under bf16-mixed (fp32 parameters), 16'080 in
  // 64-true, 4'020 in bf16-true.
  CHECK(summary_of_fit<volt::precision::FP32>().find("\n0.008     Total estimated") != std::string::npos);
  CHECK(summary_of_fit<volt::precision::BF16Mixed>().find("\n0.008     Total estimated") != std::string::npos);
  CHECK(summary_of_fit<volt::precision::FP64>().find("\n0.016     Total estimated") != std::string::npos);
  CHECK(summary_of_fit<volt::precision::BF16True>().find("\n0.004     Total estimated") != std::string::npos);
}

TEST_CASE("ModelSummary prints the summary of ctx.module() at on_fit_start on rank 0", "[callbacks][model_summary]") {
  Net net;
  volt::RunState state;
  volt::MetricStore metrics;
  volt::Context ctx(state, metrics, net);

  std::ostringstream out;
  volt::ModelSummary summary{{.out = &out}};
  summary.on_fit_start(ctx);
  CHECK(out.str() == volt::summarize(net, 1) + "\n");

  std::ostringstream none;
  volt::ModelSummary off{{.max_depth = 0, .out = &none}};
  off.on_fit_start(ctx);
  CHECK(none.str().empty());

  state.global_rank = 1;
  std::ostringstream other_rank;
  volt::ModelSummary{{.out = &other_rank}}.on_fit_start(ctx);
  CHECK(other_rank.str().empty());
}

namespace {
// Lightning: `self.example_input_array = torch.zeros(4, 3)`.
struct WithExample : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(3, 2))};
  torch::Tensor example_input_array = torch::zeros({4, 3});
  bool forward_saw_training = true;
  torch::Tensor forward(torch::Tensor x) {
    forward_saw_training = is_training();
    CHECK_FALSE(torch::GradMode::is_enabled());
    return fc(x);
  }
};
struct TwoOutputs : torch::nn::Module {
  torch::Tensor example_input_array = torch::zeros({2, 5});
  std::tuple<torch::Tensor, torch::Tensor> forward(torch::Tensor x) { return {x.sum(1), x.t()}; }
};
// A module that is a torch::nn::Sequential at its top level: each layer's sizes.
struct SequentialNet : torch::nn::SequentialImpl {
  SequentialNet() : torch::nn::SequentialImpl(torch::nn::Linear(3, 8), torch::nn::ReLU(), torch::nn::Linear(8, 2)) {}
  torch::Tensor example_input_array = torch::zeros({4, 3});
};
static_assert(volt::HasExampleInputArray<WithExample>);
static_assert(!volt::HasExampleInputArray<Net>);
}  // namespace

TEST_CASE("example_input_array: the model's in and out sizes, as Lightning's summary writes them", "[callbacks][model_summary]") {
  WithExample net;
  CHECK(volt::example_input_sizes(net) == "In sizes: [4, 3]; Out sizes: [4, 2] (the model's forward on example_input_array)");
  CHECK_FALSE(net.forward_saw_training);  // Lightning runs the example in eval mode
  CHECK(net.is_training());               // and puts the mode back
  TwoOutputs two;
  CHECK(volt::example_input_sizes(two) == "In sizes: [2, 5]; Out sizes: [[2], [5, 2]] (the model's forward on example_input_array)");

  volt::RunState state;
  volt::MetricStore metrics;
  volt::Context ctx(state, metrics, net);
  state.example_input_sizes = [&net] { return volt::example_input_sizes(net); };  // as the Trainer's run sets it
  std::ostringstream out;
  volt::ModelSummary{{.out = &out}}.on_fit_start(ctx);
  CHECK(out.str() == volt::summarize(net, 1) + "\nIn sizes: [4, 3]; Out sizes: [4, 2] (the model's forward on example_input_array)\n");
}

TEST_CASE("a torch::nn::Sequential module: each layer's in and out sizes, in Lightning's columns",
          "[callbacks][model_summary]") {
  SequentialNet net;
  const auto layers = volt::example_layer_sizes(net);
  REQUIRE(layers.size() == 3);
  CHECK(layers[0].name == "0");
  CHECK(layers[0].in == "[4, 3]");
  CHECK(layers[0].out == "[4, 8]");
  CHECK(layers[1].in == "[4, 8]");
  CHECK(layers[1].out == "[4, 8]");
  CHECK(layers[2].name == "2");
  CHECK(layers[2].in == "[4, 8]");
  CHECK(layers[2].out == "[4, 2]");
  CHECK(net.is_training());  // the mode is put back
  WithExample not_sequential;
  CHECK(volt::example_layer_sizes(not_sequential).empty());  // the whole model's line only

  volt::RunState state;
  volt::MetricStore metrics;
  volt::Context ctx(state, metrics, net);
  state.example_layer_sizes = [&net] { return volt::example_layer_sizes(net); };  // as the Trainer's run sets it
  std::ostringstream out;
  volt::ModelSummary{{.out = &out}}.on_fit_start(ctx);
  const std::string table = out.str();
  CHECK_THAT(table, Catch::StartsWith("  | Name | Type   | Params | In sizes | Out sizes\n"));
  CHECK_THAT(table, Catch::Contains("\n0 | 0    | Linear | 32     | [4, 3]   | [4, 8]   \n"));
  CHECK_THAT(table, Catch::Contains("\n1 | 1    | ReLU   | 0      | [4, 8]   | [4, 8]   \n"));
  CHECK_THAT(table, Catch::Contains("\n2 | 2    | Linear | 18     | [4, 8]   | [4, 2]   \n"));
}
