#include "bench/echo/echo_server.h"

#include <malloc.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "bench/echo/heap_census.h"
#include "bench/echo/multishot_recv_stream.h"
#include "bench/echo/proc_stats.h"
#include "engine/loop/ops.h"
#include "engine/loop/shard.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "engine/net/writer.h"
#include "spdlog/spdlog.h"

namespace salvo::bench {
namespace {

struct ServerCounters {
  std::atomic<int64_t> sessions{0};
  std::atomic<int64_t> lines{0};
  std::atomic<int64_t> open{0};
};

// Echoes lines read from `in` to `out` until an error or end of stream.
Task<void> EchoLines(Stream* in, Socket& out, const EchoServerOptions& o, ServerCounters* c) {
  LineReader reader(in, 1000);
  Writer writer(&out);
  int64_t lines = 0;
  for (;;) {
    Deadline read_by = o.deadlines ? After(o.idle_timeout) : Never();
    auto line = co_await reader.ReadLine(read_by);
    if (!line.ok()) break;
    writer.Append(*line);
    writer.Append("\r\n");
    ++lines;
    if (reader.buffered() > 0) continue;  // answer pipelined lines in one write
    Deadline write_by = o.deadlines ? After(std::chrono::seconds(30)) : Never();
    if (!(co_await writer.Flush(write_by)).ok()) break;
  }
  c->lines.fetch_add(lines, std::memory_order_relaxed);
}

Task<void> EchoSession(Socket sock, const EchoServerOptions* o, ServerCounters* c) {
  c->sessions.fetch_add(1, std::memory_order_relaxed);
  c->open.fetch_add(1, std::memory_order_relaxed);
  Ring* ring = Ring::Current();
  // Socket::Cancel ends the socket's read or write in flight, or its next
  // one; CancelFd also reaches the prototype multishot recv, which the
  // Socket does not track.
  Ring::StopCallback on_stop(*ring, [ring, &sock] {
    sock.Cancel();
    ring->CancelFd(sock.fd());
  });
  if (o->recv == RecvMode::kMultishot) {
    MultishotRecvStream stream(&sock);
    co_await EchoLines(&stream, sock, *o, c);
    co_await stream.Close();
  } else {
    co_await EchoLines(&sock, sock, *o, c);
  }
  c->open.fetch_sub(1, std::memory_order_relaxed);
}

Task<void> AcceptLoop(Listener listener, const EchoServerOptions* o, ServerCounters* c) {
  Ring& ring = *Ring::Current();
  Ring::StopCallback on_stop(ring, [&listener] { listener.Close(); });
  for (;;) {
    auto s = co_await listener.Accept(Never());
    if (!s.ok()) {
      if (absl::IsCancelled(s.status())) break;
      spdlog::warn("accept: {}", s.status().ToString());
      continue;
    }
    ring.gate().Spawn(EchoSession(std::move(*s), o, c));
  }
}

// One shard: a listener per port, each with its accept loop in the gate.
Task<void> ServeShard(const EchoServerOptions* o, ServerCounters* c, std::atomic<int>* bound,
                      std::atomic<int>* failed) {
  for (int p = 0; p < o->ports; ++p) {
    auto address = SocketAddress::Parse(o->host, o->port + p);
    absl::StatusOr<Listener> listener =
        address.ok() ? Listener::Bind(*address) : absl::StatusOr<Listener>(address.status());
    if (!listener.ok()) {
      spdlog::error("listen {}:{}: {}", o->host, o->port + p, listener.status().ToString());
      failed->fetch_add(1);
      continue;
    }
    Ring::Current()->gate().Spawn(AcceptLoop(std::move(*listener), o, c));
    bound->fetch_add(1);
  }
  co_return;
}

// Binds a throwaway SO_REUSEPORT socket to find a free port for all shards.
int PickFreePort(const std::string& host) {
  auto any = SocketAddress::Parse(host, 0);
  if (!any.ok()) return -1;
  int fd = ::socket(any->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  SocketAddress bound;
  *bound.mutable_len() = sizeof(sockaddr_storage);
  int port = -1;
  if (::bind(fd, any->sa(), any->len()) == 0 &&
      getsockname(fd, bound.mutable_sa(), bound.mutable_len()) == 0) {
    port = bound.port();
  }
  ::close(fd);
  return port;
}

// Waits for SIGINT/SIGTERM/SIGHUP or the time limit; answers SIGUSR1 with a
// heap census. Returns the signal, or 0 at the time limit.
int WaitForEnd(const EchoServerOptions& o) {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Deadline end = After(std::chrono::seconds(o.max_seconds));
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(end - Clock::now());
    if (left.count() <= 0) return 0;
    timespec limit{.tv_sec = left.count() / 1000000000, .tv_nsec = left.count() % 1000000000};
    int sig = sigtimedwait(&signals, nullptr, &limit);
    if (sig != SIGUSR1) return sig > 0 ? sig : 0;
    if (!o.heap_census) continue;
    struct mallinfo2 mi = mallinfo2();
    std::fprintf(stderr, "echo server: malloc in use %zu bytes\n%s", mi.uordblks + mi.hblkhd,
                 HeapCensusDelta().c_str());
  }
}

}  // namespace

int RunEchoServer(const EchoServerOptions& options) {
  EchoServerOptions o = options;
  if (o.shards <= 0) o.shards = static_cast<int>(std::thread::hardware_concurrency());
  if (o.port == 0) o.port = PickFreePort(o.host);
  if (o.port <= 0) {
    std::fprintf(stderr, "echo server: no free port on %s\n", o.host.c_str());
    return 1;
  }
  RaiseFileLimit(1 << 20);
  if (o.heap_census) EnableHeapCensus();
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);  // shard threads inherit the mask
  BlockTerminationSignals();
  ServerCounters counters;
  std::atomic<int> bound{0};
  std::atomic<int> failed{0};
  RingOptions ring_options;
  ring_options.recv_buffers = o.recv_buffers;
  auto set = ShardSet::Start(
      o.shards, [&](Ring&, int) { return ServeShard(&o, &counters, &bound, &failed); },
      ring_options);
  if (!set.ok()) {
    std::fprintf(stderr, "echo server: %s\n", set.status().ToString().c_str());
    return 1;
  }
  for (int i = 0; i < 5000 && bound.load() + failed.load() < o.shards * o.ports; ++i) {
    usleep(1000);
  }
  if (failed.load() > 0) {
    (*set)->Stop();
    (*set)->Join();
    return 1;
  }
  std::printf("READY %d %d\n", o.port, o.ports);
  std::fflush(stdout);

  int sig = WaitForEnd(o);
  (*set)->Stop();
  (*set)->Join();
  std::fprintf(stderr, "echo server: %s; %lld sessions, %lld lines echoed, %lld still open\n",
               sig > 0 ? strsignal(sig) : "time limit reached",
               static_cast<long long>(counters.sessions.load()),
               static_cast<long long>(counters.lines.load()),
               static_cast<long long>(counters.open.load()));
  return 0;
}

}  // namespace salvo::bench
