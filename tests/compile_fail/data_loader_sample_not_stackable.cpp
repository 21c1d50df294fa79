// expect: static assertion failed: volt: StackCollate \(DataLoader's default collate\) stacks tensors field by field
//
// A dataset whose samples carry a string: the default collate has no rule to stack it. The twin
// returns only tensors.
#include <cstdint>
#include <string>

#include <boost/hana/define_struct.hpp>
#include <torch/torch.h>

#include <volt/data/data_loader.hpp>

namespace {

#ifdef VOLT_COMPILE_FAIL
struct Sample {
  BOOST_HANA_DEFINE_STRUCT(Sample, (torch::Tensor, x), (std::string, name));  // the mistake: a string field
};
Sample make(std::int64_t i) { return {torch::ones({2}) * i, "row"}; }
#else
struct Sample {
  BOOST_HANA_DEFINE_STRUCT(Sample, (torch::Tensor, x), (torch::Tensor, name));
};
Sample make(std::int64_t i) { return {torch::ones({2}) * i, torch::tensor(i)}; }
#endif

struct Rows {
  std::int64_t size() const { return 4; }
  Sample get(std::int64_t i) const { return make(i); }
};

}  // namespace

int main() {
  volt::data::DataLoader loader(Rows{}, {.batch_size = 2});
  for (const auto& batch : loader) (void)batch;
}
