// The echo load tool's client role: opens N concurrent loopback connections
// to the echo server (spread over several source addresses and server ports
// so the ephemeral port range is no limit), makes one round trip on each,
// holds them all idle while it measures the server's memory, then runs round
// trips on all (or some) of them for a bounded time and reports round trips
// per second, latency and CPU. Everything is bounded in count and time.
#pragma once

#include <sys/types.h>

#include <string>

#include "engine/base/deadline.h"

namespace salvo::bench {

struct EchoClientOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  int ports = 1;
  int connections = 10000;
  int active = -1;  // connections doing round trips; -1: all
  Duration duration = std::chrono::seconds(10);
  int sources = 4;  // source addresses 127.0.0.1 .. 127.0.0.<sources>
  int shards = 1;   // client threads, one ring each
  int connect_concurrency = 256;
  size_t payload = 32;  // bytes per line, line ending included
  Duration connect_phase_limit = std::chrono::seconds(120);
  Duration settle = std::chrono::seconds(2);  // before memory is measured
  pid_t server_pid = 0;                       // 0: server metrics are not measured
  bool server_census = false;                 // send SIGUSR1 at each memory snapshot
};

// Runs the client and prints the report on stdout; returns the exit code.
int RunEchoClient(const EchoClientOptions& options);

}  // namespace salvo::bench
