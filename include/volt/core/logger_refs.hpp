#pragma once
// volt::LoggerRefs: the Trainer's loggers as a hook sees them (Lightning's `self.loggers` /
// `self.logger.experiment`), through `ctx.loggers()`:
//
//   if (auto* tb = ctx.loggers().find<volt::loggers::TensorBoardLogger>())
//     tb->add_image("samples", volt::make_grid(fake), ctx.global_step());
//
// Context is one concrete class, so it cannot carry the Trainer's logger types; each logger is
// kept as a std::any holding a std::reference_wrapper to it, and asked for by its exact type.
// The run fills the list when it starts (loops/run.hpp) with the loggers among its callbacks.
#include <any>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <boost/core/demangle.hpp>

#include <volt/detail/config.hpp>

namespace volt {

class LoggerRefs {
 public:
  template <class L>
  void add(L& logger) {
    add_ref(std::ref(logger));
  }
  void clear() noexcept { refs_.clear(); }

  std::size_t size() const noexcept { return refs_.size(); }
  bool empty() const noexcept { return refs_.empty(); }

  // The first logger of type L, or nullptr when the Trainer has none (Lightning's
  // `isinstance(logger, TensorBoardLogger)` test over `self.loggers`).
  template <class L>
  L* find() const noexcept {
    for (const auto& ref : refs_)
      if (const auto* found = std::any_cast<std::reference_wrapper<L>>(&ref)) return &found->get();
    return nullptr;
  }
  // The first logger of type L; throws naming the type when there is none.
  template <class L>
  L& get() const {
    if (L* found = find<L>()) return *found;
    throw std::logic_error("volt: ctx.loggers().get<" + boost::core::demangle(typeid(L).name()) +
                           ">(): the Trainer has no logger of this type (" + std::to_string(refs_.size()) +
                           " logger(s) in this run). Pass one to the Trainer's constructor, or use find<L>(), which "
                           "returns nullptr when it is absent.");
  }
  // Every logger of type L, in the Trainer's order.
  template <class L>
  std::vector<std::reference_wrapper<L>> all() const {
    std::vector<std::reference_wrapper<L>> out;
    for (const auto& ref : refs_)
      if (const auto* found = std::any_cast<std::reference_wrapper<L>>(&ref)) out.push_back(*found);
    return out;
  }

 private:
  // The vector's growth compiled once (fast mode), not once per logger type.
  VOLT_INLINE void add_ref(std::any ref);

  std::vector<std::any> refs_;
};

}  // namespace volt

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/core/impl/logger_refs.ipp>
#endif
