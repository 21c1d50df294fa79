// Hook detection and calling: every hook in the table is found when present, absent when not,
// and a near miss when declared with parameters volt cannot pass; the argument-prefix and
// optional-Context rules; private hooks through volt::access.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <volt/core/context.hpp>
#include <volt/hooks/call.hpp>

namespace {

struct Batch {
  int value = 0;
};
struct Unrelated {};  // a parameter type nothing volt passes converts to

struct NoHooks {};

#define VOLT_TEST_PRESENT(NAME, MIN_ARGS, SIGNATURE) \
  struct present_##NAME {                            \
    template <class... A>                            \
    int NAME(A&&...) {                               \
      return 1;                                      \
    }                                                \
  };                                                 \
  struct near_miss_##NAME {                          \
    void NAME(Unrelated) {}                          \
  };
VOLT_HOOK_LIST(VOLT_TEST_PRESENT)
#undef VOLT_TEST_PRESENT

// Three arguments, so every hook's min_args is met (optimizer_step takes three).
template <class Hook, class T>
constexpr bool has_with_batch = volt::hooks::has<Hook, T, const Batch&, std::int64_t, std::int64_t>;
template <class Hook, class T>
constexpr bool near_miss_with_batch = volt::hooks::near_miss<Hook, T, const Batch&, std::int64_t, std::int64_t>;

}  // namespace

TEST_CASE("every hook is detected when present, absent when not, and a near miss when mistyped", "[hooks]") {
#define VOLT_TEST_CHECK(NAME, MIN_ARGS, SIGNATURE)                                        \
  STATIC_REQUIRE(has_with_batch<volt::hooks::NAME##_t, present_##NAME>);                  \
  STATIC_REQUIRE_FALSE(has_with_batch<volt::hooks::NAME##_t, NoHooks>);                   \
  STATIC_REQUIRE_FALSE(near_miss_with_batch<volt::hooks::NAME##_t, NoHooks>);             \
  STATIC_REQUIRE_FALSE(has_with_batch<volt::hooks::NAME##_t, near_miss_##NAME>);          \
  STATIC_REQUIRE(near_miss_with_batch<volt::hooks::NAME##_t, near_miss_##NAME>);          \
  STATIC_REQUIRE(volt::hooks::NAME##_t::name == #NAME);
  VOLT_HOOK_LIST(VOLT_TEST_CHECK)
#undef VOLT_TEST_CHECK
}

namespace {
struct StepFull {
  torch::Tensor training_step(const Batch&, std::int64_t, volt::Context&) { return {}; }
};
struct StepNoContext {
  torch::Tensor training_step(const Batch&, std::int64_t) { return {}; }
};
struct StepNoIndex {
  torch::Tensor training_step(const Batch&, volt::Context&) { return {}; }
};
struct StepBatchOnly {
  torch::Tensor training_step(const Batch&) { return {}; }
};
struct StepWrongBatch {
  torch::Tensor training_step(const std::string&, std::int64_t) { return {}; }
};
struct StepNoBatch {  // the batch may not be dropped: training_step's min_args is 1
  torch::Tensor training_step(volt::Context&) { return {}; }
};
}  // namespace

TEST_CASE("training_step may drop batch_idx and the Context, but not the batch", "[hooks]") {
  using volt::hooks::training_step_t;
  constexpr auto full = volt::hooks::match_v<training_step_t, StepFull, const Batch&, std::int64_t>;
  STATIC_REQUIRE(full.arity == 2);
  STATIC_REQUIRE(full.with_context);
  constexpr auto no_ctx = volt::hooks::match_v<training_step_t, StepNoContext, const Batch&, std::int64_t>;
  STATIC_REQUIRE(no_ctx.arity == 2);
  STATIC_REQUIRE_FALSE(no_ctx.with_context);
  constexpr auto no_idx = volt::hooks::match_v<training_step_t, StepNoIndex, const Batch&, std::int64_t>;
  STATIC_REQUIRE(no_idx.arity == 1);
  STATIC_REQUIRE(no_idx.with_context);
  constexpr auto batch_only = volt::hooks::match_v<training_step_t, StepBatchOnly, const Batch&, std::int64_t>;
  STATIC_REQUIRE(batch_only.arity == 1);
  STATIC_REQUIRE_FALSE(batch_only.with_context);
  STATIC_REQUIRE(volt::hooks::near_miss<training_step_t, StepWrongBatch, const Batch&, std::int64_t>);
  STATIC_REQUIRE(volt::hooks::near_miss<training_step_t, StepNoBatch, const Batch&, std::int64_t>);
}

namespace {
struct Recorder {
  std::vector<std::string>* calls;
  void on_train_epoch_start() { calls->push_back("no-context"); }
  void on_train_epoch_end(volt::Context& ctx) { calls->push_back("context epoch=" + std::to_string(ctx.current_epoch())); }
  int on_train_batch_start(const Batch& batch, std::int64_t batch_idx) {
    calls->push_back("batch " + std::to_string(batch.value) + " idx " + std::to_string(batch_idx));
    return -1;
  }
  void setup(volt::Stage stage) { calls->push_back(std::string("setup ") + std::string(volt::to_string(stage))); }
};

// Hooks kept private, reached through volt::access.
class PrivateHooks {
 public:
  int calls = 0;

 private:
  friend struct volt::access;
  void on_fit_start(volt::Context&) { ++calls; }
};
}  // namespace

TEST_CASE("call passes the arguments a hook takes, returns its result, and is a no-op when absent", "[hooks]") {
  volt::RunState state;
  state.current_epoch = 3;
  volt::MetricStore metrics;
  torch::nn::Module module;
  volt::Context ctx(state, metrics, module);
  std::vector<std::string> calls;
  Recorder recorder{&calls};

  volt::hooks::call(volt::hooks::on_train_epoch_start, recorder, ctx);
  volt::hooks::call(volt::hooks::on_train_epoch_end, recorder, ctx);
  const int signal = volt::hooks::call(volt::hooks::on_train_batch_start, recorder, ctx, Batch{5}, std::int64_t{2});
  volt::hooks::call(volt::hooks::setup, recorder, ctx, volt::Stage::test);
  volt::hooks::call(volt::hooks::on_fit_end, recorder, ctx);  // absent: nothing happens
  STATIC_REQUIRE(std::is_void_v<decltype(volt::hooks::call(volt::hooks::on_fit_end, recorder, ctx))>);

  CHECK(signal == -1);
  CHECK(calls == std::vector<std::string>{"no-context", "context epoch=3", "batch 5 idx 2", "setup test"});

  PrivateHooks hidden;
  STATIC_REQUIRE(volt::hooks::has<volt::hooks::on_fit_start_t, PrivateHooks>);
  volt::hooks::call(volt::hooks::on_fit_start, hidden, ctx);
  CHECK(hidden.calls == 1);
}

namespace {
// The name probe (hooks::surely_absent) must not hide a hook that volt can call.
struct BaseWithHook {
  int calls = 0;
  void on_fit_start() { ++calls; }
};
struct InheritsHook : BaseWithHook {};
struct FinalWithHook final {
  int calls = 0;
  void on_fit_start() { ++calls; }
};
struct FinalWithoutHook final {};
struct HookAsMember {
  int calls = 0;
  struct Call {
    int* calls;
    void operator()() const { ++*calls; }
  } on_fit_start{&calls};
};
struct Tagged {
  std::vector<std::string>* seen;
  std::string tag;
  void on_fit_start() { seen->push_back(tag); }
};
}  // namespace

TEST_CASE("absent hooks are skipped by one name probe; inherited, final and functor-member hooks are still found",
          "[hooks]") {
  using volt::hooks::on_fit_start_t;
  STATIC_REQUIRE(volt::hooks::surely_absent<on_fit_start_t, NoHooks>);
  STATIC_REQUIRE_FALSE(volt::hooks::surely_absent<on_fit_start_t, InheritsHook>);
  STATIC_REQUIRE_FALSE(volt::hooks::surely_absent<on_fit_start_t, HookAsMember>);
  // A final class cannot be probed: it is tried form by form, so it is never "surely absent".
  STATIC_REQUIRE_FALSE(volt::hooks::surely_absent<on_fit_start_t, FinalWithoutHook>);
  STATIC_REQUIRE_FALSE(volt::hooks::has<on_fit_start_t, FinalWithoutHook>);
  STATIC_REQUIRE(volt::hooks::has<on_fit_start_t, InheritsHook>);
  STATIC_REQUIRE(volt::hooks::has<on_fit_start_t, FinalWithHook>);
  STATIC_REQUIRE(volt::hooks::has<on_fit_start_t, HookAsMember>);

  volt::RunState state;
  volt::MetricStore metrics;
  torch::nn::Module module;
  volt::Context ctx(state, metrics, module);
  InheritsHook inherits;
  FinalWithHook final_one;
  HookAsMember member;
  volt::hooks::call(volt::hooks::on_fit_start, inherits, ctx);
  volt::hooks::call(volt::hooks::on_fit_start, final_one, ctx);
  volt::hooks::call(volt::hooks::on_fit_start, member, ctx);
  CHECK(inherits.calls == 1);
  CHECK(final_one.calls == 1);
  CHECK(member.calls == 1);

  // for_each_callback_with visits, in order, the callbacks that may have the hook (an engaged
  // optional's value among them), and no others.
  std::vector<std::string> seen;
  std::vector<std::string> visited;
  Tagged a{&seen, "a"};
  std::optional<Tagged> b = Tagged{&seen, "b"};
  std::optional<Tagged> off;
  NoHooks none;
  Tagged c{&seen, "c"};
  std::tuple<Tagged&, NoHooks&, std::optional<Tagged>&, std::optional<Tagged>&, Tagged&> callbacks{a, none, b, off, c};
  volt::hooks::for_each_callback_with(volt::hooks::on_fit_start, callbacks, [&](auto& cb) {
    STATIC_REQUIRE(std::is_same_v<std::remove_cvref_t<decltype(cb)>, Tagged>);
    visited.push_back(cb.tag);
    volt::hooks::call(volt::hooks::on_fit_start, cb, ctx);
  });
  CHECK(visited == std::vector<std::string>{"a", "b", "c"});
  CHECK(seen == std::vector<std::string>{"a", "b", "c"});
  int visits = 0;
  std::tuple<NoHooks&> no_hook_callbacks{none};
  volt::hooks::for_each_callback_with(volt::hooks::on_fit_start, no_hook_callbacks, [&](auto&) { ++visits; });
  CHECK(visits == 0);
}
