// load_from_checkpoint rebuilds a module from the hyper-parameters its checkpoint holds and loads
// its weights (full and weights-only checkpoints); read_hparams reads them back field by field;
// a checkpoint of another shape or without hyper-parameters is refused by name.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <boost/hana/define_struct.hpp>
#include <unistd.h>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>
#include <nlohmann/json.hpp>  // volt's headers declare nlohmann::json only (json_fwd.hpp) in the fast mode

namespace {

namespace fs = std::filesystem;

struct LoadTempDir {
  fs::path path;
  LoadTempDir() {
    path = fs::temp_directory_path() / ("volt_load_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~LoadTempDir() { fs::remove_all(path); }
};

enum class Activation { relu = 0, tanh = 1 };

struct Optim {
  BOOST_HANA_DEFINE_STRUCT(Optim, (double, lr), (std::optional<double>, weight_decay));
};

struct HParams {
  BOOST_HANA_DEFINE_STRUCT(HParams,
                           (std::int64_t, hidden),
                           (Activation, activation),
                           (std::string, name),
                           (bool, bias),
                           (Optim, optim));
};

struct Regressor : torch::nn::Module {
  HParams hp;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  explicit Regressor(HParams h) : hp(std::move(h)) {
    fc1 = register_module("fc1", torch::nn::Linear(torch::nn::LinearOptions(3, hp.hidden).bias(hp.bias)));
    fc2 = register_module("fc2", torch::nn::Linear(hp.hidden, 1));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = fc1(x);
    return fc2(hp.activation == Activation::relu ? torch::relu(h) : torch::tanh(h));
  }
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t) { return torch::mse_loss(forward(b.data), b.target); }
  auto configure_optimizers() {
    return torch::optim::SGD(parameters(), torch::optim::SGDOptions(hp.optim.lr).weight_decay(hp.optim.weight_decay.value_or(0)));
  }
};

// No `hp`: built from the arguments load_from_checkpoint is given.
struct Plain : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  explicit Plain(std::int64_t in) { fc = register_module("fc", torch::nn::Linear(in, 1)); }
  torch::Tensor training_step(const volt::data::Example& b, std::int64_t) { return torch::mse_loss(fc(b.data), b.target); }
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

struct Data {
  std::int64_t features = 3;
  torch::Tensor x = torch::randn({16, features}), y = torch::randn({16, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

template <class M>
fs::path fit_and_save(M& model, const fs::path& dir, bool weights_only, std::int64_t features = 3) {
  Data data{.features = features};
  data.x = torch::randn({16, features});
  volt::Trainer<M, Data, volt::SingleDevice, volt::precision::FP32, volt::ModelCheckpoint> trainer{
      {.logger = false, .max_epochs = 2, .enable_progress_bar = false, .enable_model_summary = false,
       .default_root_dir = dir},
      volt::ModelCheckpoint{{.dirpath = dir, .filename = "model", .save_weights_only = weights_only}}};
  trainer.fit(model, data);
  return dir / "model.ckpt";
}

void require_same_weights(torch::nn::Module& a, torch::nn::Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (const auto& p : pa) REQUIRE(torch::equal(p.value(), pb[p.key()]));
}

HParams sample_hparams() {
  return HParams{.hidden = 5, .activation = Activation::tanh, .name = "yes: quoted?", .bias = false,
                 .optim = Optim{.lr = 0.05, .weight_decay = std::nullopt}};
}

}  // namespace

TEST_CASE("load_from_checkpoint rebuilds the module from its hyper-parameters and loads its weights", "[checkpoint]") {
  LoadTempDir dir;
  for (const bool weights_only : {false, true}) {
    DYNAMIC_SECTION("weights_only=" << weights_only) {
      torch::manual_seed(1);
      Regressor trained(sample_hparams());
      const fs::path ckpt = fit_and_save(trained, dir.path, weights_only);

      const std::shared_ptr<Regressor> loaded = volt::load_from_checkpoint<Regressor>(ckpt);
      CHECK(loaded->hp.hidden == 5);
      CHECK(loaded->hp.activation == Activation::tanh);
      CHECK(loaded->hp.name == "yes: quoted?");
      CHECK_FALSE(loaded->hp.bias);
      CHECK(loaded->hp.optim.lr == 0.05);
      CHECK_FALSE(loaded->hp.optim.weight_decay.has_value());
      require_same_weights(trained, *loaded);
      const auto x = torch::randn({4, 3});
      CHECK(torch::equal(trained.forward(x), loaded->forward(x)));

      // The YAML next to it is what Lightning's hparams.yaml holds.
      const auto reader = volt::checkpoint::CheckpointReader::open(ckpt);
      CHECK(reader.bytes("hparams.yaml") ==
            "activation: 1\nbias: false\nhidden: 5\nname: 'yes: quoted?'\noptim/lr: 0.05\noptim/weight_decay: null\n");
    }
  }
}

TEST_CASE("read_hparams reads a checkpoint's hyper-parameters; an override goes through the constructor", "[checkpoint]") {
  LoadTempDir dir;
  Regressor trained(sample_hparams());
  const fs::path ckpt = fit_and_save(trained, dir.path, false);

  auto hp = volt::read_hparams<HParams>(ckpt);
  CHECK(hp.optim.lr == 0.05);
  hp.optim.lr = 0.5;  // an inference-time override, as load_from_checkpoint(path, lr=0.5) in Lightning
  const auto loaded = volt::load_from_checkpoint<Regressor>(ckpt, hp);
  CHECK(loaded->hp.optim.lr == 0.5);
  require_same_weights(trained, *loaded);

  const auto as_map = volt::read_hparams<std::map<std::string, volt::reflect::HParamValue>>(ckpt);
  CHECK((as_map.at("hidden") == volt::reflect::HParamValue{std::int64_t{5}}));
  CHECK((as_map.at("optim/weight_decay") == volt::reflect::HParamValue{std::monostate{}}));
}

TEST_CASE("load_from_checkpoint refuses a checkpoint it cannot use, naming the file and the mismatch", "[checkpoint]") {
  LoadTempDir dir;
  torch::manual_seed(2);
  Plain plain(3);
  const fs::path ckpt = fit_and_save(plain, dir.path, false);

  SECTION("a module without hp is built from the given arguments") {
    const auto loaded = volt::load_from_checkpoint<Plain>(ckpt, std::int64_t{3});
    require_same_weights(plain, *loaded);
  }
  SECTION("weights of another shape") {
    CHECK_THROWS_WITH(volt::load_from_checkpoint<Plain>(ckpt, std::int64_t{4}),
                      Catch::Contains(ckpt.string()) && Catch::Contains("\"fc.weight\" has shape [1, 3] in the checkpoint but [1, 4]"));
  }
  SECTION("no hyper-parameters in the checkpoint") {
    CHECK_THROWS_WITH(volt::read_hparams<HParams>(ckpt),
                      Catch::Contains("holds no hyperparameters") && Catch::Contains("load_from_checkpoint<Module>(path, args...)"));
  }
  SECTION("hyper-parameters of another struct") {
    Regressor trained(sample_hparams());
    const fs::path other = fit_and_save(trained, dir.path / "other", false);
    struct Wrong {
      BOOST_HANA_DEFINE_STRUCT(Wrong, (std::string, hidden));
    };
    CHECK_THROWS_WITH(volt::read_hparams<Wrong>(other),
                      Catch::Contains("hyperparameter \"hidden\" is an integer in the checkpoint, but the field wants a string"));
    struct Missing {
      BOOST_HANA_DEFINE_STRUCT(Missing, (double, dropout));
    };
    CHECK_THROWS_WITH(volt::read_hparams<Missing>(other), Catch::Contains("hyperparameter \"dropout\" is missing"));
  }
  SECTION("hyper-parameters the module's constructor rejects") {
    Regressor trained(sample_hparams());
    const fs::path other = fit_and_save(trained, dir.path / "picky", false);
    struct Picky : Regressor {
      explicit Picky(HParams h) : Regressor(check(std::move(h))) {}
      static HParams check(HParams h) {
        if (h.hidden < 8) throw std::invalid_argument("hidden must be at least 8");
        return h;
      }
    };
    CHECK_THROWS_AS(volt::load_from_checkpoint<Picky>(other), volt::checkpoint::CheckpointError);
    CHECK_THROWS_WITH(volt::load_from_checkpoint<Picky>(other),
                      Catch::Contains(other.string()) && Catch::Contains("hidden must be at least 8"));
  }
}

TEST_CASE("hyper-parameters survive their JSON form", "[loggers]") {
  volt::reflect::HParamDict dict;
  dict.set("b", true);
  dict.set("a", std::int64_t{-3});
  dict.set("f", 2.0);
  dict.set("s", std::string("x"));
  dict.set("n", std::monostate{});
  const auto json = volt::reflect::hparams_to_json(dict);
  CHECK(json.dump() == R"([["b",true],["a",-3],["f",2.0],["s","x"],["n",null]])");
  CHECK((volt::reflect::hparams_from_json(nlohmann::json::parse(json.dump())) == dict));
  CHECK_THROWS_WITH(volt::reflect::hparams_from_json(nlohmann::json::parse(R"([["a",[1]]])")),
                    Catch::Contains("\"a\" holds [1], not a scalar"));
}
