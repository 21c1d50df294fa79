// expect: static assertion failed: volt: log_hyperparams takes a std::map<std::string, V>
//
// A module's `hp` member as a plain struct: the loggers cannot see its fields. Reflect it with
// BOOST_HANA_DEFINE_STRUCT (the twin).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <volt/data/tensor_loader.hpp>
#include <volt/volt.hpp>

namespace {

#ifdef VOLT_COMPILE_FAIL
struct HParams {
  double lr = 0.1;  // the mistake: not reflected
};
#else
struct HParams {
  BOOST_HANA_DEFINE_STRUCT(HParams, (double, lr));
};
#endif

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor training_step(const volt::data::Example& batch, std::int64_t, volt::Context&) {
    return torch::mse_loss(fc(batch.data), batch.target);
  }
  HParams hp{};
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(hp.lr)); }
};

struct Data {
  torch::Tensor x = torch::randn({8, 2}), y = torch::randn({8, 1});
  volt::data::TensorLoader train_dataloader() const { return {x, y, {.batch_size = 4}}; }
};

}  // namespace

int main() {
  Model model;
  Data data;
  volt::Trainer<Model, Data> trainer{{.max_epochs = 1}};
  trainer.fit(model, data);
}
