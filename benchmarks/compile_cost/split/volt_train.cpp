// volt_fashion_mnist.cpp without its module (volt_model.hpp/.cpp): the DataModule, the Trainer and
// main, the file a user does not touch while editing the model.
#include <torch/torch.h>

#include <volt/data/fashion_mnist.hpp>
#include <volt/volt.hpp>

#include <cstdint>
#include <iostream>
#include <string>

#include "model.hpp"

int main(int argc, char** argv) {
  volt::data::FashionMNISTOptions data_options;
  if (argc > 1) data_options.root = argv[1];
  const std::int64_t epochs = argc > 2 ? std::stoll(argv[2]) : 5;
  volt::seed_everything(42);
  volt::data::FashionMNIST data{data_options};
  FashionCNN model(32, 128);
  // The best epoch by validation accuracy is kept, as the hand-written loop keeps best.pt.
  volt::Trainer<FashionCNN, volt::data::FashionMNIST, volt::SingleDevice, volt::precision::FP32, volt::ModelCheckpoint>
      trainer{{.max_epochs = epochs}, volt::SingleDevice{}, volt::precision::FP32{},
              volt::ModelCheckpoint{{.monitor = "val_acc", .mode = volt::Mode::max}}};
  trainer.fit(model, data);
  std::cout << "test_acc=" << trainer.test(model, data).at("test_acc") << std::endl;
}
