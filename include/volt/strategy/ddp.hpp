#pragma once
// volt::DDP: data-parallel training on torch's c10d (Lightning's DDPStrategy). One process per
// device; each process trains a replica on its share of the data, and c10d::Reducer averages
// the gradients during backward (bucketed allreduce, overlapped with the rest of backward).
//
// The Reducer is driven as torch/nn/parallel/distributed.py (v1.13) drives it:
//   set-up:   verify_params_across_processes | broadcast module state from rank 0 (no grad,
//             broadcast_coalesced) | bucket indices from compute_bucket_assignment_by_size
//             (reversed, first bucket first_bucket_cap_mb) | Reducer(...)
//   a step:   rebuild_buckets | prepare_for_forward | prepare_for_backward | backward; under
//             no_backward_sync (gradient accumulation) none of it: gradients stay local and are
//             averaged with the next synchronized backward. The loss is where volt first sees a
//             step's graph, so the Reducer is prepared there, just before backward: the same
//             calls in the same order, with the loss as the output to search for unused
//             parameters (find_unused_parameters).
//   buffers:  broadcast from rank 0 after each optimizer step (DDP's broadcast_buffers, before
//             the next forward).
//
// Process group: Gloo on CPU; NCCL on CUDA, compiled only when libtorch has it (USE_C10D_NCCL).
// Rendezvous: the cluster environment (strategy/cluster_environment.hpp), a TCPStore at
// MASTER_ADDR:MASTER_PORT served by rank 0 (or by torchrun's agent), with a timeout of minutes
// that also bounds every collective. GLOO_SOCKET_IFNAME picks the network interface.
// No cluster environment and devices = N > 1: the local launcher re-executes the program N
// times (strategy/launcher.hpp). No environment and devices = 1: a group of one process.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

// c10d/reducer.hpp includes a distributed-autograd header Debian does not ship; CMake puts the
// private shim (strategy/detail/c10d_shim) after every other include directory.
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <volt/precision/precision.hpp>
#include <volt/strategy/cluster_environment.hpp>
#include <volt/strategy/launcher.hpp>
#include <volt/strategy/strategy.hpp>

namespace volt {

enum class DDPBackend { automatic, gloo, nccl };

struct DDPOptions {
  // Processes to start on this machine when no cluster environment is set (Lightning's
  // devices): N > 1 re-executes the program N times with the env:// variables of each rank.
  std::int64_t devices = 1;
  DDPBackend backend = DDPBackend::automatic;  // automatic: NCCL on CUDA, else Gloo
  // Bounds the rendezvous (a rank missing at start-up) and every collective (uneven steps).
  std::chrono::milliseconds timeout = std::chrono::minutes(3);
  // torch DDP's options, same names and defaults.
  bool find_unused_parameters = false;
  bool gradient_as_bucket_view = false;
  bool broadcast_buffers = true;
  double bucket_cap_mb = 25.0;
  // The first bucket's cap (torch DDP's private _DEFAULT_FIRST_BUCKET_BYTES, 1 MiB): the bucket
  // of the last layers, reduced first, so that its allreduce starts early in backward.
  double first_bucket_cap_mb = 1.0;
};

namespace detail {
// Rethrows the current exception with this rank named (the launcher names the rank too, but a
// torchrun or SLURM log interleaves ranks).
[[noreturn]] inline void rethrow_with_rank(std::int64_t rank, std::int64_t world, const char* where) {
  try {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("volt: DDP rank {} of {} failed in {}: {}", rank, world, where, e.what()));
  }
}

inline c10d::ReduceOp to_c10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::max: return c10d::ReduceOp::MAX;
    case ReduceOp::min: return c10d::ReduceOp::MIN;
    default: return c10d::ReduceOp::SUM;  // Gloo has no AVG: mean is a sum divided here
  }
}
}  // namespace detail

class DDP {
 public:
  DDP() : DDP(DDPOptions{}) {}
  explicit DDP(DDPOptions options) : state_(std::make_shared<State>()) {
    auto& s = *state_;
    s.options = options;
    if (options.devices < 1)
      throw std::invalid_argument(fmt::format("volt: DDPOptions::devices = {} is invalid; allowed: devices >= 1",
                                              options.devices));
    if (!(options.bucket_cap_mb > 0.0))
      throw std::invalid_argument(fmt::format("volt: DDPOptions::bucket_cap_mb = {} is invalid; allowed: > 0",
                                              options.bucket_cap_mb));
    if (!(options.first_bucket_cap_mb > 0.0))
      throw std::invalid_argument(fmt::format("volt: DDPOptions::first_bucket_cap_mb = {} is invalid; allowed: > 0",
                                              options.first_bucket_cap_mb));
    if (options.timeout.count() <= 0)
      throw std::invalid_argument("volt: DDPOptions::timeout must be positive (it bounds the rendezvous and every "
                                  "collective; the default is 3 minutes)");
    s.env = detect_cluster_environment();
    if (!s.env.distributed() && options.devices > 1) relaunch_self(options.devices);  // never returns
    s.device = pick_device(s.env, options.backend);
    connect(s);
  }

  torch::Device root_device() const noexcept { return state_->device; }
  std::int64_t global_rank() const noexcept { return state_->env.global_rank; }
  std::int64_t local_rank() const noexcept { return state_->env.local_rank; }
  std::int64_t world_size() const noexcept { return state_->env.world_size; }
  bool is_global_zero() const noexcept { return state_->env.global_rank == 0; }
  const ClusterEnvironment& cluster_environment() const noexcept { return state_->env; }
  const DDPOptions& options() const noexcept { return state_->options; }
  const c10::intrusive_ptr<c10d::ProcessGroup>& process_group() const noexcept { return state_->group; }

  // Moves the module to this rank's device, makes every rank start from rank 0's weights and
  // buffers, and attaches a Reducer to its parameters (once per module; each stage re-syncs).
  void setup_module(torch::nn::Module& module) {
    auto& s = *state_;
    module.to(s.device);
    std::vector<torch::Tensor> params;
    std::unordered_map<std::size_t, std::string> names;
    for (const auto& item : module.named_parameters(/*recurse=*/true)) {
      if (!item.value().requires_grad()) continue;
      names.emplace(params.size(), item.key());
      params.push_back(item.value());
    }
    std::vector<torch::Tensor> buffers;
    for (const auto& b : module.buffers(/*recurse=*/true)) buffers.push_back(b);
    try {
      if (params.empty())
        throw std::invalid_argument("volt: DDP needs a module with parameters that require gradients; this one has none");
      c10d::verify_params_across_processes(s.group, params, c10::nullopt);
      {
        torch::NoGradGuard no_grad;
        std::vector<torch::Tensor> state_tensors;
        for (const auto& item : module.named_parameters(true)) state_tensors.push_back(item.value());
        state_tensors.insert(state_tensors.end(), buffers.begin(), buffers.end());
        c10d::broadcast_coalesced(s.group, state_tensors, kBroadcastBucketBytes, 0);
      }
    } catch (...) {
      detail::rethrow_with_rank(global_rank(), world_size(), "setup_module (checking and broadcasting the module)");
    }
    s.buffers = std::move(buffers);
    if (s.reducer && same_tensors(s.params, params)) return;
    s.reducer.reset();
    s.params = params;
    const auto cap = static_cast<std::size_t>(s.options.bucket_cap_mb * 1024.0 * 1024.0);
    const auto first_cap = static_cast<std::size_t>(s.options.first_bucket_cap_mb * 1024.0 * 1024.0);
    const std::vector<bool> sparse(params.size(), false);
    auto [buckets, limits] = c10d::compute_bucket_assignment_by_size(params, {first_cap, cap}, sparse);
    std::reverse(buckets.begin(), buckets.end());
    std::reverse(limits.begin(), limits.end());
    s.reducer = std::make_unique<c10d::Reducer>(params, std::move(buckets), std::move(limits), s.group, sparse,
                                                static_cast<std::int64_t>(cap), s.options.find_unused_parameters,
                                                s.options.gradient_as_bucket_view, std::move(names),
                                                static_cast<std::int64_t>(first_cap));
  }

  // The Reducer's buckets in the order they are reduced, in bytes each (empty before
  // setup_module). After the first synchronized step the Reducer rebuilds them in the order the
  // gradients became ready, the first up to first_bucket_cap_mb and the others up to bucket_cap_mb.
  std::vector<std::int64_t> bucket_bytes() const {
    std::vector<std::int64_t> bytes;
    if (!state_->reducer) return bytes;
    for (const auto& bucket : state_->reducer->get_grad_buckets(/*return_zero_tensors=*/false))
      bytes.push_back(static_cast<std::int64_t>(bucket.getBuffer().nbytes()));
    return bytes;
  }

  // Called by the loops before setup_module: a precision whose gradients this backend cannot
  // reduce is an error now, naming both, rather than at the first allreduce. The backend is known
  // only at run time (NCCL reduces bfloat16, Gloo does not), so this is not a static_assert.
  template <class Precision>
  void check_precision(const Precision& policy) const {
    // precision::parameter_dtype / name read a static policy's type and precision::Runtime's value.
    const torch::ScalarType dtype = precision::parameter_dtype(policy);
    if (state_->device.is_cuda() || gloo_can_reduce(dtype)) return;
    std::string name = "this precision";
    if constexpr (requires { precision::name(policy); })
      name = fmt::format("precision \"{}\"", precision::name(policy));
    throw std::invalid_argument(fmt::format(
        "volt: DDP cannot train with {}: its parameters and gradients are {}, and the Gloo backend (DDP on CPU) "
        "cannot allreduce {} (torch 1.13's ProcessGroupGloo reduces float32, float64, float16 and integer tensors). "
        "Fix: use a mixed policy (\"bf16-mixed\" computes in bfloat16 and keeps fp32 parameters and gradients), "
        "\"32-true\", or DDP on CUDA devices (NCCL reduces bfloat16).",
        name, c10::toString(dtype), c10::toString(dtype)));
  }
  // The dtypes torch 1.13's ProcessGroupGloo reduces (its GENERATE_ALL_TYPES switch).
  static constexpr bool gloo_can_reduce(torch::ScalarType dtype) noexcept {
    switch (dtype) {
      case torch::kFloat32: case torch::kFloat64: case torch::kFloat16: case torch::kInt8: case torch::kUInt8:
      case torch::kInt32: case torch::kInt64:
        return true;
      default:
        return false;
    }
  }

  // The Reducer is prepared only when gradients are synchronized this step (not under no_sync).
  template <class Precision, class Hooks>
  void backward(Precision& precision, const torch::Tensor& loss, Hooks& hooks) {
    auto& s = *state_;
    try {
      if (s.reducer && s.sync && torch::GradMode::is_enabled()) {
        s.reducer->rebuild_buckets();
        s.reducer->prepare_for_forward();
        if (s.options.find_unused_parameters) s.reducer->prepare_for_backward({loss});
        else s.reducer->prepare_for_backward({});
      }
      precision.backward(loss, hooks);
    } catch (...) {
      detail::rethrow_with_rank(global_rank(), world_size(), "backward (the gradient allreduce)");
    }
  }

  template <class Precision, class Optimizer, class Closure, class Hooks>
  bool optimizer_step(Precision& precision, Optimizer& optimizer, Closure& closure, Hooks& hooks) {
    const bool stepped = precision.optimizer_step(optimizer, closure, hooks);
    auto& s = *state_;
    if (s.options.broadcast_buffers && !s.buffers.empty() && world_size() > 1) {
      try {
        torch::NoGradGuard no_grad;
        c10d::broadcast_coalesced(s.group, s.buffers, kBroadcastBucketBytes, 0);
      } catch (...) {
        detail::rethrow_with_rank(global_rank(), world_size(), "optimizer_step (broadcasting buffers)");
      }
    }
    return stepped;
  }

  // libtorch 1.13's Optimizer::zero_grad() detaches each gradient in place, which fails on the
  // bucket views of gradient_as_bucket_view; this zeroes them as Python's zero_grad does.
  template <class Optimizer>
  void zero_grad(Optimizer& optimizer) const {
    for (auto& group : optimizer.param_groups())
      for (auto& p : group.params()) {
        auto& grad = p.mutable_grad();
        if (!grad.defined()) continue;
        if (grad.is_view()) {
          grad.requires_grad_(false);
        } else {
          grad.detach_();
        }
        grad.zero_();
      }
  }

  // DDP's no_sync(): while alive, backward accumulates gradients locally.
  class NoSyncGuard {
   public:
    explicit NoSyncGuard(bool& sync) noexcept : sync_(&sync), previous_(std::exchange(sync, false)) {}
    NoSyncGuard(const NoSyncGuard&) = delete;
    NoSyncGuard& operator=(const NoSyncGuard&) = delete;
    ~NoSyncGuard() { *sync_ = previous_; }

   private:
    bool* sync_;
    bool previous_;
  };
  NoSyncGuard no_backward_sync() { return NoSyncGuard(state_->sync); }
  bool gradients_synchronized() const noexcept { return state_->sync; }

  // Lightning's use_distributed_sampler: a loader that can shard itself is given this rank's share.
  template <class Loader>
  Loader&& process_dataloader(Loader&& loader) const {
    if constexpr (requires { loader.set_distributed(std::int64_t{}, std::int64_t{}); })
      if (world_size() > 1) loader.set_distributed(world_size(), global_rank());
    return static_cast<Loader&&>(loader);
  }

  // Collectives (Lightning's strategy.reduce / all_gather / broadcast / barrier /
  // reduce_boolean_decision). Gloo has no bfloat16 reduction, and an fp16 sum loses digits: both
  // travel as fp32.
  torch::Tensor reduce(const torch::Tensor& tensor, ReduceOp op = ReduceOp::mean) const {
    auto work = wire(tensor);
    run("reduce", [&] {
      std::vector<torch::Tensor> v{work};
      c10d::AllreduceOptions o;
      o.reduceOp = detail::to_c10d(op);
      return state_->group->allreduce(v, o);
    });
    if (op == ReduceOp::mean) work = work / static_cast<double>(world_size());
    return work.to(tensor.scalar_type());
  }
  // Every rank's tensor, stacked along a new first dimension in rank order.
  torch::Tensor all_gather(const torch::Tensor& tensor) const {
    auto work = wire(tensor);
    std::vector<std::vector<torch::Tensor>> out(1);
    for (std::int64_t r = 0; r < world_size(); ++r) out[0].push_back(torch::empty_like(work));
    run("all_gather", [&] {
      std::vector<torch::Tensor> in{work};
      return state_->group->allgather(out, in);
    });
    return torch::stack(out[0]).to(tensor.scalar_type());
  }
  torch::Tensor broadcast(const torch::Tensor& tensor, std::int64_t src = 0) const {
    auto work = wire(tensor);
    run("broadcast", [&] {
      std::vector<torch::Tensor> v{work};
      c10d::BroadcastOptions o;
      o.rootRank = src;
      return state_->group->broadcast(v, o);
    });
    return work.to(tensor.scalar_type());
  }
  // all = true: true only if every rank decided true; false: true if any did.
  bool reduce_boolean_decision(bool decision, bool all = true) const {
    const auto votes = reduce(torch::tensor(decision ? 1 : 0, torch::kInt32), ReduceOp::sum).item<std::int32_t>();
    return all ? votes == world_size() : votes > 0;
  }
  // reduce_boolean_decision in two halves: start_boolean_decision begins the allreduce and
  // returns at once, get() waits for it. The training loop starts the preemption decision before
  // a step and reads it after, so the collective runs while the step computes instead of adding
  // one more synchronization point to every step.
  class PendingDecision {
   public:
    bool get() {
      try {
        work_->wait(timeout_);
      } catch (...) {
        detail::rethrow_with_rank(rank_, world_, "reduce_boolean_decision");
      }
      const auto votes = votes_.item<std::int32_t>();
      return all_ ? votes == world_ : votes > 0;
    }

   private:
    friend class DDP;
    c10::intrusive_ptr<c10d::Work> work_;
    torch::Tensor votes_;
    bool all_ = true;
    std::int64_t rank_ = 0, world_ = 1;
    std::chrono::milliseconds timeout_{};
  };
  PendingDecision start_boolean_decision(bool decision, bool all = true) const {
    PendingDecision pending;
    pending.votes_ = torch::full({1}, decision ? 1 : 0, torch::TensorOptions(torch::kInt32).device(state_->device));
    pending.all_ = all;
    pending.rank_ = global_rank();
    pending.world_ = world_size();
    pending.timeout_ = state_->options.timeout;
    try {
      std::vector<torch::Tensor> v{pending.votes_};
      pending.work_ = state_->group->allreduce(v);  // SUM
    } catch (...) {
      detail::rethrow_with_rank(global_rank(), world_size(), "reduce_boolean_decision");
    }
    return pending;
  }
  void barrier() const {
    run("barrier", [&] { return state_->group->barrier(); });
  }

 private:
  static constexpr std::size_t kBroadcastBucketBytes = 250u * 1024u * 1024u;  // torch DDP's

  struct State {
    DDPOptions options;
    ClusterEnvironment env;
    torch::Device device{torch::kCPU};
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroup> group;
    std::unique_ptr<c10d::Reducer> reducer;
    std::vector<torch::Tensor> params, buffers;
    bool sync = true;
    ~State() { reducer.reset(); }  // before the group it uses
  };

  static torch::Device pick_device(const ClusterEnvironment& env, DDPBackend backend) {
    const bool cuda = torch::cuda::is_available();
    if (backend == DDPBackend::nccl) {
#ifndef USE_C10D_NCCL
      throw std::invalid_argument("volt: DDPBackend::nccl needs a libtorch built with NCCL (a CUDA libtorch); this "
                                  "one has none. Use DDPBackend::gloo (CPU) or DDPBackend::automatic.");
#else
      if (!cuda) throw std::invalid_argument("volt: DDPBackend::nccl needs a visible CUDA device; none is visible");
#endif
    }
    if (backend != DDPBackend::gloo && cuda) {
#ifdef USE_C10D_NCCL
      const auto count = static_cast<std::int64_t>(torch::cuda::device_count());
      return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank % count));
#endif
    }
    return torch::Device(torch::kCPU);
  }

  static void connect(State& s) {
    const auto& env = s.env;
    try {
      if (!env.distributed()) {
        s.store = c10::make_intrusive<c10d::HashStore>();
      } else {
        c10d::TCPStoreOptions o;
        o.port = env.master_port;
        o.isServer = !env.agent_store && env.global_rank == 0;
        o.numWorkers = static_cast<std::size_t>(env.world_size);
        o.waitWorkers = !env.agent_store;
        o.timeout = s.options.timeout;
        o.multiTenant = !env.agent_store;
        c10::intrusive_ptr<c10d::Store> tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
        if (env.agent_store) tcp = c10::make_intrusive<c10d::PrefixStore>(env.store_prefix, tcp);
        s.store = c10::make_intrusive<c10d::PrefixStore>("default_pg", tcp);
      }
#ifdef USE_C10D_NCCL
      if (s.device.is_cuda()) {
        auto o = c10d::ProcessGroupNCCL::Options::create();
        o->timeout = s.options.timeout;
        s.group = c10::make_intrusive<c10d::ProcessGroupNCCL>(s.store, static_cast<int>(env.global_rank),
                                                               static_cast<int>(env.world_size), o);
        return;
      }
#endif
      auto o = c10d::ProcessGroupGloo::Options::create(s.options.timeout);
      if (auto ifname = detail::env_var("GLOO_SOCKET_IFNAME"))
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(*ifname));
      else if (!env.distributed() || env.master_addr == "127.0.0.1" || env.master_addr == "localhost")
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      s.group = c10::make_intrusive<c10d::ProcessGroupGloo>(s.store, static_cast<int>(env.global_rank),
                                                             static_cast<int>(env.world_size), o);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format(
          "volt: DDP rendezvous failed for rank {} of {} ({}, store at {}:{}, timeout {}s): {}. Check that every rank "
          "was started with the same MASTER_ADDR/MASTER_PORT and WORLD_SIZE and can reach rank 0; raise "
          "DDPOptions::timeout if ranks start far apart.",
          env.global_rank, env.world_size, to_string(env.kind), env.master_addr, env.master_port,
          std::chrono::duration_cast<std::chrono::seconds>(s.options.timeout).count(), e.what()));
    }
  }

  static bool same_tensors(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!a[i].is_same(b[i])) return false;
    return true;
  }

  // A contiguous copy on this rank's device in a type the backend reduces.
  torch::Tensor wire(const torch::Tensor& tensor) const {
    auto t = tensor.detach().to(state_->device);
    if (t.scalar_type() == torch::kBFloat16 || t.scalar_type() == torch::kHalf) t = t.to(torch::kFloat32);
    return t.contiguous().clone();
  }
  template <class Start>
  void run(const char* what, Start start) const {
    try {
      start()->wait(state_->options.timeout);
    } catch (...) {
      detail::rethrow_with_rank(global_rank(), world_size(), what);
    }
  }

  std::shared_ptr<State> state_;
};

static_assert(Strategy<DDP>);

}  // namespace volt
