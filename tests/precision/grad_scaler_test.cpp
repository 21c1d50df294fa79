// precision::GradScaler against torch's GradScaler (torch/cuda/amp/grad_scaler.py, 1.13): the
// same events (an inf gradient at chosen steps) give the same steps taken and skipped and the
// same sequence of scales and growth trackers; unscaled gradients equal unscaled-from-the-start
// ones bit for bit; the stage errors and the state_dict are torch's. Here it runs the plain-ATen
// path (this libtorch has no CUDA); the reference comes from /usr/bin/python3's torch, run by
// tests/precision/grad_scaler_reference.py, and is also written below for machines without it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <volt/precision/grad_scaler.hpp>

namespace {

struct StepRecord {
  bool taken;
  double scale;
  std::int64_t tracker;
  bool operator==(const StepRecord&) const = default;
};

std::ostream& operator<<(std::ostream& os, const StepRecord& r) {
  return os << "{taken " << r.taken << ", scale " << r.scale << ", tracker " << r.tracker << "}";
}

// What grad_scaler_reference.py 65536 3 12 2,3,8 prints (torch 1.13.1).
const std::vector<StepRecord> torch_sequence{
    {true, 65536, 1},  {true, 65536, 2},  {false, 32768, 0}, {false, 16384, 0}, {true, 16384, 1}, {true, 16384, 2},
    {true, 32768, 0},  {true, 32768, 1},  {false, 16384, 0}, {true, 16384, 1},  {true, 16384, 2}, {true, 32768, 0}};

// The same events through volt's GradScaler.
std::vector<StepRecord> volt_sequence(volt::precision::GradScaler& scaler, int steps, const std::set<int>& inf_steps) {
  torch::manual_seed(0);
  torch::nn::Linear model(3, 1);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01));
  std::vector<StepRecord> out;
  for (int step = 0; step < steps; ++step) {
    opt.zero_grad();
    const auto loss = model(torch::randn({4, 3})).pow(2).mean();
    scaler.scale(loss).backward();
    if (inf_steps.count(step)) {
      torch::NoGradGuard no_grad;
      model->weight.mutable_grad()[0][0] = std::numeric_limits<float>::infinity();
    }
    const auto before = model->weight.detach().clone();
    const bool taken = scaler.step(opt);
    CHECK(taken == !torch::equal(before, model->weight.detach()));
    scaler.update();
    out.push_back({taken, scaler.get_scale(), scaler.growth_tracker()});
  }
  return out;
}

bool python_torch_available() { return std::system("/usr/bin/python3 -c 'import torch' > /dev/null 2>&1") == 0; }

nlohmann::json run_reference(const std::string& args) {
  const auto script = std::filesystem::path(__FILE__).parent_path() / "grad_scaler_reference.py";
  const auto out = std::filesystem::temp_directory_path() / ("volt_grad_scaler_" + std::to_string(::getpid()) + ".json");
  REQUIRE(std::system(("/usr/bin/python3 " + script.string() + " " + args + " > " + out.string()).c_str()) == 0);
  nlohmann::json result = nlohmann::json::parse(std::ifstream(out));
  std::filesystem::remove(out);
  return result;
}

}  // namespace

TEST_CASE("GradScaler skips the steps with inf gradients and scales as torch's GradScaler does", "[precision][grad_scaler]") {
  volt::precision::GradScaler scaler({.growth_interval = 3});
  const auto ours = volt_sequence(scaler, 12, {2, 3, 8});
  CHECK(ours == torch_sequence);

  SECTION("the same events through torch's GradScaler in /usr/bin/python3") {
    if (!python_torch_available()) {
      WARN("skipped: /usr/bin/python3 cannot import torch (Debian python3-torch); compared with the recorded values");
      return;
    }
    const auto reference = run_reference("65536 3 12 2,3,8");
    std::vector<StepRecord> theirs;
    for (const auto& s : reference.at("steps"))
      theirs.push_back({s.at("taken").get<bool>(), s.at("scale").get<double>(), s.at("tracker").get<std::int64_t>()});
    CHECK(ours == theirs);
    CHECK(scaler.state_dict() == reference.at("state_dict"));
  }
  SECTION("defaults: 65536, x2 after 2000 good steps, x0.5 after a bad one") {
    volt::precision::GradScaler defaults;
    CHECK(defaults.get_scale() == 65536.0);
    const auto seq = volt_sequence(defaults, 3, {1});
    CHECK(seq == std::vector<StepRecord>{{true, 65536, 1}, {false, 32768, 0}, {true, 32768, 1}});
  }
  SECTION("the scale never grows to inf") {
    auto scale = torch::full({1}, 2e38, torch::kFloat32);
    auto tracker = torch::zeros({1}, torch::kInt32);
    volt::precision::detail::update_scale(scale, tracker, torch::zeros({1}), 2.0, 0.5, 1);
    CHECK(scale.item<float>() == 2e38F);  // 4e38 is inf in float: kept
    CHECK(tracker.item<std::int32_t>() == 0);
  }
}

TEST_CASE("GradScaler's unscaled gradients equal the unscaled backward's, bit for bit", "[precision][grad_scaler]") {
  torch::manual_seed(4);
  torch::nn::Linear a(5, 2), b(5, 2);
  {
    torch::NoGradGuard no_grad;
    b->weight.copy_(a->weight);
    b->bias.copy_(a->bias);
  }
  torch::optim::SGD opt_a(a->parameters(), torch::optim::SGDOptions(0.1));
  torch::optim::SGD opt_b(b->parameters(), torch::optim::SGDOptions(0.1));
  const auto x = torch::randn({6, 5});
  volt::precision::GradScaler scaler;
  scaler.scale(a(x).pow(2).mean()).backward();
  b(x).pow(2).mean().backward();
  CHECK_FALSE(torch::equal(a->weight.grad(), b->weight.grad()));  // scaled by 65536
  scaler.unscale_(opt_a);
  CHECK(torch::equal(a->weight.grad(), b->weight.grad()));
  CHECK(torch::equal(a->bias.grad(), b->bias.grad()));
  CHECK(scaler.step(opt_a));  // step() after unscale_() does not unscale again
  opt_b.step();
  CHECK(torch::equal(a->weight.detach(), b->weight.detach()));
  scaler.update();
}

TEST_CASE("GradScaler enforces torch's order: unscale_ once, step once, per update", "[precision][grad_scaler]") {
  torch::nn::Linear model(2, 1);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1));
  volt::precision::GradScaler scaler;
  CHECK_THROWS_WITH(scaler.update(), Catch::Contains("before scale()"));
  scaler.scale(model(torch::randn({3, 2})).sum()).backward();
  scaler.unscale_(opt);
  CHECK_THROWS_WITH(scaler.unscale_(opt), Catch::Contains("already been called on this optimizer"));
  scaler.step(opt);
  CHECK_THROWS_WITH(scaler.step(opt), Catch::Contains("step() has already been called"));
  CHECK_THROWS_WITH(scaler.unscale_(opt), Catch::Contains("after step()"));
  scaler.update();
  CHECK_THROWS_WITH(scaler.update(), Catch::Contains("no inf checks were recorded"));
  opt.zero_grad();
  for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor{};
  CHECK_THROWS_WITH(scaler.step(opt), Catch::Contains("did backward run"));
}

TEST_CASE("GradScaler's state_dict has torch's keys and a loaded state continues the same sequence",
          "[precision][grad_scaler]") {
  volt::precision::GradScaler first({.growth_interval = 3});
  const auto head = volt_sequence(first, 4, {2, 3});  // steps 0-3 of the reference events
  const nlohmann::json state = first.state_dict();
  CHECK(state == nlohmann::json{{"scale", 16384.0}, {"growth_factor", 2.0}, {"backoff_factor", 0.5},
                                {"growth_interval", 3}, {"_growth_tracker", 0}});
  // Through text, as a checkpoint stores it.
  volt::precision::GradScaler resumed;
  resumed.load_state_dict(nlohmann::json::parse(state.dump()));
  CHECK(resumed.state_dict() == state);
  CHECK(resumed.options().growth_interval == 3);

  SECTION("a scaler that has already scaled takes the loaded state too") {
    volt::precision::GradScaler used;
    volt_sequence(used, 2, {0});
    used.load_state_dict(state);
    CHECK(used.state_dict() == state);
  }
  SECTION("a bad state names what is missing, and the scaler is unchanged") {
    volt::precision::GradScaler other;
    CHECK_THROWS_WITH(other.load_state_dict(nlohmann::json::object()), Catch::Contains("state is empty"));
    CHECK_THROWS_WITH(other.load_state_dict({{"scale", 2.0}}), Catch::Contains("\"growth_factor\""));
    CHECK(other.get_scale() == 65536.0);
  }
  SECTION("options torch refuses are refused") {
    CHECK_THROWS_WITH(volt::precision::GradScaler({.growth_factor = 1.0}), Catch::Contains("growth_factor must be > 1.0"));
    CHECK_THROWS_WITH(volt::precision::GradScaler({.backoff_factor = 1.5}), Catch::Contains("backoff_factor must be < 1.0"));
    CHECK_THROWS_WITH(volt::precision::GradScaler({.growth_interval = 0}), Catch::Contains("growth_interval"));
  }
}
