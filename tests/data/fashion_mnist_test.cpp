#include <volt/data/fashion_mnist.hpp>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Contains;
using volt::Stage;
using volt::data::DatasetError;
using volt::data::FashionMNIST;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("volt_fmnist_test_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// A fake Fashion-MNIST: random pixels, except that pixel (0, 0) of train image i is i and of
// test image i is 200 + i, so an example can be identified after splitting and normalizing.
struct FakeData {
  torch::Tensor train_images, train_labels, test_images, test_labels;
  FakeData(int64_t n_train, int64_t n_test) {
    at::Generator gen = at::detail::createCPUGenerator(2024);
    auto images = [&](int64_t n, int64_t first_id) {
      torch::Tensor t = torch::randint(0, 256, {n, 28, 28}, gen, torch::kInt64);
      t.select(2, 0).select(1, 0).copy_(torch::arange(first_id, first_id + n));
      return t.to(torch::kUInt8);
    };
    train_images = images(n_train, 0);
    test_images = images(n_test, 200);
    train_labels = (torch::arange(n_train) % 10).to(torch::kUInt8);
    test_labels = (torch::arange(n_test) * 3 % 10).to(torch::kUInt8);
  }
  void write(const fs::path& root, const std::string& ext = ".gz") const {
    fs::create_directories(root);
    volt::data::write_idx(root / ("train-images-idx3-ubyte" + ext), train_images);
    volt::data::write_idx(root / ("train-labels-idx1-ubyte" + ext), train_labels);
    volt::data::write_idx(root / ("t10k-images-idx3-ubyte" + ext), test_images);
    volt::data::write_idx(root / ("t10k-labels-idx1-ubyte" + ext), test_labels);
  }
};

// The ids (pixel (0, 0) before normalization) of a normalized image batch.
std::vector<int64_t> ids_of(const torch::Tensor& images) {
  const torch::Tensor raw =
      ((images.select(1, 0).select(1, 0).select(1, 0) * FashionMNIST::stddev + FashionMNIST::mean) * 255)
          .round()
          .to(torch::kInt64)
          .contiguous();
  return {raw.data_ptr<int64_t>(), raw.data_ptr<int64_t>() + raw.numel()};
}

std::vector<int64_t> range(int64_t first, int64_t last) {
  std::vector<int64_t> v;
  for (int64_t i = first; i < last; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST_CASE("FashionMNIST options, constants and class names", "[data][fashion_mnist]") {
  STATIC_REQUIRE(FashionMNIST::num_classes == 10);
  const volt::data::FashionMNIST data{{.batch_size = 32}};  // the design's spelling
  CHECK(data.options().batch_size == 32);
  CHECK(data.options().root == fs::path("/usr/share/datasets/fashion-mnist"));
  CHECK(data.options().val_size == 5000);
  CHECK(data.options().seed == 42);
  CHECK(data.eval_batch_size() == 32);
  CHECK(FashionMNIST{{.batch_size = 32, .eval_batch_size = 100}}.eval_batch_size() == 100);

  const auto& names = FashionMNIST::class_names();
  REQUIRE(names.size() == 10);
  CHECK(names[0] == "T-shirt/top");
  CHECK(names[5] == "Sandal");
  CHECK(names[9] == "Ankle boot");
  CHECK(&names == &FashionMNIST::class_names());
}

TEST_CASE("FashionMNIST rejects invalid options", "[data][fashion_mnist]") {
  REQUIRE_THROWS_AS(FashionMNIST({.val_size = 60000}), std::invalid_argument);
  REQUIRE_THROWS_WITH(FashionMNIST({.val_size = 60000}),
                      Contains("val_size = 60000") && Contains("0 <= val_size < 60000"));
  REQUIRE_THROWS_WITH(FashionMNIST({.val_size = -1}), Contains("val_size = -1"));
  REQUIRE_THROWS_WITH(FashionMNIST({.batch_size = 0}),
                      Contains("batch_size = 0") && Contains("batch_size >= 1"));
  REQUIRE_THROWS_WITH(FashionMNIST({.eval_batch_size = -2}), Contains("eval_batch_size = -2"));
  REQUIRE_NOTHROW(FashionMNIST({.val_size = 0}));
  REQUIRE_NOTHROW(FashionMNIST({.val_size = 59999}));
}

TEST_CASE("FashionMNIST loads a small fake dataset", "[data][fashion_mnist]") {
  TempDir dir;
  const FakeData fake(100, 20);
  fake.write(dir.path);

  FashionMNIST data{{.root = dir.path, .batch_size = 16, .val_size = 20, .seed = 7}};
  REQUIRE_NOTHROW(data.prepare_data());
  data.setup(Stage::fit);

  SECTION("shapes and dtypes") {
    CHECK(data.train_images().sizes() == torch::IntArrayRef({80, 1, 28, 28}));
    CHECK(data.train_images().dtype() == torch::kFloat32);
    CHECK(data.train_labels().sizes() == torch::IntArrayRef({80}));
    CHECK(data.train_labels().dtype() == torch::kInt64);
    CHECK(data.val_images().sizes() == torch::IntArrayRef({20, 1, 28, 28}));
    CHECK(data.val_labels().sizes() == torch::IntArrayRef({20}));
    CHECK_FALSE(data.test_images().defined());  // fit does not load the test split
  }
  SECTION("normalization is (x / 255 - 0.2860) / 0.3530, pairing kept") {
    const std::vector<int64_t> ids = ids_of(data.train_images());
    for (std::size_t k = 0; k < ids.size(); k += 13) {
      const int64_t i = ids[k];
      const torch::Tensor raw = fake.train_images[i].to(torch::kFloat32);
      const torch::Tensor expected = (raw / 255.0 - 0.2860) / 0.3530;
      CHECK(torch::allclose(data.train_images()[static_cast<int64_t>(k)][0], expected, 1e-5, 1e-5));
      CHECK(data.train_labels()[static_cast<int64_t>(k)].item<int64_t>() == i % 10);
    }
  }
  SECTION("train and val partition the training files") {
    std::vector<int64_t> all = ids_of(data.train_images());
    const std::vector<int64_t> val = ids_of(data.val_images());
    all.insert(all.end(), val.begin(), val.end());
    std::sort(all.begin(), all.end());
    CHECK(all == range(0, 100));
  }
  SECTION("the split is reproducible from the seed and changes with it") {
    FashionMNIST same{{.root = dir.path, .batch_size = 16, .val_size = 20, .seed = 7}};
    same.setup(Stage::validate);
    CHECK(ids_of(same.val_images()) == ids_of(data.val_images()));
    CHECK(torch::equal(same.train_images(), data.train_images()));
    FashionMNIST other{{.root = dir.path, .batch_size = 16, .val_size = 20, .seed = 8}};
    other.setup(Stage::fit);
    CHECK(ids_of(other.val_images()) != ids_of(data.val_images()));
  }
  SECTION("setup is idempotent") {
    const void* before = data.train_images().data_ptr();
    data.setup(Stage::fit);
    data.setup(Stage::validate);
    CHECK(data.train_images().data_ptr() == before);
  }
  SECTION("loaders") {
    volt::data::TensorLoader train = data.train_dataloader();
    CHECK(train.options().shuffle);
    CHECK(train.options().seed == 7);
    CHECK(train.options().batch_size == 16);
    CHECK(train.size() == 5);
    CHECK(train.dataset_size() == 80);
    std::vector<int64_t> seen;
    for (const auto& batch : train) {
      CHECK(batch.data.sizes() == torch::IntArrayRef({16, 1, 28, 28}));
      const auto ids = ids_of(batch.data);
      seen.insert(seen.end(), ids.begin(), ids.end());
    }
    CHECK(seen != ids_of(data.train_images()));  // shuffled
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> train_ids = ids_of(data.train_images());
    std::sort(train_ids.begin(), train_ids.end());
    CHECK(seen == train_ids);

    volt::data::TensorLoader val = data.val_dataloader();
    CHECK_FALSE(val.options().shuffle);
    CHECK(val.options().batch_size == 16);  // eval_batch_size 0: same as batch_size
    CHECK(val.size() == 2);
    CHECK((*val.begin()).data.data_ptr() == data.val_images().data_ptr());  // a view
  }
  SECTION("test and predict") {
    REQUIRE_THROWS_AS(data.test_dataloader(), std::logic_error);
    REQUIRE_THROWS_WITH(data.test_dataloader(), Contains("setup(volt::Stage::test)"));
    data.setup(Stage::test);
    CHECK(data.test_images().sizes() == torch::IntArrayRef({20, 1, 28, 28}));
    CHECK(data.test_labels().sizes() == torch::IntArrayRef({20}));
    CHECK(ids_of(data.test_images()) == range(200, 220));  // file order
    CHECK(torch::equal(data.test_labels(), fake.test_labels.to(torch::kInt64)));
    volt::data::TensorLoader test = data.test_dataloader();
    volt::data::TensorLoader predict = data.predict_dataloader();
    CHECK_FALSE(test.options().shuffle);
    CHECK(test.size() == 2);
    CHECK(predict.size() == 2);
    CHECK(torch::equal(predict.batch(1).data, data.test_images().narrow(0, 16, 4)));
  }
}

TEST_CASE("FashionMNIST's transform option: pixels in [-1, 1] for a GAN, [0, 1], or the user's own", "[data][fashion_mnist]") {
  TempDir dir;
  const FakeData fake(30, 10);
  fake.write(dir.path);
  const auto raw_of = [&](const torch::Tensor& ids) { return fake.train_images.index_select(0, ids).to(torch::kFloat32); };
  const auto ids_in = [](const torch::Tensor& unit_images) {  // pixel (0, 0) of [0, 1] images is id / 255
    return (unit_images.select(1, 0).select(1, 0).select(1, 0) * 255).round().to(torch::kInt64);
  };

  SECTION("to_symmetric_range: (x / 255 - 0.5) / 0.5, as ToTensor() + Normalize((0.5,), (0.5,))") {
    FashionMNIST data{{.root = dir.path, .val_size = 5, .transform = FashionMNIST::to_symmetric_range}};
    data.setup(Stage::fit);
    data.setup(Stage::test);
    REQUIRE(data.train_images().sizes() == torch::IntArrayRef({25, 1, 28, 28}));
    CHECK(data.val_images().sizes() == torch::IntArrayRef({5, 1, 28, 28}));
    CHECK(data.test_images().sizes() == torch::IntArrayRef({10, 1, 28, 28}));
    const torch::Tensor ids = ids_in((data.train_images() + 1) / 2);
    const torch::Tensor expected = (raw_of(ids) / 255.0 - 0.5) / 0.5;
    CHECK(torch::allclose(data.train_images().squeeze(1), expected, 1e-6, 1e-6));
    CHECK(data.train_images().min().item<float>() >= -1.0f);
    CHECK(data.train_images().max().item<float>() <= 1.0f);
    CHECK(data.train_images().min().item<float>() < -0.9f);  // the fake pixels span 0..255
    CHECK(data.train_images().max().item<float>() > 0.9f);
  }
  SECTION("to_unit_range: x / 255, as ToTensor()") {
    FashionMNIST data{{.root = dir.path, .val_size = 0, .transform = FashionMNIST::to_unit_range}};
    data.setup(Stage::fit);
    CHECK(data.val_images().sizes() == torch::IntArrayRef({0, 1, 28, 28}));
    CHECK(torch::allclose(data.train_images().squeeze(1), raw_of(torch::arange(30)) / 255.0));
  }
  SECTION("a user's transform, and one that loses the images, is named with the fix") {
    FashionMNIST flat{{.root = dir.path, .val_size = 0, .transform = [](const torch::Tensor& images) {
                         return images.to(torch::kFloat32).flatten(1);
                       }}};
    flat.setup(Stage::fit);
    CHECK(flat.train_images().sizes() == torch::IntArrayRef({30, 784}));
    FashionMNIST bad{{.root = dir.path, .transform = [](const torch::Tensor& images) {
                        return images.to(torch::kFloat32).mean();
                      }}};
    CHECK_THROWS_WITH(bad.setup(Stage::test),
                      Contains("the transform turned 10 images [10, 28, 28] into []") &&
                          Contains("first dimension is the 10 images"));
  }
}

TEST_CASE("FashionMNIST loaders need setup first", "[data][fashion_mnist]") {
  FashionMNIST data{{.root = "/nonexistent"}};
  REQUIRE_THROWS_AS(data.train_dataloader(), std::logic_error);
  REQUIRE_THROWS_WITH(data.train_dataloader(), Contains("setup(volt::Stage::fit)"));
  REQUIRE_THROWS_WITH(data.val_dataloader(), Contains("setup(volt::Stage::validate)"));
  REQUIRE_THROWS_WITH(data.predict_dataloader(), Contains("setup(volt::Stage::predict)"));
}

TEST_CASE("FashionMNIST eval batch size and val_size 0 and val_size too large for the files",
          "[data][fashion_mnist]") {
  TempDir dir;
  FakeData(100, 20).write(dir.path);

  FashionMNIST data{{.root = dir.path, .batch_size = 16, .eval_batch_size = 7, .val_size = 20}};
  data.setup(Stage::fit);
  CHECK(data.val_dataloader().size() == 3);  // 7 + 7 + 6
  CHECK(data.train_dataloader().options().batch_size == 16);

  FashionMNIST no_val{{.root = dir.path, .val_size = 0}};
  no_val.setup(Stage::fit);
  CHECK(ids_of(no_val.train_images()) == range(0, 100));  // all of it, in file order
  CHECK(no_val.val_images().sizes() == torch::IntArrayRef({0, 1, 28, 28}));
  CHECK(no_val.val_dataloader().size() == 0);

  FashionMNIST too_big{{.root = dir.path, .val_size = 100}};
  REQUIRE_THROWS_AS(too_big.setup(Stage::fit), std::invalid_argument);
  REQUIRE_THROWS_WITH(too_big.setup(Stage::fit),
                      Contains("val_size = 100") && Contains("hold 100 examples") &&
                          Contains("0 <= val_size < 100"));
}

TEST_CASE("FashionMNIST finds files with or without .gz and prefers .gz", "[data][fashion_mnist]") {
  TempDir dir;
  const FakeData fake(30, 10);
  fake.write(dir.path, "");  // plain files only
  FashionMNIST plain{{.root = dir.path, .val_size = 5}};
  REQUIRE_NOTHROW(plain.prepare_data());
  plain.setup(Stage::test);
  CHECK(ids_of(plain.test_images()) == range(200, 210));

  // A .gz beside the plain file wins.
  volt::data::write_idx(dir.path / "t10k-images-idx3-ubyte.gz", fake.test_images.flip(0));
  FashionMNIST both{{.root = dir.path, .val_size = 5}};
  both.setup(Stage::test);
  std::vector<int64_t> reversed = range(200, 210);
  std::reverse(reversed.begin(), reversed.end());
  CHECK(ids_of(both.test_images()) == reversed);
}

TEST_CASE("FashionMNIST missing or broken files: messages name the path and the fix",
          "[data][fashion_mnist]") {
  TempDir dir;

  SECTION("missing folder") {
    const fs::path root = dir.path / "no-such-folder";
    FashionMNIST data{{.root = root, .val_size = 5}};
    REQUIRE_THROWS_AS(data.prepare_data(), DatasetError);
    REQUIRE_THROWS_WITH(data.prepare_data(),
                        Contains(root.string()) && Contains("does not exist") &&
                            Contains("apt-get install dataset-fashion-mnist") &&
                            Contains(".root = <folder holding the IDX files>"));
    REQUIRE_THROWS_AS(data.setup(Stage::fit), DatasetError);
    REQUIRE_THROWS_AS(data.setup(Stage::test), DatasetError);
  }
  SECTION("the default folder, when absent, suggests the package") {
    if (fs::exists(FashionMNIST::default_root)) {
      WARN("skipped: " << FashionMNIST::default_root << " exists on this machine");
      return;
    }
    FashionMNIST data;
    REQUIRE_THROWS_WITH(data.prepare_data(),
                        Contains("install it with: apt-get install dataset-fashion-mnist, or pass "
                                 ".root = <folder holding the IDX files>"));
  }
  SECTION("one missing file is named") {
    FakeData(30, 10).write(dir.path);
    fs::remove(dir.path / "t10k-labels-idx1-ubyte.gz");
    FashionMNIST data{{.root = dir.path, .val_size = 5}};
    REQUIRE_THROWS_AS(data.prepare_data(), DatasetError);
    REQUIRE_THROWS_WITH(data.prepare_data(),
                        Contains("file not found (with or without .gz): \"" +
                                 (dir.path / "t10k-labels-idx1-ubyte.gz").string() + "\";") &&
                            Contains("apt-get install dataset-fashion-mnist"));
    REQUIRE_THROWS_AS(data.setup(Stage::test), DatasetError);
  }
  SECTION("a stage needs only its own files") {
    FakeData(30, 10).write(dir.path);
    fs::remove(dir.path / "train-images-idx3-ubyte.gz");
    FashionMNIST data{{.root = dir.path, .val_size = 5}};
    REQUIRE_THROWS_WITH(data.prepare_data(), Contains("train-images-idx3-ubyte.gz"));
    REQUIRE_NOTHROW(data.setup(Stage::test));
    CHECK(data.test_images().size(0) == 10);
    REQUIRE_THROWS_WITH(data.setup(Stage::fit),
                        Contains("file not found (with or without .gz): \"" +
                                 (dir.path / "train-images-idx3-ubyte.gz").string() + "\";"));
    CHECK_FALSE(data.train_images().defined());
  }
  SECTION("a truncated file") {
    FakeData(30, 10).write(dir.path);
    volt::data::write_idx(dir.path / "short", torch::zeros({30, 28, 28}, torch::kUInt8));
    std::ifstream in(dir.path / "short", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fs::remove(dir.path / "train-images-idx3-ubyte.gz");
    std::ofstream(dir.path / "train-images-idx3-ubyte", std::ios::binary) << bytes.substr(0, 1016);
    FashionMNIST data{{.root = dir.path, .val_size = 5}};
    REQUIRE_THROWS_AS(data.setup(Stage::fit), DatasetError);
    REQUIRE_THROWS_WITH(data.setup(Stage::fit),
                        Contains((dir.path / "train-images-idx3-ubyte").string()) &&
                            Contains("expected 23520 bytes of image data, found 1000") &&
                            Contains(".root = <folder holding the IDX files>"));
  }
  SECTION("labels and images that disagree") {
    const FakeData fake(30, 10);
    fake.write(dir.path);
    volt::data::write_idx(dir.path / "train-labels-idx1-ubyte.gz", fake.train_labels.narrow(0, 0, 29));
    FashionMNIST data{{.root = dir.path, .val_size = 5}};
    REQUIRE_THROWS_WITH(data.setup(Stage::fit),
                        Contains("holds 29 labels") && Contains("holds 30 images"));
    volt::data::write_idx(dir.path / "train-labels-idx1-ubyte.gz",
                          torch::full({30}, 12, torch::kUInt8));
    REQUIRE_THROWS_WITH(data.setup(Stage::fit), Contains("label 12 found"));
    volt::data::write_idx(dir.path / "train-labels-idx1-ubyte.gz", fake.train_labels);
    volt::data::write_idx(dir.path / "train-images-idx3-ubyte.gz",
                          torch::zeros({30, 32, 32}, torch::kUInt8));
    REQUIRE_THROWS_WITH(data.setup(Stage::fit), Contains("expected images of shape [N, 28, 28], "
                                                         "found [30, 32, 32]"));
  }
}

TEST_CASE("FashionMNIST: the real dataset from dataset-fashion-mnist", "[data][fashion_mnist][real]") {
  const fs::path root{FashionMNIST::default_root};
  for (std::string_view name : FashionMNIST::file_names) {
    if (!fs::exists(root / (std::string(name) + ".gz")) && !fs::exists(root / std::string(name))) {
      WARN("skipped: " << (root / std::string(name)).string()
                       << " is absent (apt-get install dataset-fashion-mnist)");
      return;
    }
  }
  FashionMNIST data{{.batch_size = 64}};
  data.prepare_data();
  data.setup(Stage::fit);
  data.setup(Stage::test);
  CHECK(data.train_images().sizes() == torch::IntArrayRef({55000, 1, 28, 28}));
  CHECK(data.val_images().sizes() == torch::IntArrayRef({5000, 1, 28, 28}));
  CHECK(data.test_images().sizes() == torch::IntArrayRef({10000, 1, 28, 28}));
  CHECK(data.train_labels().size(0) == 55000);
  CHECK(data.val_labels().size(0) == 5000);
  CHECK(data.test_labels().size(0) == 10000);
  CHECK(data.train_dataloader().size() == 860);  // ceil(55000 / 64)
  CHECK(data.val_dataloader().size() == 79);
  CHECK(data.test_dataloader().size() == 157);

  // The normalization constants are the training set's statistics.
  const torch::Tensor all = torch::cat({data.train_images(), data.val_images()});
  CHECK(std::abs(all.mean().item<double>()) < 0.01);
  CHECK(std::abs(all.std().item<double>() - 1.0) < 0.01);
  // Fashion-MNIST is balanced: 6000 per class in the training files, 1000 in the test files.
  const torch::Tensor train_counts =
      torch::bincount(torch::cat({data.train_labels(), data.val_labels()}), {}, 10);
  CHECK(torch::equal(train_counts, torch::full({10}, 6000, torch::kInt64)));
  CHECK(torch::equal(torch::bincount(data.test_labels(), {}, 10),
                     torch::full({10}, 1000, torch::kInt64)));
}
