// expect: static assertion failed: volt: this Strategy's collectives cannot reduce gradients in this Precision's parameter dtype.*strategy_cannot_reduce_precision_gradients<[^>]*GlooLikeStrategy, volt::precision::TruePrecision<c10::ScalarType::BFloat16>
//
// A strategy whose collectives cannot reduce bfloat16 (Gloo's allreduce refuses it: "Invalid
// scalar type") with bf16-true, whose gradients are bfloat16: the types decide that the pair
// cannot work. bf16-mixed keeps fp32 gradients, so it is the fix (the twin).
#include "case_support.hpp"

namespace {

struct Model : volt_cf::LinearModel {
  auto configure_optimizers() { return torch::optim::SGD(parameters(), torch::optim::SGDOptions(0.1)); }
};

// SingleDevice standing in for a data-parallel strategy over Gloo: what such a strategy declares.
struct GlooLikeStrategy : volt::SingleDevice {
  static constexpr bool can_reduce(torch::ScalarType dtype) { return dtype != torch::kBFloat16; }
};

}  // namespace

int main() {
  Model model;
  volt_cf::Data data;
#ifdef VOLT_COMPILE_FAIL
  volt::Trainer<Model, volt_cf::Data, GlooLikeStrategy, volt::precision::BF16True> trainer{{.max_epochs = 1}};  // the mistake
#else
  volt::Trainer<Model, volt_cf::Data, GlooLikeStrategy, volt::precision::BF16Mixed> trainer{{.max_epochs = 1}};
#endif
  trainer.fit(model, data);
}
