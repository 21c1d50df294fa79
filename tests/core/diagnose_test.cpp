// What fit start says about the Module: the hooks volt will call, the declared ones it will not
// (with the reason), and Lightning's warnings for a loader without its step or a step without
// its loader. Also ctx.loggers(), which a module uses to reach its TensorBoardLogger.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <string>

#include <volt/core/diagnose.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/loggers/tensorboard_logger.hpp>
#include <volt/loops/fit_summary.hpp>
#include <volt/volt.hpp>

#include "../loggers/test_support.hpp"

namespace {

using volt::data::Example;

struct Base : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  torch::Tensor training_step(const Example& b, std::int64_t) { return torch::mse_loss(fc(b.data), b.target); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.01)); }
};

// A member-template on_train_batch_end that no call volt makes fits (it wants an int first),
// a generic one that fits, and a validation_step typo the table of wrong names does not know
// (`validaton_step`, which it knows, is a compile error).
struct TemplateHooks : Base {
  template <class B>
  void on_train_batch_end(int not_the_outputs, const B& batch, std::int64_t) {}
  template <class B>
  void on_train_batch_start(const B&, std::int64_t) {}
  torch::Tensor validation_stp(const Example& b) { return fc(b.data).sum(); }  // sic
};
struct Overloaded : Base {
  void on_train_epoch_end(int) {}
  void on_train_epoch_end(double) {}
};
struct WithSteps : Base {
  torch::Tensor validation_step(const Example& b) { return fc(b.data).sum(); }
  torch::Tensor test_step(const Example& b) { return fc(b.data).sum(); }
};

struct TrainOnly {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};
struct AllLoaders : TrainOnly {
  volt::data::TensorLoader val_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader test_dataloader() const { return {x, y, {.batch_size = 4}}; }
  volt::data::TensorLoader predict_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

template <class Range>
constexpr bool has_name(const Range& names, std::string_view name) {
  return std::ranges::find(names, name) != names.end();
}

// Captures std::cerr for one scope.
struct CaptureCerr {
  std::ostringstream text;
  std::streambuf* old = std::cerr.rdbuf(text.rdbuf());
  ~CaptureCerr() { std::cerr.rdbuf(old); }
};

}  // namespace

TEST_CASE("a hook's name is found on a member template or overload set", "[core][diagnose]") {
  STATIC_REQUIRE(volt::hooks::on_train_batch_end_t::named<TemplateHooks>);
  STATIC_REQUIRE_FALSE(volt::hooks::on_train_batch_end_t::declared<TemplateHooks>);  // &T::name cannot see it
  STATIC_REQUIRE(volt::hooks::on_train_epoch_end_t::named<Overloaded>);
  STATIC_REQUIRE(volt::hooks::training_step_t::named<Base>);
  STATIC_REQUIRE_FALSE(volt::hooks::validation_step_t::named<TemplateHooks>);
}

TEST_CASE("hooks found at compile time lists only hooks volt calls; the others come with the reason", "[core][diagnose]") {
  using Batch = Example;
  using Inventory = volt::hook_inventory<TemplateHooks, Batch, TrainOnly>;
  STATIC_REQUIRE(has_name(Inventory::names, "training_step"));
  STATIC_REQUIRE(has_name(Inventory::names, "on_train_batch_start"));   // a template that fits (batch, batch_idx)
  STATIC_REQUIRE_FALSE(has_name(Inventory::names, "on_train_batch_end"));  // a template that fits nothing
  REQUIRE(Inventory::unused.size() == 1);
  CHECK(Inventory::unused[0].name == "on_train_batch_end");
  CHECK(Inventory::unused[0].signature.find("const StepOutput& outputs") != std::string_view::npos);

  using Overloads = volt::hook_inventory<Overloaded, Batch, TrainOnly>;
  STATIC_REQUIRE_FALSE(has_name(Overloads::names, "on_train_epoch_end"));  // no overload takes ()
  STATIC_REQUIRE(Overloads::unused.size() == 1);

  // A step whose loader the DataModule lacks is never called: listed as unused, naming the loader.
  using NoLoaders = volt::hook_inventory<WithSteps, Batch, TrainOnly>;
  STATIC_REQUIRE_FALSE(has_name(NoLoaders::names, "validation_step"));
  REQUIRE(NoLoaders::unused.size() == 2);
  CHECK(NoLoaders::unused[0].missing_loader == "val_dataloader()");
  CHECK(NoLoaders::unused[1].missing_loader == "test_dataloader()");
  using Loaders = volt::hook_inventory<WithSteps, Batch, AllLoaders>;
  STATIC_REQUIRE(has_name(Loaders::names, "validation_step"));
  STATIC_REQUIRE(has_name(Loaders::names, "test_step"));
  STATIC_REQUIRE(Loaders::unused.empty());
  // The Trainer's own view agrees.
  STATIC_REQUIRE_FALSE(has_name(volt::Trainer<WithSteps, TrainOnly>::detected_hooks(), "validation_step"));
  STATIC_REQUIRE(volt::Trainer<WithSteps, TrainOnly>::unused_hooks().size() == 2);

  CHECK(volt::loops::unused_hooks_line<TemplateHooks, Batch, TrainOnly>() ==
        "volt: declared but never called: on_train_batch_end (no form of it takes what volt passes; expected: void "
        "on_train_batch_end(const StepOutput& outputs, const Batch& batch, int64_t batch_idx, volt::Context& ctx))\n");
  CHECK(volt::loops::unused_hooks_line<WithSteps, Batch, TrainOnly>() ==
        "volt: declared but never called: validation_step (the DataModule has no val_dataloader()); test_step (the "
        "DataModule has no test_dataloader())\n");
  CHECK(volt::loops::unused_hooks_line<WithSteps, Batch, AllLoaders>().empty());
}

TEST_CASE("a val loader without its step, or a validation_step without its loader, is said as Lightning says it",
          "[core][diagnose]") {
  std::ostringstream out;
  SECTION("a validation_step typo: the val loop would be skipped in silence; test and predict are not fit's business") {
    volt::loops::warn_loaders_without_steps<TemplateHooks, AllLoaders>(out);
    CHECK(out.str() ==
          "volt: warning: You passed in a `val_dataloader` but have no `validation_step`. Skipping val loop.\n");
  }
  SECTION("steps without loaders: fit warns about the val loop only") {
    volt::loops::warn_loaders_without_steps<WithSteps, TrainOnly>(out);
    CHECK(out.str() ==
          "volt: warning: You defined a `validation_step` but have no `val_dataloader`. Skipping val loop.\n");
  }
  SECTION("a DataModule with a predict loader (FashionMNIST's) and a Module without predict_step: fit says nothing") {
    volt::loops::warn_loaders_without_steps<WithSteps, AllLoaders>(out);
    CHECK(out.str().empty());
  }
  SECTION("overfit_batches validates on the training loader: no val loader is needed") {
    volt::loops::warn_loaders_without_steps<WithSteps, TrainOnly>(out, /*overfitting=*/true);
    CHECK(out.str().find("validation_step") == std::string::npos);
  }
  SECTION("nothing to say when loaders and steps pair up") {
    struct Everything : WithSteps {
      torch::Tensor predict_step(const Example& b) { return fc(b.data); }
    };
    volt::loops::warn_loaders_without_steps<Everything, AllLoaders>(out);
    CHECK(out.str().empty());
  }
  SECTION("fit says it when it starts, before the first batch") {
    TemplateHooks model;
    AllLoaders data;
    CaptureCerr cerr;
    volt::Trainer<TemplateHooks, AllLoaders> trainer{{.logger = false,
                                                      .max_epochs = 1,
                                                      .enable_checkpointing = false,
                                                      .enable_progress_bar = false,
                                                      .enable_model_summary = false}};
    trainer.fit(model, data);
    CHECK(cerr.text.str().find("You passed in a `val_dataloader` but have no `validation_step`. Skipping val loop.") !=
          std::string::npos);
    CHECK(cerr.text.str().find("predict_step") == std::string::npos);  // fit does not run predict
    CHECK(cerr.text.str().find("test_step") == std::string::npos);
  }
}

namespace {
// Lightning's GAN example logs a grid of samples through self.logger.experiment.add_image.
struct LogsImages : Base {
  std::int64_t found = 0, missing_csv = 0;
  void on_train_epoch_end(volt::Context& ctx) {
    if (auto* tb = ctx.loggers().find<volt::loggers::TensorBoardLogger>()) {
      ++found;
      tb->add_image("samples", volt::make_grid(torch::rand({4, 1, 3, 3}), {.nrow = 2}), ctx.global_step());
      tb->add_histogram("fc.weight", fc->weight, ctx.global_step());
    }
    if (!ctx.loggers().find<volt::loggers::CSVLogger>()) ++missing_csv;
    CHECK(ctx.loggers().size() == 1);
    CHECK(&ctx.loggers().get<volt::loggers::TensorBoardLogger>() == ctx.loggers().find<volt::loggers::TensorBoardLogger>());
    CHECK_THROWS_WITH(ctx.loggers().get<volt::loggers::CSVLogger>(),
                      Catch::Contains("ctx.loggers().get<volt::loggers::CSVLogger>()") &&
                          Catch::Contains("has no logger of this type"));
  }
};
}  // namespace

TEST_CASE("ctx.loggers() reaches the Trainer's loggers by type", "[core][context][loggers]") {
  volt_test::LogTempDir tmp;
  LogsImages model;
  TrainOnly data;
  volt::Trainer<LogsImages, TrainOnly, volt::SingleDevice, volt::precision::FP32, volt::loggers::TensorBoardLogger> trainer{
      {.max_epochs = 2, .enable_checkpointing = false, .enable_progress_bar = false, .enable_model_summary = false},
      volt::SingleDevice{},
      volt::precision::FP32{},
      volt::loggers::TensorBoardLogger{{.save_dir = tmp.path}}};
  trainer.fit(model, data);
  CHECK(model.found == 2);
  CHECK(model.missing_csv == 2);
  const auto& tb = std::get<volt::loggers::TensorBoardLogger>(trainer.callbacks());
  const std::string events = volt_test::slurp(tb.event_file_path());
  CHECK(events.find("samples") != std::string::npos);
  CHECK(events.find("fc.weight") != std::string::npos);
  CHECK(events.find("\x89PNG") != std::string::npos);
}

namespace {
struct WithExampleInput : Base {
  torch::Tensor example_input_array = torch::zeros({3, 2});
  torch::Tensor forward(torch::Tensor x) { return fc(x); }
};
}  // namespace

TEST_CASE("fit start prints the model summary with example_input_array's sizes", "[core][diagnose][model_summary]") {
  WithExampleInput model;
  TrainOnly data;
  std::ostringstream out;
  volt::Trainer<WithExampleInput, TrainOnly, volt::SingleDevice, volt::precision::FP32, volt::ModelSummary> trainer{
      {.logger = false, .max_epochs = 1, .enable_checkpointing = false, .enable_progress_bar = false},
      volt::SingleDevice{},
      volt::precision::FP32{},
      volt::ModelSummary{{.out = &out}}};
  trainer.fit(model, data);
  CHECK(out.str().find("\nIn sizes: [3, 2]; Out sizes: [3, 1] (the model's forward on example_input_array)\n") !=
        std::string::npos);
}
