#pragma once
// Where a process is in a distributed job, read from the environment the way torch and
// Lightning read it (torch/distributed/rendezvous.py, Lightning's plugins/environments):
//   SLURM     SLURM_PROCID, SLURM_LOCALID, SLURM_NTASKS, the first host of SLURM_NODELIST
//             (MASTER_ADDR / MASTER_PORT override; the port defaults to 15000 + the job id's last
//             four digits, as Lightning's)
//   torchrun  RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, plus TORCHELASTIC_RUN_ID:
//             with TORCHELASTIC_USE_AGENT_STORE=True the agent already serves the store, so every
//             rank is a client, under the prefix /worker/attempt_<TORCHELASTIC_RESTART_COUNT>
//   env://    RANK, LOCAL_RANK (default 0), WORLD_SIZE, MASTER_ADDR, MASTER_PORT
// A variable that is set but malformed is an error naming it; nothing of a job is a single process.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace volt {

enum class ClusterKind { single, env, torchrun, slurm };

constexpr std::string_view to_string(ClusterKind k) noexcept {
  switch (k) {
    case ClusterKind::env: return "env://";
    case ClusterKind::torchrun: return "torchrun";
    case ClusterKind::slurm: return "SLURM";
    default: return "single process";
  }
}

struct ClusterEnvironment {
  ClusterKind kind = ClusterKind::single;
  std::string master_addr = "127.0.0.1";
  std::uint16_t master_port = 0;
  std::int64_t global_rank = 0;
  std::int64_t local_rank = 0;
  std::int64_t world_size = 1;
  // torchrun's agent serves the store: every rank connects as a client, under this prefix.
  bool agent_store = false;
  std::string store_prefix{};

  bool distributed() const noexcept { return kind != ClusterKind::single; }
};

namespace detail {
inline std::optional<std::string> env_var(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

inline std::int64_t env_int(const char* name, std::int64_t min_value) {
  const auto text = env_var(name);
  if (!text) throw std::invalid_argument(fmt::format("volt: the environment variable {} is not set", name));
  std::size_t used = 0;
  std::int64_t value = 0;
  try {
    value = std::stoll(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text->size() || value < min_value)
    throw std::invalid_argument(fmt::format("volt: the environment variable {}=\"{}\" is not an integer >= {}; fix the "
                                            "launcher or job script that sets it",
                                            name, *text, min_value));
  return value;
}

inline std::uint16_t env_port(const char* name) {
  const auto port = env_int(name, 1);
  if (port > 65535)
    throw std::invalid_argument(fmt::format("volt: {}={} is not a TCP port (1..65535)", name, port));
  return static_cast<std::uint16_t>(port);
}
}  // namespace detail

// The first host of a SLURM node list: "node[003-005,9],gpu1" -> "node003" (Lightning's
// SLURMEnvironment.resolve_root_node_address).
inline std::string slurm_first_host(std::string_view nodelist) {
  const auto comma = nodelist.find(',');
  const auto bracket = nodelist.find('[');
  if (bracket == std::string_view::npos || (comma != std::string_view::npos && comma < bracket))
    return std::string(nodelist.substr(0, comma));
  const auto prefix = nodelist.substr(0, bracket);
  auto range = nodelist.substr(bracket + 1);
  const auto end = range.find_first_of(",-]");
  if (end == std::string_view::npos)
    throw std::invalid_argument(fmt::format("volt: SLURM_NODELIST=\"{}\" has an unclosed '['", nodelist));
  return fmt::format("{}{}", prefix, range.substr(0, end));
}

// Reads the environment; ClusterKind::single when nothing describes a job.
inline ClusterEnvironment detect_cluster_environment() {
  using detail::env_int;
  using detail::env_port;
  using detail::env_var;
  ClusterEnvironment env;
  // SLURM, unless it only hosts an interactive shell (srun sets SLURM_NTASKS; torchrun inside
  // a SLURM job sets RANK, and then torchrun's variables win, as in Lightning).
  if (env_var("SLURM_NTASKS") && env_var("SLURM_PROCID") && !env_var("RANK") &&
      env_var("SLURM_JOB_NAME").value_or("") != "bash" && env_var("SLURM_JOB_NAME").value_or("") != "interactive") {
    env.kind = ClusterKind::slurm;
    env.global_rank = env_int("SLURM_PROCID", 0);
    env.local_rank = env_var("SLURM_LOCALID") ? env_int("SLURM_LOCALID", 0) : 0;
    env.world_size = env_int("SLURM_NTASKS", 1);
    if (auto addr = env_var("MASTER_ADDR")) env.master_addr = *addr;
    else if (auto nodes = env_var("SLURM_NODELIST")) env.master_addr = slurm_first_host(*nodes);
    if (env_var("MASTER_PORT")) {
      env.master_port = env_port("MASTER_PORT");
    } else {
      const auto job = env_var("SLURM_JOB_ID").value_or("0");
      const auto tail = job.size() > 4 ? job.substr(job.size() - 4) : job;
      std::int64_t id = 0;
      for (char c : tail) id = c >= '0' && c <= '9' ? id * 10 + (c - '0') : id;
      env.master_port = static_cast<std::uint16_t>(15000 + id);
    }
  } else if (env_var("RANK") || env_var("WORLD_SIZE")) {
    env.kind = env_var("TORCHELASTIC_RUN_ID") ? ClusterKind::torchrun : ClusterKind::env;
    env.global_rank = env_int("RANK", 0);
    env.world_size = env_int("WORLD_SIZE", 1);
    env.local_rank = env_var("LOCAL_RANK") ? env_int("LOCAL_RANK", 0) : 0;
    if (!env_var("MASTER_ADDR") || !env_var("MASTER_PORT"))
      throw std::invalid_argument(fmt::format("volt: RANK/WORLD_SIZE are set ({}), but MASTER_ADDR and MASTER_PORT "
                                              "must be set too: the address and port of rank 0's rendezvous store",
                                              to_string(env.kind)));
    env.master_addr = *env_var("MASTER_ADDR");
    env.master_port = env_port("MASTER_PORT");
    if (env.kind == ClusterKind::torchrun && env_var("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True") {
      env.agent_store = true;
      env.store_prefix = fmt::format("/worker/attempt_{}", env_var("TORCHELASTIC_RESTART_COUNT").value_or("0"));
    }
  } else {
    return env;
  }
  if (env.global_rank >= env.world_size)
    throw std::invalid_argument(fmt::format("volt: {}: global rank {} is not below the world size {}",
                                            to_string(env.kind), env.global_rank, env.world_size));
  return env;
}

}  // namespace volt
