#pragma once
// The local launcher (Lightning's `ddp` subprocess launcher): runs a command N times, each
// process with the env:// variables of one rank (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), and waits for all of them. When one exits non-zero or is killed, the others
// get `grace` to fail on their own (a dead peer surfaces in Gloo as "Connection reset by peer"
// at once) and are then killed; the result names that first rank. SIGTERM / SIGINT sent to
// the launcher are passed on to every rank (preemption under a scheduler). Each rank dies
// with the launcher (PR_SET_PDEATHSIG), so a killed launcher leaves no orphans.
//
// volt::DDP{{.devices = N}} calls relaunch_self() when no cluster environment is set: the
// program is re-executed N times (from /proc/self/exe with its own arguments) and the first
// process only supervises.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace volt {

struct LaunchOptions {
  std::int64_t nprocs = 2;
  std::string master_addr = "127.0.0.1";
  std::uint16_t master_port = 0;  // 0: a free port of master_addr, chosen by the kernel
  // How long the other ranks may take to exit by themselves after one failed.
  std::chrono::milliseconds grace{5000};
  // Extra variables for every rank (e.g. a test's worker switch).
  std::map<std::string, std::string> env{};
};

struct LaunchResult {
  int exit_code = 0;                 // 0, or the first failing rank's code (128 + signal if killed)
  std::optional<std::int64_t> failed_rank{};
  std::string message{};             // empty on success; names the rank and how it ended
};

namespace detail {
inline std::atomic<int>& launcher_forwarded_signal() {
  static std::atomic<int> sig{0};
  return sig;
}
extern "C" inline void volt_launcher_on_signal(int sig) { launcher_forwarded_signal().store(sig); }
}  // namespace detail

// A port the kernel reports free on `addr` now. Rank 0's store binds it a moment later; the
// kernel hands out ephemeral ports in sequence, so another process taking it in between is
// unlikely, and would make the rendezvous fail with "address already in use", never hang.
inline std::uint16_t free_tcp_port(const std::string& addr = "127.0.0.1") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(fmt::format("volt: socket() failed: {}", std::strerror(errno)));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = 0;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (addr != "127.0.0.1" && addr != "localhost") sa.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof(sa);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error(fmt::format("volt: could not find a free TCP port on {}: {}", addr, why));
  }
  ::close(fd);
  return ntohs(sa.sin_port);
}

// Runs `argv` options.nprocs times, one rank each; returns when all have exited.
inline LaunchResult launch_processes(const std::vector<std::string>& argv, const LaunchOptions& options) {
  if (argv.empty()) throw std::invalid_argument("volt: launch_processes needs a command to run");
  if (options.nprocs < 1)
    throw std::invalid_argument(fmt::format("volt: devices = {} is invalid; allowed: devices >= 1", options.nprocs));
  const std::uint16_t port = options.master_port != 0 ? options.master_port : free_tcp_port(options.master_addr);

  struct sigaction forward {}, old_term{}, old_int{};
  forward.sa_handler = detail::volt_launcher_on_signal;
  sigemptyset(&forward.sa_mask);
  detail::launcher_forwarded_signal().store(0);
  ::sigaction(SIGTERM, &forward, &old_term);
  ::sigaction(SIGINT, &forward, &old_int);
  const pid_t launcher = ::getpid();

  std::vector<pid_t> pids;
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  for (std::int64_t rank = 0; rank < options.nprocs; ++rank) {
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    std::map<std::string, std::string> set = options.env;
    set["RANK"] = std::to_string(rank);
    set["LOCAL_RANK"] = std::to_string(rank);
    set["WORLD_SIZE"] = std::to_string(options.nprocs);
    set["LOCAL_WORLD_SIZE"] = std::to_string(options.nprocs);
    set["MASTER_ADDR"] = options.master_addr;
    set["MASTER_PORT"] = std::to_string(port);
    std::vector<std::string> child_env;
    for (const auto& kv : environment) {
      const auto name = kv.substr(0, kv.find('='));
      if (!set.count(name)) child_env.push_back(kv);
    }
    for (const auto& [k, v] : set) child_env.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& s : child_env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      for (pid_t p : pids) ::kill(p, SIGKILL);
      for (pid_t p : pids) ::waitpid(p, nullptr, 0);
      throw std::runtime_error(fmt::format("volt: could not start rank {}: fork failed: {}", rank, std::strerror(errno)));
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != launcher) ::_exit(127);  // the launcher died before prctl took effect
      ::signal(SIGTERM, SIG_DFL);
      ::signal(SIGINT, SIG_DFL);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
    pids.push_back(pid);
  }

  LaunchResult result;
  std::vector<bool> done(pids.size(), false);
  std::size_t remaining = pids.size();
  std::optional<std::chrono::steady_clock::time_point> kill_at;
  int forwarded = 0;
  while (remaining > 0) {
    const int sig = detail::launcher_forwarded_signal().exchange(0);
    if (sig != 0) {
      forwarded = sig;
      for (std::size_t r = 0; r < pids.size(); ++r)
        if (!done[r]) ::kill(pids[r], sig);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (std::size_t r = 0; r < pids.size(); ++r) {
        if (pids[r] != pid || done[r]) continue;
        done[r] = true;
        --remaining;
        const bool signaled = WIFSIGNALED(status);
        const int code = signaled ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        if (code != 0 && !result.failed_rank) {
          result.failed_rank = static_cast<std::int64_t>(r);
          result.exit_code = code;
          result.message =
              signaled ? fmt::format("volt: rank {} of {} was killed by signal {} ({}); the other ranks are ended", r,
                                     pids.size(), WTERMSIG(status), ::strsignal(WTERMSIG(status)))
                       : fmt::format("volt: rank {} of {} exited with code {} (its error is printed above); the other "
                                     "ranks are ended",
                                     r, pids.size(), code);
          kill_at = std::chrono::steady_clock::now() + options.grace;
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR && errno != ECHILD) break;
    if (kill_at && std::chrono::steady_clock::now() >= *kill_at) {
      for (std::size_t r = 0; r < pids.size(); ++r)
        if (!done[r]) ::kill(pids[r], SIGKILL);
      kill_at.reset();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGINT, &old_int, nullptr);
  if (forwarded != 0 && result.exit_code == 0 && result.message.empty())
    result.message = fmt::format("volt: signal {} was passed on to every rank; all exited with code 0", forwarded);
  return result;
}

// This program's own command line, as it was started (/proc/self/cmdline).
inline std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> argv;
  std::size_t start = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] != '\0') continue;
    argv.push_back(all.substr(start, i - start));
    start = i + 1;
  }
  if (argv.empty()) throw std::runtime_error("volt: could not read this program's command line (/proc/self/cmdline)");
  argv[0] = "/proc/self/exe";  // the same binary, whatever the working directory or PATH
  return argv;
}

// Re-executes this program nprocs times as ranks 0..nprocs-1 and exits with the launch's
// result; never returns.
[[noreturn]] inline void relaunch_self(std::int64_t nprocs) {
  const auto result = launch_processes(own_command_line(), {.nprocs = nprocs});
  if (!result.message.empty()) std::cerr << result.message << '\n';
  std::cout.flush();
  std::exit(result.exit_code);
}

}  // namespace volt
