// The results table validate() and test() print: Lightning's (rich) table to the character, and
// a Trainer prints the very values it returns, on request only.
#include <volt/loops/results_table.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <map>
#include <sstream>
#include <string>

#include <volt/data/tensor_loader.hpp>
#include <volt/reflect/python_format.hpp>
#include <volt/volt.hpp>

TEST_CASE("results_table draws Lightning's table", "[loops][results_table]") {
  // As Lightning 2.1 prints it after trainer.test() (rich installed).
  const std::string expected =
      "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┓\n"
      "┃        Test metric        ┃       DataLoader 0        ┃\n"
      "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━┩\n"
      "│         test_acc          │    0.8478000164031982     │\n"
      "│         test_loss         │    0.4216495156288147     │\n"
      "└───────────────────────────┴───────────────────────────┘\n";
  CHECK(volt::loops::results_table(volt::Stage::test, {{"test_loss", 0.4216495156288147}, {"test_acc", 0.8478000164031982}}) ==
        expected);
  CHECK(volt::loops::results_table_title(volt::Stage::validate) == "Validate metric");
  CHECK(volt::loops::results_table(volt::Stage::test, {}).empty());
  // A name longer than 25 columns widens both columns; Python's repr of the float.
  const std::string wide = volt::loops::results_table(volt::Stage::validate, {{"val_loss_of_a_rather_long_name", 3.0}});
  CHECK(wide == "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓\n"
                "┃        Validate metric         ┃          DataLoader 0          ┃\n"
                "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩\n"
                "│ val_loss_of_a_rather_long_name │              3.0               │\n"
                "└────────────────────────────────┴────────────────────────────────┘\n");
}

namespace {

struct Scorer : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Scorer() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t) { return torch::mse_loss(fc(b.data), b.target); }
  void validation_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    ctx.log("val_loss", torch::mse_loss(fc(b.data), b.target));
  }
  void test_step(const volt::data::Example& b, std::int64_t, volt::Context& ctx) {
    ctx.log("test_loss", torch::mse_loss(fc(b.data), b.target));
    ctx.log("test_mae", torch::l1_loss(fc(b.data), b.target));
  }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct ScorerData {
  torch::Tensor x = torch::arange(16, torch::kFloat32).reshape({8, 2}) / 16, y = torch::ones({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader test_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

}  // namespace

TEST_CASE("validate() and test() print the table of the values they return", "[loops][results_table]") {
  Scorer model;
  ScorerData data;
  volt::Trainer<Scorer, ScorerData> trainer{
      {.logger = false, .enable_checkpointing = false, .enable_progress_bar = false, .enable_model_summary = false}};
  std::ostringstream out;
  const auto tested = trainer.test(model, data, {.out = &out});
  REQUIRE(tested.size() == 2);
  CHECK(out.str() == volt::loops::results_table(volt::Stage::test, tested));
  for (const auto& [name, value] : tested) {
    CHECK(out.str().find(volt::reflect::python_repr(value)) != std::string::npos);
  }
  CHECK(out.str().find("Test metric") != std::string::npos);

  std::ostringstream validated_out;
  const auto validated = trainer.validate(model, data, {.out = &validated_out});
  CHECK(validated_out.str() == volt::loops::results_table(volt::Stage::validate, validated));
  CHECK(validated_out.str().find("Validate metric") != std::string::npos);
  CHECK(validated_out.str().find("val_loss") != std::string::npos);

  std::ostringstream quiet;
  trainer.test(model, data, {.verbose = false, .out = &quiet});
  CHECK(quiet.str().empty());
}
