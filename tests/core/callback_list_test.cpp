// configure_callbacks: the module's callbacks merged with the Trainer's at compile time, with
// Lightning's rules (a module callback replaces Trainer callbacks of its type or a base of it;
// the module's come after the Trainer's; checkpoint callbacks run last).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <volt/core/callback_list.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

struct A {
  int id = 0;
};
struct B {
  int id = 0;
};
struct DerivedB : B {};
struct Ckpt {
  static constexpr bool checkpoint_callback = true;
  int id = 0;
};
struct Monitor {
  static constexpr bool monitoring_callback = true;
};

}  // namespace

TEST_CASE("merge_callbacks: replace by type or base, module's after the Trainer's, checkpoints last", "[core][callbacks]") {
  std::tuple<Ckpt, A, B, std::optional<Ckpt>> trainer{Ckpt{1}, A{2}, B{3}, std::nullopt};
  std::tuple<DerivedB, A> module{DerivedB{}, A{7}};
  auto merged = volt::merge_callbacks(trainer, module);
  // B is replaced by DerivedB, A by the module's A; both Ckpt move to the end, in order.
  STATIC_REQUIRE(std::is_same_v<decltype(merged), std::tuple<DerivedB&, A&, Ckpt&, std::optional<Ckpt>&>>);
  CHECK(std::get<1>(merged).id == 7);
  CHECK(&std::get<2>(merged) == &std::get<0>(trainer));  // references, not copies

  std::tuple<> none;
  auto only_trainer = volt::merge_callbacks(trainer, none);
  STATIC_REQUIRE(std::is_same_v<decltype(only_trainer), std::tuple<A&, B&, Ckpt&, std::optional<Ckpt>&>>);

  STATIC_REQUIRE(volt::CheckpointCallback<std::optional<Ckpt>>);
  STATIC_REQUIRE(volt::MonitoringCallback<Ckpt>);
  STATIC_REQUIRE(volt::MonitoringCallback<Monitor>);
  STATIC_REQUIRE_FALSE(volt::MonitoringCallback<A>);
  STATIC_REQUIRE(volt::CheckpointCallback<volt::ModelCheckpoint>);
  STATIC_REQUIRE(volt::MonitoringCallback<volt::EarlyStopping>);
  STATIC_REQUIRE(std::is_same_v<volt::callback_tuple_t<A>, std::tuple<A>>);
  STATIC_REQUIRE(std::is_same_v<volt::callback_tuple_t<std::tuple<A, B>>, std::tuple<A, B>>);
}

namespace {

using Calls = std::vector<std::string>;

struct Recorder {
  Calls* calls;
  std::string name;
  void on_fit_start() { calls->push_back(name + ".on_fit_start"); }
  void on_train_end() { calls->push_back(name + ".on_train_end"); }
};
struct Other {
  Calls* calls;
  void on_fit_start() { calls->push_back("Other.on_fit_start"); }
};
// A checkpoint callback that records (it runs last even when listed first).
struct LastCheckpoint {
  static constexpr bool checkpoint_callback = true;
  Calls* calls;
  void on_fit_start() { calls->push_back("LastCheckpoint.on_fit_start"); }
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

struct ConfiguringModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Calls* calls;
  int configured = 0;
  explicit ConfiguringModel(Calls* c) : calls(c) { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& b) { return torch::mse_loss(fc(b.data), b.target); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
  auto configure_callbacks() {
    ++configured;
    calls->push_back("configure_callbacks");
    return std::tuple{LastCheckpoint{calls}, Recorder{calls, "module"}};
  }
  void on_fit_start() { calls->push_back("on_fit_start"); }
};

struct SingleCallbackModel : ConfiguringModel {
  using ConfiguringModel::ConfiguringModel;
  auto configure_callbacks() { return Recorder{calls, "single"}; }
};

volt::TrainerOptions options() {
  return {.logger = false, .max_epochs = 1, .enable_checkpointing = false, .enable_progress_bar = false,
          .enable_model_summary = false};
}

}  // namespace

TEST_CASE("configure_callbacks: the module's callbacks replace the Trainer's of that type and run in Lightning's order",
          "[core][callbacks]") {
  Calls calls;
  ConfiguringModel model(&calls);
  Data data;
  volt::Trainer<ConfiguringModel, Data, volt::SingleDevice, volt::precision::FP32, Recorder, Other> trainer(
      options(), volt::SingleDevice{torch::kCPU}, volt::precision::FP32{}, Recorder{&calls, "trainer"},
      Other{&calls});
  STATIC_REQUIRE(std::is_same_v<decltype(trainer)::model_callbacks_type, std::tuple<LastCheckpoint, Recorder>>);
  trainer.fit(model, data);
  CHECK((calls == Calls{"configure_callbacks", "Other.on_fit_start", "module.on_fit_start",
                        "LastCheckpoint.on_fit_start", "on_fit_start", "module.on_train_end"}));
  REQUIRE(trainer.model_callbacks().has_value());
  CHECK(std::get<Recorder>(*trainer.model_callbacks()).name == "module");
  CHECK(std::get<Recorder>(trainer.callbacks()).name == "trainer");  // kept, but not called
  CHECK(model.configured == 1);
}

TEST_CASE("configure_callbacks may return one callback; it is called again for each entry point", "[core][callbacks]") {
  Calls calls;
  SingleCallbackModel model(&calls);
  Data data;
  volt::Trainer<SingleCallbackModel, Data> trainer(options(), volt::SingleDevice{torch::kCPU}, volt::precision::FP32{});
  STATIC_REQUIRE(std::is_same_v<decltype(trainer)::model_callbacks_type, std::tuple<Recorder>>);
  trainer.fit(model, data);
  trainer.fit(model, data);
  CHECK((calls == Calls{"single.on_fit_start", "on_fit_start", "single.on_train_end", "single.on_fit_start",
                        "on_fit_start", "single.on_train_end"}));
}

namespace {
struct CheckpointingModel : ConfiguringModel {
  using ConfiguringModel::ConfiguringModel;
  std::filesystem::path dir;
  auto configure_callbacks() { return volt::ModelCheckpoint{{.dirpath = dir, .filename = "from-module"}}; }
};
}  // namespace

TEST_CASE("a ModelCheckpoint from configure_callbacks replaces the default one", "[core][callbacks]") {
  Calls calls;
  CheckpointingModel model(&calls);
  model.dir = std::filesystem::current_path() / "volt_configure_callbacks_ckpt";  // the process's own (tests/main.cpp)
  std::filesystem::remove_all(model.dir);
  Data data;
  auto opts = options();
  opts.enable_checkpointing = true;  // the default ModelCheckpoint would write to <root>/checkpoints
  opts.default_root_dir = model.dir / "root";
  volt::Trainer<CheckpointingModel, Data> trainer(opts, volt::SingleDevice{torch::kCPU}, volt::precision::FP32{});
  trainer.fit(model, data);
  CHECK(std::filesystem::exists(model.dir / "from-module.ckpt"));
  CHECK_FALSE(std::filesystem::exists(model.dir / "root" / "checkpoints"));
  const auto& ckpt = std::get<volt::ModelCheckpoint>(*trainer.model_callbacks());
  CHECK(std::filesystem::path(ckpt.best_model_path()).filename() == "from-module.ckpt");
  std::filesystem::remove_all(model.dir);
}
