#pragma once
// Helpers shared by the precision tests: a fresh temp folder per test (removed at scope exit),
// TrainerOptions that write nothing but what a test asks for, a small classification DataModule
// and the process's default dtype.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include <c10/core/DefaultDtype.h>
#include <torch/torch.h>

#include <volt/core/trainer_options.hpp>
#include <volt/data/tensor_loader.hpp>

namespace volt_test {

struct PrecisionTempDir {
  std::filesystem::path path;
  explicit PrecisionTempDir(const std::string& prefix)
      : path(std::filesystem::temp_directory_path() /
             (prefix + std::to_string(::getpid()) + "_" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))) {
    std::filesystem::create_directories(path);
  }
  ~PrecisionTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  PrecisionTempDir(const PrecisionTempDir&) = delete;
  PrecisionTempDir& operator=(const PrecisionTempDir&) = delete;
};

inline volt::TrainerOptions quiet(const std::filesystem::path& root, std::int64_t epochs = 1) {
  return {.logger = false, .max_epochs = epochs, .enable_checkpointing = false, .enable_progress_bar = false,
          .enable_model_summary = false, .default_root_dir = root.string()};
}

// Three classes from the signs of two features (float32 inputs, int64 labels); 64 samples in
// 8 shuffled batches of 8 per epoch.
struct SignClasses {
  torch::Tensor x = torch::linspace(-1, 1, 64 * 4).reshape({64, 4}).roll(7, 0) *
                    torch::tensor({1.0F, -1.0F, 0.5F, 2.0F});
  torch::Tensor y = (x.select(1, 0) > 0).to(torch::kLong) + (x.select(1, 3) > 0.5).to(torch::kLong);
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 8, .shuffle = true, .seed = 3}}; }
};

inline torch::ScalarType default_dtype() { return c10::typeMetaToScalarType(c10::get_default_dtype()); }

}  // namespace volt_test
