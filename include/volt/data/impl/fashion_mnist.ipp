#pragma once
// Definitions of <volt/data/fashion_mnist.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/data/fashion_mnist.hpp>

namespace volt::data {

VOLT_INLINE FashionMNIST::FashionMNIST(FashionMNISTOptions options) : options_(std::move(options)) {
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

VOLT_INLINE const std::array<std::string_view, 10>& FashionMNIST::class_names() {
  static constexpr std::array<std::string_view, 10> names{
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

VOLT_INLINE void FashionMNIST::setup(Stage stage) {
  switch (stage) {
    case Stage::fit:
    case Stage::validate: load_train_val(); break;
    case Stage::test:
    case Stage::predict: load_test(); break;
  }
}

VOLT_INLINE TensorLoader FashionMNIST::train_dataloader() const {
  require(train_images_, "train_dataloader", Stage::fit);
  return TensorLoader(train_images_, train_labels_,
                      {.batch_size = options_.batch_size, .shuffle = true, .seed = options_.seed});
}

VOLT_INLINE TensorLoader FashionMNIST::val_dataloader() const {
  require(val_images_, "val_dataloader", Stage::validate);
  return TensorLoader(val_images_, val_labels_, {.batch_size = eval_batch_size()});
}

VOLT_INLINE TensorLoader FashionMNIST::test_dataloader() const {
  require(test_images_, "test_dataloader", Stage::test);
  return TensorLoader(test_images_, test_labels_, {.batch_size = eval_batch_size()});
}

VOLT_INLINE TensorLoader FashionMNIST::predict_dataloader() const {
  require(test_images_, "predict_dataloader", Stage::predict);
  return TensorLoader(test_images_, test_labels_, {.batch_size = eval_batch_size()});
}

VOLT_INLINE int64_t FashionMNIST::eval_batch_size() const noexcept {
  return options_.eval_batch_size > 0 ? options_.eval_batch_size : options_.batch_size;
}

VOLT_INLINE torch::Tensor FashionMNIST::normalize(const torch::Tensor& images) {
  return images.to(torch::kFloat32).div_(255.0).sub_(mean).div_(stddev).unsqueeze(1);
}

VOLT_INLINE torch::Tensor FashionMNIST::to_unit_range(const torch::Tensor& images) {
  return images.to(torch::kFloat32).div_(255.0).unsqueeze(1);
}

VOLT_INLINE torch::Tensor FashionMNIST::to_symmetric_range(const torch::Tensor& images) {
  return images.to(torch::kFloat32).div_(255.0).sub_(0.5).div_(0.5).unsqueeze(1);
}

VOLT_INLINE torch::Tensor FashionMNIST::transformed(const torch::Tensor& images) const {
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

VOLT_INLINE bool FashionMNIST::default_root_used() const {
  // Compare normalized, so "/usr/share/datasets/fashion-mnist/" counts as the default too.
  std::filesystem::path root = options_.root.lexically_normal();
  if (!root.has_filename()) root = root.parent_path();
  return root == std::filesystem::path(default_root);
}

VOLT_INLINE std::string FashionMNIST::missing_fix() const {
  if (default_root_used()) {
    return "install it with: apt-get install dataset-fashion-mnist, or pass .root = <folder "
           "holding the IDX files>";
  }
  return fmt::format("put the four IDX files ({}, each with or without .gz) in that folder, or "
                     "pass .root = <folder holding the IDX files> (apt-get install "
                     "dataset-fashion-mnist installs them in {})",
                     fmt::join(file_names, ", "), default_root);
}

VOLT_INLINE std::string FashionMNIST::corrupt_fix() const {
  if (default_root_used()) {
    return "reinstall it with: apt-get install --reinstall dataset-fashion-mnist, or pass "
           ".root = <folder holding the IDX files>";
  }
  return "replace the file with an intact copy (apt-get install dataset-fashion-mnist installs "
         "one in /usr/share/datasets/fashion-mnist), or pass .root = <folder holding the IDX "
         "files>";
}

VOLT_INLINE std::filesystem::path FashionMNIST::gz_path(std::string_view name) const {
  return options_.root / (std::string(name) + ".gz");
}

VOLT_INLINE std::filesystem::path FashionMNIST::find_file(std::string_view name) const {
  std::error_code ec;
  if (auto gz = gz_path(name); std::filesystem::exists(gz, ec)) return gz;
  if (auto plain = options_.root / std::string(name); std::filesystem::exists(plain, ec)) {
    return plain;
  }
  return {};
}

VOLT_INLINE std::pair<torch::Tensor, torch::Tensor> FashionMNIST::read_pair(std::string_view images_name,
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

VOLT_INLINE void FashionMNIST::load_train_val() {
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

VOLT_INLINE void FashionMNIST::load_test() {
  if (test_images_.defined()) return;
  auto [images, labels] = read_pair(file_names[2], file_names[3]);
  torch::NoGradGuard no_grad;
  torch::Tensor test_images = transformed(images);
  test_labels_ = labels.to(torch::kInt64);
  test_images_ = std::move(test_images);  // last: it is what marks the split as loaded
}

VOLT_INLINE void FashionMNIST::require(const torch::Tensor& split, std::string_view method, Stage stage) {
  if (!split.defined()) {
    throw std::logic_error(fmt::format(
        "volt::data::FashionMNIST::{}(): the data are not loaded; call setup(volt::Stage::{}) "
        "first (the Trainer does this before it asks for loaders)",
        method, to_string(stage)));
  }
}

VOLT_INLINE void FashionMNIST::require_files(std::span<const std::string_view> names) const {
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

}  // namespace volt::data
