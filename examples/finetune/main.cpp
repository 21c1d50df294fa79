// Fine-tuning, Lightning's seed example in C++: load a pretrained backbone's weights (safetensors),
// put a new head on it for a new task, train the head with the backbone frozen, then unfreeze the
// backbone with its own learning rate (volt::BackboneFinetuning), and compare with the same
// network trained from scratch for the same number of steps.
//
// Upstream task: FashionMNIST's 10 classes. New task, from a small labelled set: tell a Shirt from
// a T-shirt/top (a 2-class split of the labels, and the pair most often confused). Without
// --backbone (or when the file is missing) the backbone is pretrained here first and written to
// that file.
//
// Exit status: 0 when the fine-tuned model beats the one trained from scratch on the test set,
// 1 when it does not, 77 when the FashionMNIST files are not installed (Debian
// dataset-fashion-mnist).
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include <volt/callbacks/finetuning.hpp>
#include <volt/checkpoint/module_state.hpp>
#include <volt/checkpoint/safetensors.hpp>
#include <volt/data/fashion_mnist.hpp>
#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

namespace fs = std::filesystem;

// conv(1->8) -> pool -> conv(8->16) -> pool -> fc(64): the part that transfers.
torch::nn::Sequential make_backbone() {
  using namespace torch::nn;
  return Sequential(Conv2d(Conv2dOptions(1, 8, 3).padding(1)), ReLU(), MaxPool2d(2),
                    Conv2d(Conv2dOptions(8, 16, 3).padding(1)), ReLU(), MaxPool2d(2), Flatten(),
                    Linear(16 * 7 * 7, 64), ReLU());
}

// A backbone and a linear head; the backbone is registered as "backbone", where
// BackboneFinetuning looks for it. configure_optimizers hands over the trainable parameters only.
struct Classifier : torch::nn::Module {
  torch::nn::Sequential backbone{nullptr};
  torch::nn::Linear head{nullptr};
  double lr;

  Classifier(std::int64_t classes, double learning_rate) : lr(learning_rate) {
    backbone = register_module("backbone", make_backbone());
    head = register_module("head", torch::nn::Linear(64, classes));
  }
  torch::Tensor forward(const torch::Tensor& x) { return head(backbone->forward(x)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t) {
    return torch::nn::functional::cross_entropy(forward(batch.data), batch.target);
  }
  auto configure_optimizers() {
    return torch::optim::Adam(volt::trainable_parameters(*this), torch::optim::AdamOptions(lr));
  }
};

struct Split {
  torch::Tensor x, y;
  std::int64_t batch_size = 64;
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = batch_size, .shuffle = true}}; }
};

// The new task's examples: T-shirt/top (label 0 -> class 0) and Shirt (label 6 -> class 1).
std::pair<torch::Tensor, torch::Tensor> shirts(const torch::Tensor& images, const torch::Tensor& labels) {
  const auto keep = (labels.eq(0) | labels.eq(6)).nonzero().squeeze(1);
  return {images.index_select(0, keep), labels.index_select(0, keep).eq(6).to(torch::kLong)};
}

double accuracy(Classifier& model, const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < x.size(0); i += 1000) {
    const auto logits = model.forward(x.slice(0, i, i + 1000));
    correct += logits.argmax(1).eq(y.slice(0, i, i + 1000)).sum().item<std::int64_t>();
  }
  model.train();
  return static_cast<double>(correct) / static_cast<double>(x.size(0));
}

volt::TrainerOptions quiet(std::int64_t epochs, const fs::path& root) {
  return {.logger = false, .max_epochs = epochs, .enable_checkpointing = false, .enable_progress_bar = false,
          .enable_model_summary = false, .default_root_dir = root};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"volt fine-tuning example: a pretrained backbone with a new head against training from scratch"};
  std::string data_root{volt::data::FashionMNIST::default_root};
  std::string backbone_path = "finetune_out/backbone.safetensors";
  std::int64_t pretrain_steps = 1500, samples = 512, epochs = 4, unfreeze_at = 2, seed = 0;
  double lr = 1e-3;
  app.add_option("--data-root", data_root, "folder with the FashionMNIST IDX files");
  app.add_option("--backbone", backbone_path, "safetensors file of the backbone (written here when missing)");
  app.add_option("--pretrain-steps", pretrain_steps, "steps of 10-class pretraining when the backbone is missing");
  app.add_option("--samples", samples, "labelled examples of the new task");
  app.add_option("--epochs", epochs, "epochs on the new task (both runs)");
  app.add_option("--unfreeze-at", unfreeze_at, "epoch at which the backbone is unfrozen");
  app.add_option("--lr", lr, "learning rate of the new head (and of the model trained from scratch)");
  app.add_option("--seed", seed, "seed of weights and data order");
  CLI11_PARSE(app, argc, argv);

  for (auto name : volt::data::FashionMNIST::file_names) {
    if (!fs::exists(fs::path(data_root) / (std::string(name) + ".gz")) && !fs::exists(fs::path(data_root) / name)) {
      std::cerr << fmt::format("skipped: FashionMNIST is not in {} (install the Debian package {} or give "
                               "--data-root)\n",
                               data_root, volt::data::FashionMNIST::package);
      return 77;
    }
  }
  volt::seed_everything(static_cast<std::uint64_t>(seed));
  const fs::path out_dir = fs::path(backbone_path).has_parent_path() ? fs::path(backbone_path).parent_path() : ".";
  fs::create_directories(out_dir);
  volt::data::FashionMNIST fashion{{.root = data_root}};
  fashion.setup(volt::Stage::fit);
  fashion.setup(volt::Stage::test);

  // 1. The backbone: from the file, or pretrained on the 10 classes and written to it.
  if (!fs::exists(backbone_path)) {
    Classifier upstream(10, 1e-3);
    Split all{fashion.train_images(), fashion.train_labels(), 64};
    volt::TrainerOptions pretrain = quiet(1, out_dir);
    pretrain.max_epochs.reset();  // max_steps alone ends the run
    pretrain.max_steps = pretrain_steps;
    volt::Trainer<Classifier, Split> trainer{pretrain};
    trainer.fit(upstream, all);
    volt::checkpoint::save_safetensors(backbone_path, volt::checkpoint::state_dict(*upstream.backbone));
    std::cout << fmt::format("pretrained the backbone for {} steps on 10 classes (test accuracy {:.4f}); wrote {}\n",
                             pretrain_steps, accuracy(upstream, fashion.test_images(), fashion.test_labels()),
                             backbone_path);
  }

  // 2. The new task from a small labelled set.
  auto [all_x, all_y] = shirts(fashion.train_images(), fashion.train_labels());
  const auto x = all_x.slice(0, 0, samples);
  const auto y = all_y.slice(0, 0, samples);
  const auto [test_x, test_y] = shirts(fashion.test_images(), fashion.test_labels());

  // 3. Fine-tuned: the loaded backbone, a new 2-class head, backbone frozen until unfreeze_at.
  volt::seed_everything(static_cast<std::uint64_t>(seed) + 1);
  Classifier finetuned(2, lr);
  volt::checkpoint::load_state_dict(*finetuned.backbone, volt::checkpoint::load_safetensors(backbone_path),
                                    backbone_path);
  Split task{x, y, 32};
  using FinetuneTrainer = volt::Trainer<Classifier, Split, volt::SingleDevice, volt::precision::FP32,
                                        volt::BackboneFinetuning<>>;
  FinetuneTrainer finetune_trainer{quiet(epochs, out_dir), volt::SingleDevice{}, volt::precision::FP32{},
                                   volt::BackboneFinetuning<>{{.unfreeze_backbone_at_epoch = unfreeze_at}}};
  finetune_trainer.fit(finetuned, task);

  // 4. From scratch: the same network, every parameter trained from the first step.
  volt::seed_everything(static_cast<std::uint64_t>(seed) + 1);
  Classifier scratch(2, lr);
  volt::Trainer<Classifier, Split> scratch_trainer{quiet(epochs, out_dir)};
  scratch_trainer.fit(scratch, task);

  const double finetuned_acc = accuracy(finetuned, test_x, test_y);
  const double scratch_acc = accuracy(scratch, test_x, test_y);
  std::cout << fmt::format("new task ({} labelled examples, {} steps each): fine-tuned {:.4f}, from scratch {:.4f}\n",
                           samples, finetune_trainer.global_step(), finetuned_acc, scratch_acc);
  if (finetune_trainer.global_step() != scratch_trainer.global_step()) {
    std::cerr << "the two runs took different numbers of steps\n";
    return 1;
  }
  if (finetuned_acc <= scratch_acc) {
    std::cerr << "the fine-tuned model did not beat training from scratch\n";
    return 1;
  }
  std::cout << "the fine-tuned model beats training from scratch\n";
  return 0;
}
