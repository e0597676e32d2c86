// The echo load tool's server role: a line-echo server on the Salvo loop.
// One shard per core (ShardSet); each shard binds its own SO_REUSEPORT
// Listener on every port, so the kernel spreads connections across shards;
// each connection is a session (LineReader + Writer) that echoes every line
// and flushes once no pipelined input is left. Runs until SIGINT/SIGTERM or
// `max_seconds`, whichever comes first.
#pragma once

#include <string>

#include "engine/base/deadline.h"

namespace salvo::bench {

enum class RecvMode { kSingleShot, kMultishot };

struct EchoServerOptions {
  int shards = 0;  // 0: one per online CPU
  std::string host = "127.0.0.1";
  int port = 0;   // 0: pick a free port
  int ports = 1;  // listen on port .. port + ports - 1
  RecvMode recv = RecvMode::kSingleShot;
  bool deadlines = true;  // per-read/per-write deadlines (linked timeouts)
  Duration idle_timeout = std::chrono::seconds(300);
  int max_seconds = 600;
  unsigned recv_buffers = 256;  // provided buffers per shard
  bool heap_census = false;     // SIGUSR1 prints the live-heap change (heap_census.h)
};

// Runs the server; prints "READY <port> <ports>" on stdout once listening.
// Returns the process exit code.
int RunEchoServer(const EchoServerOptions& options);

}  // namespace salvo::bench
