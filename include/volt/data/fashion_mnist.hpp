#pragma once
// FashionMNIST as a Lightning-style DataModule: prepare_data() checks the files, setup(stage)
// loads what the stage needs into memory once, and the *_dataloader() methods hand out
// TensorLoaders over those tensors (a whole split is 172 MB as float32, so keeping it in
// memory and slicing batches out of it beats decoding examples one by one).
//
// The files come from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) or
// any folder holding the four IDX files, gzipped or not.
#include <volt/core/stage.hpp>
#include <volt/data/idx.hpp>
#include <volt/data/tensor_loader.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volt::data {

struct FashionMNISTOptions {
  std::filesystem::path root = "/usr/share/datasets/fashion-mnist";
  int64_t batch_size = 64;
  int64_t eval_batch_size = 0;  // 0: same as batch_size
  int64_t val_size = 5000;      // taken from the 60000 training examples
  std::uint64_t seed = 42;      // drives the train/val split and the training shuffle
  // How the uint8 images [N, 28, 28] become the float images the loaders hand out, applied once
  // per split when it loads (Lightning's torchvision `transform`). Empty: FashionMNIST::normalize
  // (standardized with the training set's mean and stddev). FashionMNIST::to_unit_range is
  // torchvision's ToTensor() ([0, 1]); FashionMNIST::to_symmetric_range is ToTensor() then
  // Normalize((0.5,), (0.5,)) ([-1, 1], what a GAN with a tanh generator needs). A transform
  // must keep the N images in the first dimension.
  std::function<torch::Tensor(const torch::Tensor&)> transform{};
};

class FashionMNIST {
 public:
  static constexpr int64_t num_classes = 10;
  static constexpr int64_t image_size = 28;
  static constexpr int64_t train_file_size = 60000;  // examples in the official training files
  // Per-pixel statistics of the training set (of x / 255), used for normalization.
  static constexpr double mean = 0.2860;
  static constexpr double stddev = 0.3530;
  static constexpr std::string_view default_root = "/usr/share/datasets/fashion-mnist";
  static constexpr std::string_view package = "dataset-fashion-mnist";
  static constexpr std::array<std::string_view, 4> file_names{
      "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
      "t10k-labels-idx1-ubyte"};

  explicit FashionMNIST(FashionMNISTOptions options = {}) : options_(std::move(options)) {
    auto invalid = [](std::string_view name, int64_t value, std::string_view allowed) {
      return std::invalid_argument(fmt::format("volt::data::FashionMNIST: {} = {} is invalid; "
                                               "allowed: {}",
                                               name, value, allowed));
    };
    if (options_.batch_size < 1) throw invalid("batch_size", options_.batch_size, "batch_size >= 1");
    if (options_.eval_batch_size < 0) {
      throw invalid("eval_batch_size", options_.eval_batch_size,
                    "eval_batch_size >= 1, or 0 for the same as batch_size");
    }
    if (options_.val_size < 0 || options_.val_size >= train_file_size) {
      throw invalid("val_size", options_.val_size,
                    "0 <= val_size < 60000 (the validation split is taken from the 60000 "
                    "training examples)");
    }
  }

  static const std::array<std::string_view, 10>& class_names() {
    static constexpr std::array<std::string_view, 10> names{
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
  }

  // Checks that the four files are there (it downloads nothing: the files come from a
  // package or a folder the user names), reporting every missing one at once.
  void prepare_data() const { require_files(file_names); }

  // Loads the splits a stage needs: train and val for fit and validate, test for test and
  // predict. Loading is idempotent, so the Trainer may call setup for every entry point.
  void setup(Stage stage) {
    switch (stage) {
      case Stage::fit:
      case Stage::validate: load_train_val(); break;
      case Stage::test:
      case Stage::predict: load_test(); break;
    }
  }

  TensorLoader train_dataloader() const {
    require(train_images_, "train_dataloader", Stage::fit);
    return TensorLoader(train_images_, train_labels_,
                        {.batch_size = options_.batch_size, .shuffle = true, .seed = options_.seed});
  }
  TensorLoader val_dataloader() const {
    require(val_images_, "val_dataloader", Stage::validate);
    return TensorLoader(val_images_, val_labels_, {.batch_size = eval_batch_size()});
  }
  TensorLoader test_dataloader() const {
    require(test_images_, "test_dataloader", Stage::test);
    return TensorLoader(test_images_, test_labels_, {.batch_size = eval_batch_size()});
  }
  TensorLoader predict_dataloader() const {
    require(test_images_, "predict_dataloader", Stage::predict);
    return TensorLoader(test_images_, test_labels_, {.batch_size = eval_batch_size()});
  }

  const FashionMNISTOptions& options() const noexcept { return options_; }
  int64_t eval_batch_size() const noexcept {
    return options_.eval_batch_size > 0 ? options_.eval_batch_size : options_.batch_size;
  }

  // The loaded splits: images float32 [N, 1, 28, 28] normalized, labels int64 [N];
  // undefined tensors until setup() loads them.
  const torch::Tensor& train_images() const noexcept { return train_images_; }
  const torch::Tensor& train_labels() const noexcept { return train_labels_; }
  const torch::Tensor& val_images() const noexcept { return val_images_; }
  const torch::Tensor& val_labels() const noexcept { return val_labels_; }
  const torch::Tensor& test_images() const noexcept { return test_images_; }
  const torch::Tensor& test_labels() const noexcept { return test_labels_; }

  // uint8 images [N, 28, 28] -> float32 [N, 1, 28, 28], (x / 255 - mean) / stddev.
  static torch::Tensor normalize(const torch::Tensor& images) {
    return images.to(torch::kFloat32).div_(255.0).sub_(mean).div_(stddev).unsqueeze(1);
  }
  // uint8 images [N, 28, 28] -> float32 [N, 1, 28, 28], x / 255 (torchvision's ToTensor()).
  static torch::Tensor to_unit_range(const torch::Tensor& images) {
    return images.to(torch::kFloat32).div_(255.0).unsqueeze(1);
  }
  // uint8 images [N, 28, 28] -> float32 [N, 1, 28, 28], (x / 255 - 0.5) / 0.5, in [-1, 1].
  static torch::Tensor to_symmetric_range(const torch::Tensor& images) {
    return images.to(torch::kFloat32).div_(255.0).sub_(0.5).div_(0.5).unsqueeze(1);
  }

 private:
  // The options' transform (normalize when none), checked to keep one row per image.
  torch::Tensor transformed(const torch::Tensor& images) const {
    if (!options_.transform) return normalize(images);
    torch::Tensor out = options_.transform(images);
    if (!out.defined() || out.dim() < 1 || out.size(0) != images.size(0))
      throw std::invalid_argument(fmt::format(
          "volt::data::FashionMNIST: the transform turned {} images [{}] into {}; it must return a tensor whose first "
          "dimension is the {} images (e.g. [N, 1, 28, 28]), as FashionMNIST::normalize does.",
          images.size(0), fmt::join(images.sizes(), ", "),
          out.defined() ? fmt::format("[{}]", fmt::join(out.sizes(), ", ")) : std::string("an undefined tensor"),
          images.size(0)));
    return out;
  }

  bool default_root_used() const {
    // Compare normalized, so "/usr/share/datasets/fashion-mnist/" counts as the default too.
    std::filesystem::path root = options_.root.lexically_normal();
    if (!root.has_filename()) root = root.parent_path();
    return root == std::filesystem::path(default_root);
  }

  // The advice for a missing file or folder: the package for the default folder, else both.
  std::string missing_fix() const {
    if (default_root_used()) {
      return "install it with: apt-get install dataset-fashion-mnist, or pass .root = <folder "
             "holding the IDX files>";
    }
    return fmt::format("put the four IDX files ({}, each with or without .gz) in that folder, or "
                       "pass .root = <folder holding the IDX files> (apt-get install "
                       "dataset-fashion-mnist installs them in {})",
                       fmt::join(file_names, ", "), default_root);
  }
  // The advice for a file that is there but unreadable or malformed.
  std::string corrupt_fix() const {
    if (default_root_used()) {
      return "reinstall it with: apt-get install --reinstall dataset-fashion-mnist, or pass "
             ".root = <folder holding the IDX files>";
    }
    return "replace the file with an intact copy (apt-get install dataset-fashion-mnist installs "
           "one in /usr/share/datasets/fashion-mnist), or pass .root = <folder holding the IDX "
           "files>";
  }

  // Throws a DatasetError naming the folder, or every missing file among `names`, and the fix.
  template <std::size_t N>
  void require_files(const std::array<std::string_view, N>& names) const {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(options_.root, ec)) {
      throw DatasetError(fmt::format("volt: Fashion-MNIST folder \"{}\" {}; {}",
                                     options_.root.string(),
                                     fs::exists(options_.root, ec) ? "is not a folder"
                                                                   : "does not exist",
                                     missing_fix()));
    }
    std::vector<std::string> missing;
    for (std::string_view name : names) {
      if (find_file(name).empty()) missing.push_back(gz_path(name).string());
    }
    if (!missing.empty()) {
      throw DatasetError(fmt::format(
          "volt: Fashion-MNIST file{} not found (with or without .gz): \"{}\"; {}",
          missing.size() > 1 ? "s" : "", fmt::join(missing, "\", \""), missing_fix()));
    }
  }

  std::filesystem::path gz_path(std::string_view name) const {
    return options_.root / (std::string(name) + ".gz");
  }
  // The file's path, preferring the .gz; empty when neither exists.
  std::filesystem::path find_file(std::string_view name) const {
    std::error_code ec;
    if (auto gz = gz_path(name); std::filesystem::exists(gz, ec)) return gz;
    if (auto plain = options_.root / std::string(name); std::filesystem::exists(plain, ec)) {
      return plain;
    }
    return {};
  }

  // Reads one images/labels pair, checking shapes, counts and label range.
  std::pair<torch::Tensor, torch::Tensor> read_pair(std::string_view images_name,
                                                    std::string_view labels_name) const {
    require_files(std::array{images_name, labels_name});  // one message for both, if missing
    const std::filesystem::path images_path = find_file(images_name);
    const std::filesystem::path labels_path = find_file(labels_name);
    torch::Tensor images = read_idx(images_path, corrupt_fix());
    torch::Tensor labels = read_idx(labels_path, corrupt_fix());
    auto bad = [&](const std::filesystem::path& path, std::string_view problem) {
      return DatasetError(fmt::format("volt: Fashion-MNIST file \"{}\": {}; {}", path.string(),
                                      problem, corrupt_fix()));
    };
    if (images.dim() != 3 || images.size(1) != image_size || images.size(2) != image_size) {
      throw bad(images_path, fmt::format("expected images of shape [N, 28, 28], found [{}]",
                                         fmt::join(images.sizes(), ", ")));
    }
    if (labels.dim() != 1) {
      throw bad(labels_path, fmt::format("expected labels of shape [N], found [{}]",
                                         fmt::join(labels.sizes(), ", ")));
    }
    if (labels.size(0) != images.size(0)) {
      throw bad(labels_path, fmt::format("holds {} labels but \"{}\" holds {} images",
                                         labels.size(0), images_path.string(), images.size(0)));
    }
    if (labels.numel() > 0) {
      if (const int64_t top = labels.max().item<int64_t>(); top >= num_classes) {
        throw bad(labels_path, fmt::format("label {} found; Fashion-MNIST labels are 0 to 9", top));
      }
    }
    return {std::move(images), std::move(labels)};
  }

  void load_train_val() {
    if (train_images_.defined()) return;
    auto [images, labels] = read_pair(file_names[0], file_names[1]);
    const int64_t n = images.size(0);
    const int64_t val = options_.val_size;
    if (val >= n) {
      throw std::invalid_argument(fmt::format(
          "volt::data::FashionMNIST: val_size = {} is invalid for the training files in \"{}\", "
          "which hold {} examples; allowed: 0 <= val_size < {}",
          val, options_.root.string(), n, n));
    }
    // Built in locals and assigned together, so a failure leaves nothing half-loaded and a
    // later setup() tries again.
    torch::NoGradGuard no_grad;
    torch::Tensor train_images, train_labels, val_images, val_labels;
    if (val == 0) {
      train_images = transformed(images);
      train_labels = labels.to(torch::kInt64);
      val_images = transformed(images.narrow(0, 0, 0));
      val_labels = torch::empty({0}, torch::kInt64);
    } else {
      // A fixed permutation drawn from the seed (on a private generator, so the split does
      // not depend on anything drawn before); val is its last val_size examples. The uint8
      // data are split before conversion, which moves a quarter of the bytes.
      at::Generator gen = at::detail::createCPUGenerator(options_.seed);
      const torch::Tensor perm = at::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong));
      const torch::Tensor train_idx = perm.narrow(0, 0, n - val);
      const torch::Tensor val_idx = perm.narrow(0, n - val, val);
      train_images = transformed(images.index_select(0, train_idx));
      train_labels = labels.index_select(0, train_idx).to(torch::kInt64);
      val_images = transformed(images.index_select(0, val_idx));
      val_labels = labels.index_select(0, val_idx).to(torch::kInt64);
    }
    val_images_ = std::move(val_images);
    val_labels_ = std::move(val_labels);
    train_labels_ = std::move(train_labels);
    train_images_ = std::move(train_images);  // last: it is what marks the split as loaded
  }

  void load_test() {
    if (test_images_.defined()) return;
    auto [images, labels] = read_pair(file_names[2], file_names[3]);
    torch::NoGradGuard no_grad;
    torch::Tensor test_images = transformed(images);
    test_labels_ = labels.to(torch::kInt64);
    test_images_ = std::move(test_images);  // last: it is what marks the split as loaded
  }

  static void require(const torch::Tensor& split, std::string_view method, Stage stage) {
    if (!split.defined()) {
      throw std::logic_error(fmt::format(
          "volt::data::FashionMNIST::{}(): the data are not loaded; call setup(volt::Stage::{}) "
          "first (the Trainer does this before it asks for loaders)",
          method, to_string(stage)));
    }
  }

  FashionMNISTOptions options_;
  torch::Tensor train_images_, train_labels_;
  torch::Tensor val_images_, val_labels_;
  torch::Tensor test_images_, test_labels_;
};

}  // namespace volt::data
