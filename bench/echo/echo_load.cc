// echo_load: the engine's connection-scale load tool, loopback only.
//
//   echo_load run    [flags]  start a server child, run the client against it,
//                             stop the server (the default role)
//   echo_load server [flags]  the line-echo server alone (prints READY port n)
//   echo_load client [flags]  the load generator alone (--port, --server_pid)
//
// Server flags: --shards=N (0: one per CPU) --ports=N --recv=single|multishot
//   --deadlines=1|0 --recv_buffers=N --max_seconds=S --port=P --heap_census=1|0
// Client flags: --connections=N --active=N --duration=S --sources=N
//   --client_shards=N --connect_concurrency=N --payload=BYTES --settle=S
//
// Everything is bounded: the client stops after its connect phase limit and
// --duration; the server after SIGTERM or --max_seconds.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench/echo/echo_client.h"
#include "bench/echo/echo_server.h"

extern char** environ;

namespace salvo::bench {
namespace {

using namespace std::chrono_literals;

// --name=value flags; Take() consumes them so leftovers can be reported.
class Flags {
 public:
  Flags(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string arg = argv[i];
      size_t eq = arg.find('=');
      if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
        bad_.push_back(arg);
        continue;
      }
      values_[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
    }
  }
  int Int(const std::string& name, int fallback) {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    int v = std::atoi(it->second.c_str());
    values_.erase(it);
    return v;
  }
  std::string Str(const std::string& name, const std::string& fallback) {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    std::string v = it->second;
    values_.erase(it);
    return v;
  }
  bool Leftovers() const {
    for (const auto& b : bad_) std::fprintf(stderr, "bad argument: %s\n", b.c_str());
    for (const auto& [k, v] : values_) std::fprintf(stderr, "unknown flag: --%s\n", k.c_str());
    return !bad_.empty() || !values_.empty();
  }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> bad_;
};

EchoServerOptions ServerOptionsFrom(Flags& f) {
  EchoServerOptions o;
  o.shards = f.Int("shards", 0);
  o.port = f.Int("port", 0);
  o.ports = std::max(1, f.Int("ports", 1));
  o.recv = f.Str("recv", "single") == "multishot" ? RecvMode::kMultishot : RecvMode::kSingleShot;
  o.deadlines = f.Int("deadlines", 1) != 0;
  o.recv_buffers = static_cast<unsigned>(f.Int("recv_buffers", 256));
  o.max_seconds = f.Int("max_seconds", 600);
  o.heap_census = f.Int("heap_census", 0) != 0;
  return o;
}

EchoClientOptions ClientOptionsFrom(Flags& f) {
  EchoClientOptions o;
  o.port = f.Int("port", 0);
  o.ports = std::max(1, f.Int("ports", 1));
  o.connections = f.Int("connections", 10000);
  o.active = f.Int("active", -1);
  o.duration = std::chrono::seconds(f.Int("duration", 10));
  o.sources = f.Int("sources", 4);
  o.shards = f.Int("client_shards", 1);
  o.connect_concurrency = std::max(1, f.Int("connect_concurrency", 256));
  o.payload = static_cast<size_t>(std::max(8, f.Int("payload", 32)));
  o.settle = std::chrono::seconds(f.Int("settle", 2));
  o.server_pid = f.Int("server_pid", 0);
  return o;
}

std::vector<std::string> ServerArgs(const EchoServerOptions& o) {
  return {"server",
          "--shards=" + std::to_string(o.shards),
          "--ports=" + std::to_string(o.ports),
          std::string("--recv=") + (o.recv == RecvMode::kMultishot ? "multishot" : "single"),
          "--deadlines=" + std::to_string(o.deadlines ? 1 : 0),
          "--recv_buffers=" + std::to_string(o.recv_buffers),
          "--max_seconds=" + std::to_string(o.max_seconds),
          "--heap_census=" + std::to_string(o.heap_census ? 1 : 0)};
}

// Starts `echo_load server ...` with its stdout on a pipe; returns its pid.
pid_t SpawnServer(const EchoServerOptions& o, int* stdout_fd) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  std::vector<std::string> args = ServerArgs(o);
  std::vector<char*> argv = {const_cast<char*>("echo_load")};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return -1;
  }
  *stdout_fd = pipe_fds[0];
  return pid;
}

// Reads "READY <port> <ports>" from the server within 10 s.
bool AwaitReady(int fd, int* port) {
  std::string got;
  for (int i = 0; i < 100 && got.find('\n') == std::string::npos; ++i) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[128];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    got.append(buf, n);
  }
  int ports = 0;
  return std::sscanf(got.c_str(), "READY %d %d", port, &ports) == 2;
}

// Asks the server to stop and reaps it; SIGKILL after 10 s.
void StopServer(pid_t pid) {
  kill(pid, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return;
    usleep(50000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

int Run(Flags& flags) {
  EchoServerOptions server = ServerOptionsFrom(flags);
  EchoClientOptions client = ClientOptionsFrom(flags);
  if (flags.Leftovers()) return 64;
  server.max_seconds = std::min<int>(
      server.max_seconds, 180 + static_cast<int>(client.duration / std::chrono::seconds(1)));
  if (server.shards <= 0) server.shards = static_cast<int>(std::thread::hardware_concurrency());
  int out = -1;
  pid_t pid = SpawnServer(server, &out);
  if (pid < 0) {
    std::perror("spawn server");
    return 1;
  }
  if (!AwaitReady(out, &client.port)) {
    std::fprintf(stderr, "server did not become ready\n");
    StopServer(pid);
    return 1;
  }
  client.ports = server.ports;
  client.server_pid = pid;
  client.server_census = server.heap_census;
  std::printf("server pid %d: %d shards, recv %s, deadlines %s, port %d (+%d)\n", pid,
              server.shards, server.recv == RecvMode::kMultishot ? "multishot" : "single-shot",
              server.deadlines ? "on" : "off", client.port, server.ports - 1);
  std::fflush(stdout);
  int rc = RunEchoClient(client);
  StopServer(pid);
  ::close(out);
  return rc;
}

}  // namespace
}  // namespace salvo::bench

int main(int argc, char** argv) {
  using namespace salvo::bench;
  std::string role = argc > 1 && argv[1][0] != '-' ? argv[1] : "run";
  int first = argc > 1 && argv[1][0] != '-' ? 2 : 1;
  Flags flags(argc, argv, first);
  if (role == "server") {
    EchoServerOptions o = ServerOptionsFrom(flags);
    if (flags.Leftovers()) return 64;
    return RunEchoServer(o);
  }
  if (role == "client") {
    EchoClientOptions o = ClientOptionsFrom(flags);
    if (flags.Leftovers()) return 64;
    return RunEchoClient(o);
  }
  if (role == "run") return Run(flags);
  std::fprintf(stderr, "usage: echo_load [run|server|client] [--flag=value ...]\n");
  return 64;
}
