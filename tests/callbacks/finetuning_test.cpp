// volt::freeze / unfreeze, BaseFinetuning's helpers and BackboneFinetuning in a real fit,
// including an exact resume after the backbone was unfrozen.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <volt/callbacks/finetuning.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

namespace fs = std::filesystem;

struct TwoPart : torch::nn::Module {
  torch::nn::Sequential backbone{nullptr};
  torch::nn::Linear head{nullptr};
  double lr = 0.1;
  TwoPart() {
    backbone = register_module("backbone", torch::nn::Sequential(torch::nn::Linear(4, 8), torch::nn::ReLU(),
                                                                 torch::nn::Linear(8, 8)));
    head = register_module("head", torch::nn::Linear(8, 1));
  }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t) {
    return torch::mse_loss(head(torch::relu(backbone->forward(batch.data))), batch.target);
  }
  auto configure_optimizers() {
    return torch::optim::SGD(volt::trainable_parameters(*this), torch::optim::SGDOptions(lr).momentum(0.9));
  }
};

struct Data {
  torch::Tensor x, y;
  Data() {
    torch::manual_seed(11);
    x = torch::randn({32, 4});
    y = x.sum(1, true);
  }
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 8}}; }
};

volt::TrainerOptions options(const fs::path& root, std::int64_t epochs, bool checkpointing = false) {
  return {.logger = false, .max_epochs = epochs, .enable_checkpointing = checkpointing, .enable_progress_bar = false,
          .enable_model_summary = false, .default_root_dir = root};
}

std::vector<torch::Tensor> weights(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}
bool equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

fs::path temp_root(const std::string& name) {
  auto root = fs::temp_directory_path() / ("volt_finetuning_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  return root;
}

using Backbone = volt::BackboneFinetuning<>;

}  // namespace

TEST_CASE("freeze and unfreeze switch gradients and the training mode, as LightningModule's", "[finetuning]") {
  TwoPart m;
  volt::freeze(*m.backbone);
  for (auto& p : m.backbone->parameters()) CHECK_FALSE(p.requires_grad());
  CHECK_FALSE(m.backbone->is_training());
  CHECK(m.head->weight.requires_grad());
  CHECK(volt::trainable_parameters(m).size() == 2);  // the head's weight and bias
  volt::unfreeze(*m.backbone);
  for (auto& p : m.backbone->parameters()) CHECK(p.requires_grad());
  CHECK(m.backbone->is_training());
}

TEST_CASE("BaseFinetuning's helpers: freeze keeps batch norms trainable, unfreeze adds a param group",
          "[finetuning]") {
  torch::nn::Sequential net(torch::nn::Linear(4, 4), torch::nn::BatchNorm1d(4), torch::nn::Linear(4, 2));
  Backbone::freeze(*net, /*train_bn=*/true);
  CHECK_FALSE(net[0]->parameters()[0].requires_grad());
  CHECK(net[1]->parameters()[0].requires_grad());
  CHECK(Backbone::filter_params(*net, /*train_bn=*/false, /*requires_grad=*/true).empty());
  Backbone::freeze(*net, /*train_bn=*/false);
  CHECK_FALSE(net[1]->parameters()[0].requires_grad());
  CHECK_FALSE(net->ptr(1)->as<torch::nn::BatchNorm1d>()->options.track_running_stats());

  torch::nn::Linear other(2, 2);
  torch::optim::SGD opt(other->parameters(), torch::optim::SGDOptions(0.5));
  Backbone::unfreeze_and_add_param_group(*net, opt);
  REQUIRE(opt.param_groups().size() == 2);
  CHECK(opt.param_groups()[1].options().get_lr() == Approx(0.05));  // first group's lr / initial_denom_lr
  CHECK(opt.param_groups()[1].params().size() == 6);
  CHECK(net->ptr(1)->as<torch::nn::BatchNorm1d>()->options.track_running_stats());
  Backbone::unfreeze_and_add_param_group(*net, opt, 0.01);  // all present already: no new group
  CHECK(opt.param_groups().size() == 2);
}

TEST_CASE("BackboneFinetuning trains the head, then the backbone from the given epoch with its own lr",
          "[finetuning]") {
  const auto root = temp_root("backbone");
  Data data;
  torch::manual_seed(5);
  TwoPart m;
  const auto backbone_before = weights(*m.backbone);
  const auto head_before = weights(*m.head);

  SECTION("frozen before the unfreeze epoch") {
    volt::Trainer<TwoPart, Data, volt::SingleDevice, volt::precision::FP32, Backbone> trainer{
        options(root, 2), volt::SingleDevice{}, volt::precision::FP32{}, Backbone{{.unfreeze_backbone_at_epoch = 2}}};
    trainer.fit(m, data);
    CHECK(equal(weights(*m.backbone), backbone_before));
    CHECK_FALSE(equal(weights(*m.head), head_before));
    CHECK_FALSE(std::get<Backbone>(trainer.callbacks()).previous_backbone_lr());
  }
  SECTION("unfrozen at epoch 2: lr 0.1 x 0.1, then doubled, as Lightning's defaults") {
    volt::Trainer<TwoPart, Data, volt::SingleDevice, volt::precision::FP32, Backbone> trainer{
        options(root, 4), volt::SingleDevice{}, volt::precision::FP32{}, Backbone{{.unfreeze_backbone_at_epoch = 2}}};
    trainer.fit(m, data);
    CHECK_FALSE(equal(weights(*m.backbone), backbone_before));
    const auto& cb = std::get<Backbone>(trainer.callbacks());
    REQUIRE(cb.previous_backbone_lr());
    CHECK(*cb.previous_backbone_lr() == Approx(0.02));
    const auto& groups = cb.internal_optimizer_metadata().at("0");
    REQUIRE(groups.size() == 2);
    CHECK(groups[1].at("lr").get<double>() == Approx(0.01));
    CHECK(groups[1].at("params").size() == 4);
    CHECK(groups[1].at("params")[0].get<std::string>() == "backbone.0.weight");
  }
  fs::remove_all(root);
}

TEST_CASE("A fit resumed after the backbone was unfrozen ends exactly as the uninterrupted one", "[finetuning]") {
  const auto root = temp_root("resume");
  Data data;
  using T = volt::Trainer<TwoPart, Data, volt::SingleDevice, volt::precision::FP32, Backbone, volt::ModelCheckpoint>;
  auto make = [&](std::int64_t epochs, const std::string& dir) {
    return T{options(root, epochs, true), volt::SingleDevice{}, volt::precision::FP32{},
             Backbone{{.unfreeze_backbone_at_epoch = 1}},
             volt::ModelCheckpoint{{.dirpath = root / dir, .save_last = true}}};
  };
  torch::manual_seed(6);
  TwoPart straight;
  torch::manual_seed(6);
  TwoPart interrupted;
  torch::manual_seed(6);
  TwoPart resumed;

  auto full = make(4, "full");
  full.fit(straight, data);
  auto first = make(3, "first");
  first.fit(interrupted, data);  // backbone unfrozen at epoch 1, checkpoint after epoch 2
  auto second = make(4, "second");
  second.fit(resumed, data, {.ckpt_path = (root / "first" / "last.ckpt").string()});

  CHECK(equal(weights(resumed), weights(straight)));
  CHECK(std::get<Backbone>(second.callbacks()).previous_backbone_lr() ==
        std::get<Backbone>(full.callbacks()).previous_backbone_lr());
  fs::remove_all(root);
}
