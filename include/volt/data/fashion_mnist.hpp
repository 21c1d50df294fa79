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
#include <span>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <volt/detail/config.hpp>

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

  VOLT_INLINE explicit FashionMNIST(FashionMNISTOptions options = {});

  VOLT_INLINE static const std::array<std::string_view, 10>& class_names();

  // Checks that the four files are there (it downloads nothing: the files come from a
  // package or a folder the user names), reporting every missing one at once.
  void prepare_data() const { require_files(file_names); }

  // Loads the splits a stage needs: train and val for fit and validate, test for test and
  // predict. Loading is idempotent, so the Trainer may call setup for every entry point.
  VOLT_INLINE void setup(Stage stage);

  VOLT_INLINE TensorLoader train_dataloader() const;
  VOLT_INLINE TensorLoader val_dataloader() const;
  VOLT_INLINE TensorLoader test_dataloader() const;
  VOLT_INLINE TensorLoader predict_dataloader() const;

  const FashionMNISTOptions& options() const noexcept { return options_; }
  VOLT_INLINE int64_t eval_batch_size() const noexcept;

  // The loaded splits: images float32 [N, 1, 28, 28] normalized, labels int64 [N];
  // undefined tensors until setup() loads them.
  const torch::Tensor& train_images() const noexcept { return train_images_; }
  const torch::Tensor& train_labels() const noexcept { return train_labels_; }
  const torch::Tensor& val_images() const noexcept { return val_images_; }
  const torch::Tensor& val_labels() const noexcept { return val_labels_; }
  const torch::Tensor& test_images() const noexcept { return test_images_; }
  const torch::Tensor& test_labels() const noexcept { return test_labels_; }

  // uint8 images [N, 28, 28] -> float32 [N, 1, 28, 28], (x / 255 - mean) / stddev.
  VOLT_INLINE static torch::Tensor normalize(const torch::Tensor& images);
  // uint8 images [N, 28, 28] -> float32 [N, 1, 28, 28], x / 255 (torchvision's ToTensor()).
  VOLT_INLINE static torch::Tensor to_unit_range(const torch::Tensor& images);
  // uint8 images [N, 28, 28] -> float32 [N, 1, 28, 28], (x / 255 - 0.5) / 0.5, in [-1, 1].
  VOLT_INLINE static torch::Tensor to_symmetric_range(const torch::Tensor& images);

 private:
  // The options' transform (normalize when none), checked to keep one row per image.
  VOLT_INLINE torch::Tensor transformed(const torch::Tensor& images) const;

  VOLT_INLINE bool default_root_used() const;

  // The advice for a missing file or folder: the package for the default folder, else both.
  VOLT_INLINE std::string missing_fix() const;
  // The advice for a file that is there but unreadable or malformed.
  VOLT_INLINE std::string corrupt_fix() const;

  // Throws a DatasetError naming the folder, or every missing file among `names`, and the fix.
  VOLT_INLINE void require_files(std::span<const std::string_view> names) const;

  VOLT_INLINE std::filesystem::path gz_path(std::string_view name) const;
  // The file's path, preferring the .gz; empty when neither exists.
  VOLT_INLINE std::filesystem::path find_file(std::string_view name) const;

  // Reads one images/labels pair, checking shapes, counts and label range.
  VOLT_INLINE std::pair<torch::Tensor, torch::Tensor> read_pair(std::string_view images_name,
                                                    std::string_view labels_name) const;

  VOLT_INLINE void load_train_val();

  VOLT_INLINE void load_test();

  VOLT_INLINE static void require(const torch::Tensor& split, std::string_view method, Stage stage);

  FashionMNISTOptions options_;
  torch::Tensor train_images_, train_labels_;
  torch::Tensor val_images_, val_labels_;
  torch::Tensor test_images_, test_labels_;
};

}  // namespace volt::data

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/data/impl/fashion_mnist.ipp>
#endif
