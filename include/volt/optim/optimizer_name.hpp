#pragma once
// The class name Lightning's LearningRateMonitor uses for an optimizer or scheduler type:
// torch::optim::Adam -> "Adam", volt::optim::SequentialLR<...> -> "SequentialLR".
#include <string>
#include <string_view>
#include <typeinfo>

#include <boost/core/demangle.hpp>

namespace volt::optim {

template <class T>
std::string class_name() {
  const std::string full = boost::core::demangle(typeid(T).name());
  std::string_view name = full;
  if (!name.empty() && name.back() == '>') {  // drop the template arguments
    int depth = 0;
    for (std::size_t i = name.size(); i-- > 0;) {
      if (name[i] == '>') ++depth;
      else if (name[i] == '<' && --depth == 0) {
        name = name.substr(0, i);
        break;
      }
    }
  }
  if (const auto colon = name.rfind("::"); colon != std::string_view::npos) name = name.substr(colon + 2);
  return std::string{name};
}

}  // namespace volt::optim

#if defined(VOLT_SEPARATE_COMPILATION)
// torch's optimizers' names are compiled once, in volt::compiled (include/volt/impl/src.hpp).
namespace torch::optim {
class SGD;
class Adam;
class AdamW;
class RMSprop;
class Adagrad;
class LBFGS;
}  // namespace torch::optim

namespace volt::optim {
extern template std::string class_name<torch::optim::SGD>();
extern template std::string class_name<torch::optim::Adam>();
extern template std::string class_name<torch::optim::AdamW>();
extern template std::string class_name<torch::optim::RMSprop>();
extern template std::string class_name<torch::optim::Adagrad>();
extern template std::string class_name<torch::optim::LBFGS>();
}  // namespace volt::optim
#endif
