#include "bench/echo/echo_client.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "bench/echo/proc_stats.h"
#include "engine/base/status_macros.h"
#include "engine/loop/shard.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "engine/net/writer.h"
#include "fmt/format.h"

namespace salvo::bench {
namespace {

using namespace std::chrono_literals;

// A one-shot event for the coroutines of one shard (single-threaded).
class Event {
 public:
  void Set() {
    set_ = true;
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto h : waiters) h.resume();
  }
  auto Wait() {
    struct Awaiter {
      Event* e;
      bool await_ready() const noexcept { return e->set_; }
      void await_suspend(std::coroutine_handle<> h) { e->waiters_.push_back(h); }
      void await_resume() const noexcept {}
    };
    return Awaiter{this};
  }

 private:
  bool set_ = false;
  std::vector<std::coroutine_handle<>> waiters_;
};

// Bounds the connects in flight on one shard (single-threaded).
class Semaphore {
 public:
  explicit Semaphore(int n) : available_(n) {}
  auto Acquire() {
    struct Awaiter {
      Semaphore* s;
      bool await_ready() const noexcept {
        if (s->available_ == 0) return false;
        --s->available_;
        return true;
      }
      void await_suspend(std::coroutine_handle<> h) { s->waiters_.push_back(h); }
      void await_resume() const noexcept {}
    };
    return Awaiter{this};
  }
  void Release() {
    if (waiters_.empty()) {
      ++available_;
      return;
    }
    auto h = waiters_.front();  // the slot passes straight to the next waiter
    waiters_.pop_front();
    h.resume();
  }

 private:
  int available_;
  std::deque<std::coroutine_handle<>> waiters_;
};

// One client thread's connections. Counters the main thread polls are
// atomic; the rest is read only after the shard has been joined.
struct ClientShard {
  explicit ClientShard(int connect_slots) : connect_slots(connect_slots) {}
  Event start;
  Event close;
  Deadline end{};
  Semaphore connect_slots;
  std::atomic<int> connected{0};
  std::atomic<int> failed{0};
  std::atomic<int> finished{0};
  int64_t round_trips = 0;
  int64_t errors = 0;
  std::vector<uint32_t> latency_us;
  std::string first_error;
};

Task<absl::Status> RoundTrip(Writer& writer, LineReader& reader, std::string_view line,
                             Deadline deadline) {
  CO_RETURN_IF_ERROR(co_await writer.Write(line, deadline));
  CO_ASSIGN_OR_RETURN(std::string_view echo, co_await reader.ReadLine(deadline));
  if (echo != line.substr(0, line.size() - 2)) co_return absl::DataLossError("echo differs");
  co_return absl::OkStatus();
}

std::string PayloadLine(int index, size_t size) {
  std::string line = fmt::format("conn {} ", index);
  if (line.size() + 2 < size) line.append(size - 2 - line.size(), 'x');
  return line + "\r\n";
}

void NoteError(ClientShard* sh, const absl::Status& s) {
  if (sh->first_error.empty()) sh->first_error = s.ToString();
}

Task<void> ClientSession(ClientShard* sh, int index, SocketAddress remote, SocketAddress source,
                         bool active, const EchoClientOptions* o) {
  co_await sh->connect_slots.Acquire();
  auto sock = co_await Connect(remote, source, After(10s));
  sh->connect_slots.Release();
  if (!sock.ok()) {
    NoteError(sh, sock.status());
    sh->failed.fetch_add(1);
    co_return;
  }
  LineReader reader(&*sock, 1000);
  Writer writer(&*sock);
  const std::string line = PayloadLine(index, o->payload);
  // One round trip first, so the server's session surely exists and has
  // read and written once before memory is measured.
  absl::Status first = co_await RoundTrip(writer, reader, line, After(30s));
  if (!first.ok()) {
    NoteError(sh, first);
    sh->failed.fetch_add(1);
    co_return;
  }
  sh->connected.fetch_add(1);
  co_await sh->start.Wait();
  while (active && Clock::now() < sh->end) {
    Deadline t0 = Clock::now();
    absl::Status s = co_await RoundTrip(writer, reader, line, sh->end + 10s);
    if (!s.ok()) {
      NoteError(sh, s);
      ++sh->errors;
      break;
    }
    ++sh->round_trips;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
    if (sh->latency_us.size() < (50u << 20)) sh->latency_us.push_back(us.count());
  }
  sh->finished.fetch_add(1);
  co_await sh->close.Wait();
}

SocketAddress Address(const std::string& host, int port) {
  return *SocketAddress::Parse(host, port);
}

// Spawns this shard's sessions: connection i belongs to shard i % shards.
Task<void> StartShard(ClientShard* sh, int shard, const EchoClientOptions* o) {
  int active = o->active < 0 ? o->connections : o->active;
  for (int i = shard; i < o->connections; i += o->shards) {
    SocketAddress remote = Address(o->host, o->port + i % o->ports);
    SocketAddress source = Address(fmt::format("127.0.0.{}", 1 + i % o->sources), 0);
    Ring::Current()->gate().Spawn(ClientSession(sh, i, remote, source, i < active, o));
  }
  co_return;
}

template <typename F>
int64_t SumOver(const std::vector<std::unique_ptr<ClientShard>>& shards, F f) {
  int64_t n = 0;
  for (const auto& sh : shards) n += f(*sh);
  return n;
}

// Polls (every 50 ms, at most `limit`) until `done()` holds.
template <typename F>
bool WaitFor(F done, Duration limit) {
  Deadline end = After(limit);
  while (!done()) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

double CpuOfSelf() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Snapshot {
  std::optional<int64_t> server_rss;
  std::optional<double> server_cpu;
  std::optional<int64_t> slab;
  std::optional<int64_t> backlog_drops;
  std::optional<int64_t> retransmits;
  double client_cpu = 0;
  Deadline at{};
};

Snapshot Take(const EchoClientOptions& o) {
  if (o.server_census && o.server_pid > 0) {
    kill(o.server_pid, SIGUSR1);  // the server prints its heap change
    std::this_thread::sleep_for(300ms);
  }
  Snapshot s;
  if (o.server_pid > 0) {
    s.server_rss = ResidentBytes(o.server_pid);
    s.server_cpu = CpuSeconds(o.server_pid);
  }
  s.slab = SlabBytes();
  s.backlog_drops = BacklogDrops();
  s.retransmits = TcpRetransmits();
  s.client_cpu = CpuOfSelf();
  s.at = Clock::now();
  return s;
}

double Percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

void PrintMemory(int held, const Snapshot& base, const Snapshot& idle, const Snapshot& after) {
  const double mib = 1024.0 * 1024.0;
  if (base.server_rss && idle.server_rss && after.server_rss && held > 0) {
    std::printf(
        "server RSS: %.1f MiB before, %.1f MiB with %d idle connections, "
        "%.1f MiB after the round trips\n",
        *base.server_rss / mib, *idle.server_rss / mib, held, *after.server_rss / mib);
    std::printf("server RSS per idle connection: %.0f bytes (after traffic: %.0f bytes)\n",
                static_cast<double>(*idle.server_rss - *base.server_rss) / held,
                static_cast<double>(*after.server_rss - *base.server_rss) / held);
  }
  if (base.slab && idle.slab && held > 0) {
    std::printf(
        "kernel slab (whole host, both ends): +%.1f MiB = %.0f bytes per connection "
        "pair\n",
        (*idle.slab - *base.slab) / mib, static_cast<double>(*idle.slab - *base.slab) / held);
  }
}

void PrintTraffic(std::vector<std::unique_ptr<ClientShard>>& shards, int active_held,
                  const Snapshot& start, const Snapshot& stop) {
  int64_t trips = SumOver(shards, [](ClientShard& s) { return s.round_trips; });
  int64_t errors = SumOver(shards, [](ClientShard& s) { return s.errors; });
  double seconds = std::chrono::duration<double>(stop.at - start.at).count();
  std::printf("round trips: %lld in %.2f s on %d connections = %.0f per second (%lld errors)\n",
              static_cast<long long>(trips), seconds, active_held, trips / seconds,
              static_cast<long long>(errors));
  std::vector<uint32_t> lat;
  for (auto& sh : shards) lat.insert(lat.end(), sh->latency_us.begin(), sh->latency_us.end());
  double p50 = Percentile(lat, 0.50), p99 = Percentile(lat, 0.99), max = Percentile(lat, 1.0);
  std::printf("round-trip latency: p50 %.0f us, p99 %.0f us, max %.0f us\n", p50, p99, max);
  if (start.server_cpu && stop.server_cpu && trips > 0) {
    double cpu = *stop.server_cpu - *start.server_cpu;
    std::printf("server CPU: %.2f s = %.2f cores, %.2f us per round trip\n", cpu, cpu / seconds,
                cpu * 1e6 / trips);
  }
  if (start.backlog_drops && stop.backlog_drops && start.retransmits && stop.retransmits) {
    std::printf("loopback backlog drops: %lld, TCP retransmits: %lld (whole host)\n",
                static_cast<long long>(*stop.backlog_drops - *start.backlog_drops),
                static_cast<long long>(*stop.retransmits - *start.retransmits));
  }
  double client_cpu = stop.client_cpu - start.client_cpu;
  if (trips > 0) {
    std::printf("client CPU: %.2f s = %.2f cores, %.2f us per round trip\n", client_cpu,
                client_cpu / seconds, client_cpu * 1e6 / trips);
  }
}

}  // namespace

int RunEchoClient(const EchoClientOptions& options) {
  EchoClientOptions o = options;
  o.shards = std::max(1, o.shards);
  o.sources = std::clamp(o.sources, 1, 254);
  int64_t limit = RaiseFileLimit(o.connections / o.shards * o.shards + 1024);
  if (limit < o.connections + 64) {
    std::fprintf(stderr, "RLIMIT_NOFILE is %lld: too low for %d connections\n",
                 static_cast<long long>(limit), o.connections);
    return 1;
  }
  std::vector<std::unique_ptr<ClientShard>> shards;
  for (int i = 0; i < o.shards; ++i) {
    shards.push_back(std::make_unique<ClientShard>(o.connect_concurrency));
  }
  Snapshot base = Take(o);
  auto set =
      ShardSet::Start(o.shards, [&](Ring&, int i) { return StartShard(shards[i].get(), i, &o); });
  if (!set.ok()) {
    std::fprintf(stderr, "client: %s\n", set.status().ToString().c_str());
    return 1;
  }
  auto settled = [&] {
    return SumOver(shards, [](ClientShard& s) { return s.connected + s.failed; }) == o.connections;
  };
  bool all_in = WaitFor(settled, o.connect_phase_limit);
  int held = static_cast<int>(SumOver(shards, [](ClientShard& s) { return s.connected.load(); }));
  int failed = static_cast<int>(SumOver(shards, [](ClientShard& s) { return s.failed.load(); }));
  std::printf("connections: %d requested, %d held open, %d failed%s\n", o.connections, held, failed,
              all_in ? "" : " (connect phase hit its time limit)");
  std::this_thread::sleep_for(o.settle);
  Snapshot idle = Take(o);

  EchoClientOptions quiet = o;
  quiet.server_census = false;
  Snapshot start = Take(quiet);
  for (int i = 0; i < o.shards; ++i) {
    ClientShard* sh = shards[i].get();
    (*set)->ring(i).Post([sh, end = start.at + o.duration] {
      sh->end = end;
      sh->start.Set();
    });
  }
  auto finished = [&] {
    return SumOver(shards, [](ClientShard& s) { return s.finished.load(); }) == held;
  };
  WaitFor(finished, o.duration + 30s);
  Snapshot stop = Take(quiet);
  std::this_thread::sleep_for(o.settle);
  Snapshot after = Take(o);
  for (int i = 0; i < o.shards; ++i) {
    ClientShard* sh = shards[i].get();
    (*set)->ring(i).Post([sh] { sh->close.Set(); });
  }
  (*set)->Stop();
  (*set)->Join();

  int active_held = o.active < 0 ? held : std::min(held, o.active);
  PrintMemory(held, base, idle, after);
  PrintTraffic(shards, active_held, start, stop);
  for (auto& sh : shards) {
    if (!sh->first_error.empty()) std::printf("first error: %s\n", sh->first_error.c_str());
  }
  return failed == 0 ? 0 : 2;
}

}  // namespace salvo::bench
