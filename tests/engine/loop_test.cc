// The loop: tasks, timers, deadlines, cancellation, cross-thread posts and
// shutdown of a shard with open connections.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "engine/loop/ops.h"
#include "engine/loop/shard.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"

namespace salvo {
namespace {

using namespace std::chrono_literals;
using testing::RunOnRing;

Task<int> Add(int a, int b) { co_return a + b; }
Task<int> AddTwice(int a) {
  int x = co_await Add(a, a);
  int y = co_await Add(x, x);
  co_return y;
}

TEST(Task, NestedTasksReturnValues) {
  int result = 0;
  RunOnRing([](int* out) -> Task<void> { *out = co_await AddTwice(3); }(&result));
  EXPECT_EQ(result, 12);
}

TEST(Task, UnstartedTaskIsDestroyedWithoutRunning) {
  bool ran = false;
  {
    auto t = [](bool* r) -> Task<void> {
      *r = true;
      co_return;
    }(&ran);
  }
  EXPECT_FALSE(ran);
}

TEST(Ring, SleepUntilFiresAtDeadline) {
  Clock::duration waited{};
  IoResult result;
  RunOnRing([](Clock::duration* w, IoResult* r) -> Task<void> {
    auto start = Clock::now();
    *r = co_await SleepUntil(start + 50ms);
    *w = Clock::now() - start;
  }(&waited, &result));
  EXPECT_EQ(result.res, -ETIME);
  EXPECT_GE(waited, 50ms);
  EXPECT_LT(waited, 2s);
}

// A pair of connected loopback TCP sockets made through a real listener.
Task<std::pair<Socket, Socket>> ConnectedPair() {
  auto listener = Listener::Bind(*SocketAddress::Parse("127.0.0.1:0"));
  EXPECT_TRUE(listener.ok()) << listener.status();
  auto client = co_await Connect(listener->address(), std::nullopt, After(5s));
  EXPECT_TRUE(client.ok()) << client.status();
  auto server = co_await listener->Accept(After(5s));
  EXPECT_TRUE(server.ok()) << server.status();
  co_return std::make_pair(std::move(*server), std::move(*client));
}

TEST(Ring, DeadlineFiresOnSilentPeer) {
  absl::Status status;
  Clock::duration waited{};
  RunOnRing([](absl::Status* st, Clock::duration* w) -> Task<void> {
    auto [server, client] = co_await ConnectedPair();
    LineReader reader(&server, 1000);
    auto start = Clock::now();
    auto line = co_await reader.ReadLine(start + 100ms);  // the client never sends
    *w = Clock::now() - start;
    *st = line.status();
  }(&status, &waited));
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 5s);
}

TEST(Ring, CancelFdEndsPendingRead) {
  absl::Status status;
  RunOnRing([](absl::Status* st) -> Task<void> {
    auto [server, client] = co_await ConnectedPair();
    Ring* ring = Ring::Current();
    int fd = server.fd();
    // Cancel from another task while the read waits.
    ring->gate().Spawn([](Ring* r, int f) -> Task<void> {
      co_await SleepFor(20ms);
      r->CancelFd(f);
    }(ring, fd));
    std::string buf;
    auto n = co_await server.ReadSome(buf, After(10s));
    *st = n.status();
  }(&status));
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
}

TEST(Ring, PostFromAnotherThreadRunsOnRing) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok());
  Ring* r = ring->get();
  std::atomic<int> ran{0};
  std::thread::id ring_thread;
  std::thread poster;
  r->Run(
      [](Ring* r, std::atomic<int>* ran, std::thread::id* tid, std::thread* poster) -> Task<void> {
        *tid = std::this_thread::get_id();
        *poster = std::thread([r, ran, tid] {
          for (int i = 0; i < 1000; ++i) {
            r->Post([ran, tid] {
              EXPECT_EQ(std::this_thread::get_id(), *tid);
              ran->fetch_add(1);
            });
          }
        });
        while (ran->load() < 1000) co_await SleepFor(1ms);
      }(r, &ran, &ring_thread, &poster));
  poster.join();
  EXPECT_EQ(ran.load(), 1000);
}

// A coroutine that yields to its ring by posting its own resumption, as
// delivery sessions do: those posts stay on the ring's thread, run in order,
// and do not keep the ring from reaping I/O in between.
struct YieldByPost {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    Ring::Current()->Post([h] { h.resume(); });
  }
  void await_resume() const noexcept {}
};

TEST(Ring, PostsFromItsOwnThreadRunInOrderAndLetIoThrough) {
  std::vector<int> order;
  int yields = 0;
  bool timer_fired = false;
  RunOnRing([](std::vector<int>* order, int* yields, bool* fired) -> Task<void> {
    for (int i = 0; i < 5; ++i) Ring::Current()->Post([order, i] { order->push_back(i); });
    Ring::Current()->gate().Spawn([](bool* fired) -> Task<void> {
      co_await SleepFor(5ms);
      *fired = true;
    }(fired));
    // Yields until the timer's CQE has been reaped (bounded: 10 s).
    auto give_up = Clock::now() + 10s;
    while (!*fired && Clock::now() < give_up) {
      co_await YieldByPost{};
      ++*yields;
    }
  }(&order, &yields, &timer_fired));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(timer_fired);
  EXPECT_GT(yields, 0);
}

TEST(Ring, PostBatchHandsItsPostsOverWhenItEnds) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok());
  Ring* r = ring->get();
  std::atomic<int> ran{0};
  std::atomic<int> ran_before_end{-1};
  std::vector<int> order;  // touched on the ring's thread only
  std::thread poster;
  r->Run([](Ring* r, std::atomic<int>* ran, std::atomic<int>* before, std::vector<int>* order,
            std::thread* poster) -> Task<void> {
    *poster = std::thread([r, ran, before, order] {
      Ring::PostBatch outer;
      for (int i = 0; i < 50; ++i) {
        r->Post([ran, order, i] {
          order->push_back(i);
          ran->fetch_add(1);
        });
      }
      {
        Ring::PostBatch inner;  // joins the outer batch
        for (int i = 50; i < 100; ++i) {
          r->Post([ran, order, i] {
            order->push_back(i);
            ran->fetch_add(1);
          });
        }
      }
      std::this_thread::sleep_for(50ms);  // the ring would have run them by now
      before->store(ran->load());
    });
    auto give_up = Clock::now() + 10s;
    while (ran->load() < 100 && Clock::now() < give_up) co_await SleepFor(1ms);
  }(r, &ran, &ran_before_end, &order, &poster));
  poster.join();
  EXPECT_EQ(ran_before_end.load(), 0);
  EXPECT_EQ(ran.load(), 100);
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

// An echo server session as the shard runs them: reads lines until the peer
// leaves or the shard stops (its read in flight, or its next operation, is
// cancelled).
Task<void> EchoSession(Socket sock, std::atomic<int>* open) {
  open->fetch_add(1);
  Ring::StopCallback on_stop(*Ring::Current(), [&sock] { sock.Cancel(); });
  LineReader reader(&sock, 1024);
  for (;;) {
    auto line = co_await reader.ReadLine(After(30s));
    if (!line.ok()) break;
    std::string out(*line);
    out += "\r\n";
    std::string_view part(out);
    if (!(co_await sock.WriteAll({&part, 1}, After(5s))).ok()) break;
  }
  open->fetch_sub(1);
}

TEST(Shard, StopClosesOpenConnectionsAndReturns) {
  std::atomic<int> open{0};
  std::atomic<int> port{0};
  auto set = ShardSet::Start(1, [&](Ring& ring, int) -> Task<void> {
    return [](Ring& ring, std::atomic<int>* open, std::atomic<int>* port) -> Task<void> {
      auto l = Listener::Bind(*SocketAddress::Parse("127.0.0.1:0"));
      EXPECT_TRUE(l.ok());
      Listener listener = std::move(*l);
      port->store(listener.address().port());
      Ring::StopCallback on_stop(ring, [&listener] { listener.Close(); });
      for (;;) {
        auto s = co_await listener.Accept(Never());
        if (!s.ok()) break;
        ring.gate().Spawn(EchoSession(std::move(*s), open));
      }
    }(ring, &open, &port);
  });
  ASSERT_TRUE(set.ok()) << set.status();
  while (port.load() == 0) std::this_thread::sleep_for(1ms);

  // 50 idle clients, made with plain blocking sockets from this thread.
  std::vector<int> clients;
  for (int i = 0; i < 50; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port.load());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    clients.push_back(fd);
  }
  // One round trip proves the sessions are live.
  ASSERT_EQ(::send(clients[0], "ping\r\n", 6, 0), 6);
  char buf[16] = {};
  ASSERT_EQ(::recv(clients[0], buf, sizeof buf, 0), 6);
  EXPECT_EQ(std::string(buf, 6), "ping\r\n");
  for (int i = 0; i < 500 && open.load() < 50; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(open.load(), 50);

  (*set)->Stop();
  (*set)->Join();
  EXPECT_EQ(open.load(), 0);
  // The server side closed every connection: each client sees EOF.
  for (int fd : clients) {
    EXPECT_EQ(::recv(fd, buf, sizeof buf, 0), 0);
    ::close(fd);
  }
}

// An object that frees itself on its last CQE holds the ring: Run() keeps
// reaping after main has returned until that CQE has arrived.
struct SelfOwnedTimer final : Completion {
  Ring* ring;
  bool* fired;
  __kernel_timespec ts{.tv_sec = 0, .tv_nsec = 30'000'000};
  void Start() {
    ring->Hold();
    io_uring_sqe* sqe = ring->GetSqe();
    io_uring_prep_timeout(sqe, &ts, 0, 0);
    io_uring_sqe_set_data(sqe, static_cast<Completion*>(this));
  }
  void OnCqe(int, uint32_t) override {
    *fired = true;
    ring->Release();
    delete this;
  }
};

TEST(Ring, RunReapsTheLastCqeOfWhatHoldsIt) {
  bool fired = false;
  size_t holds_after = 1;
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  (*ring)->Run([](bool* fired) -> Task<void> {
    auto* t = new SelfOwnedTimer;
    t->ring = Ring::Current();
    t->fired = fired;
    t->Start();
    co_return;  // main ends at once; the timer is 30 ms away
  }(&fired));
  holds_after = (*ring)->holds();
  EXPECT_TRUE(fired);
  EXPECT_EQ(holds_after, 0u);
}

// A hold that is never released delays Run() by its bound (1 s), no more.
TEST(Ring, RunGivesUpOnAHoldThatNeverEnds) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  auto start = Clock::now();
  (*ring)->Run([]() -> Task<void> {
    Ring::Current()->Hold();
    co_return;
  }());
  auto waited = Clock::now() - start;
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 5s);
  (*ring)->Release();
}

// Suspends until a post resumes it (or at once if it already ran).
struct ResumedByPost {
  static inline std::coroutine_handle<> waiting;  // ring thread only
  std::atomic<bool>* ran;
  bool await_ready() const noexcept { return ran->load(); }
  void await_suspend(std::coroutine_handle<> h) { waiting = h; }
  void await_resume() const noexcept {}
};

// Wake-up batching: how long after the ring's main task started a post from
// another thread (made `post_after` in) ran, with the ring batching as given.
// With `read_first`, the poster also writes a byte, half-way, to a socket
// the ring is reading: two completions in all.
Duration PostRanAfter(bool hold, unsigned events, std::chrono::microseconds max_wait,
                      Duration post_after, bool read_first = false, bool client_open = false) {
  auto ring = Ring::Create();
  EXPECT_TRUE(ring.ok()) << ring.status();
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  if (!ring.ok()) return Duration::zero();
  Socket reading{UniqueFd(fds[0])};
  UniqueFd writing(fds[1]);
  Ring* r = ring->get();
  std::atomic<bool> ran{false};
  Clock::time_point start, ran_at;
  std::thread poster;
  r->Run([](Ring* r, bool hold, unsigned events, std::chrono::microseconds max_wait,
            Duration post_after, bool read_first, bool client_open, Socket* reading, int writing,
            std::atomic<bool>* ran, Clock::time_point* start, Clock::time_point* ran_at,
            std::thread* poster) -> Task<void> {
    std::optional<Ring::ClientSession> client;
    if (client_open) client.emplace();
    r->SetWakeBatching(Ring::WakeBatching{
        .events = events, .max_wait = max_wait, .hold = [hold] { return hold; }});
    *start = Clock::now();
    if (read_first) {
      r->gate().Spawn([](Socket* s) -> Task<void> {
        std::string got;
        EXPECT_TRUE((co_await s->ReadSome(got, Never())).ok());
      }(reading));
    }
    *poster = std::thread([r, post_after, read_first, writing, ran, ran_at] {
      if (read_first) {
        std::this_thread::sleep_for(post_after / 2);
        EXPECT_EQ(::write(writing, "x", 1), 1);
        std::this_thread::sleep_for(post_after / 2);
      } else {
        std::this_thread::sleep_for(post_after);
      }
      r->Post([ran, ran_at] {
        *ran_at = Clock::now();
        ran->store(true);
        if (ResumedByPost::waiting) std::exchange(ResumedByPost::waiting, nullptr).resume();
      });
    });
    // No timer while it waits: a timeout's completion ends any io_uring
    // wait early, batched or not.
    co_await ResumedByPost{ran};
    r->SetWakeBatching(std::nullopt);
  }(r, hold, events, max_wait, post_after, read_first, client_open, &reading, writing.get(), &ran,
                                 &start, &ran_at, &poster));
  poster.join();
  EXPECT_TRUE(ran.load());
  return ran_at - start;
}

// Held, with fewer completions than asked for (the post's one), the ring
// sleeps out max_wait: the post cannot run before it has passed.
TEST(Ring, BatchedWakeUpsWaitOutMaxWaitForTooFewCompletions) {
  EXPECT_GE(PostRanAfter(/*hold=*/true, 64, 500ms, 20ms), 500ms);
}

// Enough completions end the batched sleep at once: the read's and the
// post's make two, far sooner than a max_wait of 10 s.
TEST(Ring, BatchedWakeUpsEndWhenEnoughCompletionsAreReady) {
  EXPECT_LT(PostRanAfter(/*hold=*/true, 2, 10s, 60ms, /*read_first=*/true), 5s);
}

// When hold() says no, the ring wakes for the first completion.
TEST(Ring, WakeBatchingNotHeldWakesForTheFirstCompletion) {
  EXPECT_LT(PostRanAfter(/*hold=*/false, 64, 10s, 20ms), 5s);
}

// Nor does it batch while a client's session is open on it, held or not.
TEST(Ring, WakeBatchingNeverDelaysAClientSession) {
  EXPECT_LT(PostRanAfter(/*hold=*/true, 64, 10s, 20ms, false, /*client_open=*/true), 5s);
}

TEST(Probe, KernelHasWhatSalvoNeeds) { EXPECT_TRUE(ProbeIoUring().ok()) << ProbeIoUring(); }

}  // namespace
}  // namespace salvo
