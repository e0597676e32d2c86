// Test helpers for engine/net: connected loopback socket pairs made through a
// real Listener, a counting Stream decorator that shows what the reader took
// from the kernel, and a peer that sends in lockstep with the reader (each
// chunk only after the reader has taken every byte before it), so a test
// knows exactly which bytes each ReadSome returned.
//
// Every wait here is bounded by a deadline; nothing blocks the ring thread.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/base/deadline.h"
#include "engine/base/status_macros.h"
#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "engine/loop/task.h"
#include "engine/net/socket.h"
#include "engine/net/stream.h"
#include "gtest/gtest.h"

namespace salvo::testing {

using namespace std::chrono_literals;

// Runs a callable returning Task<void> with the callable kept alive in this
// coroutine's frame, so lambda captures stay valid for a detached task:
//   ring->gate().Spawn(Invoke([&, x]() -> Task<void> { ... }));
template <typename F>
Task<void> Invoke(F f) {
  co_await f();
}

// The helper tasks of one test body (peers, concurrent readers). They run
// detached on the ring's gate and usually reference the body's locals, so the
// body awaits Join() before its frame goes away.
class Peers {
 public:
  Peers() = default;
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;

  void Spawn(Task<void> task) {
    ++running_;
    Ring::Current()->gate().Spawn(Run(this, std::move(task)));
  }
  template <typename F>
  void SpawnCall(F f) {
    Spawn(Invoke(std::move(f)));
  }
  // Waits (bounded) until every helper has finished.
  Task<void> Join(Deadline deadline = After(10s)) {
    while (running_ > 0 && Clock::now() < deadline) co_await SleepFor(1ms);
    EXPECT_EQ(running_, 0) << "helper tasks still running at the deadline";
  }
  int running() const { return running_; }

 private:
  static Task<void> Run(Peers* peers, Task<void> task) {
    co_await std::move(task);
    --peers->running_;
  }
  int running_ = 0;
};

struct SocketPair {
  Socket server;  // the accepted side
  Socket client;  // the connecting side
};

// Closes `listener`. (No wait needed: a closed listener holds the ring until
// its cancelled accept's last CQE has been reaped.)
inline Task<void> CloseListener(Listener& listener) {
  listener.Close();
  co_return;
}

// Listens on `listen_address` (port 0: ephemeral), connects, accepts.
inline Task<absl::StatusOr<SocketPair>> ConnectedPair(std::string listen_address = "127.0.0.1:0") {
  auto address = SocketAddress::Parse(listen_address);
  if (!address.ok()) co_return address.status();
  auto listener = Listener::Bind(*address);
  if (!listener.ok()) co_return listener.status();
  auto client = co_await Connect(listener->address(), std::nullopt, After(5s));
  if (!client.ok()) co_return client.status();
  auto server = co_await listener->Accept(After(5s));
  co_await CloseListener(*listener);
  if (!server.ok()) co_return server.status();
  co_return SocketPair{std::move(*server), std::move(*client)};
}

// A Stream over a real Socket that counts the reads and bytes taken from it.
class CountingStream final : public Stream {
 public:
  explicit CountingStream(Stream* inner) : inner_(inner) {}

  Task<absl::StatusOr<size_t>> ReadSome(std::string& dst, Deadline deadline) override {
    auto n = co_await inner_->ReadSome(dst, deadline);
    if (n.ok()) {
      ++reads_;
      bytes_ += *n;
    }
    co_return n;
  }
  Task<absl::Status> WriteAll(std::span<const std::string_view> parts, Deadline deadline) override {
    return inner_->WriteAll(parts, deadline);
  }
  Task<absl::Status> ShutdownWrite(Deadline deadline) override {
    return inner_->ShutdownWrite(deadline);
  }
  int fd() const override { return inner_->fd(); }

  size_t reads() const { return reads_; }
  size_t bytes() const { return bytes_; }

 private:
  Stream* inner_;
  size_t reads_ = 0;
  size_t bytes_ = 0;
};

// Writes every byte of `data` from `peer`, retrying short sends.
inline Task<absl::Status> SendAll(Socket& peer, std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    auto n = co_await peer.WriteSome(data, deadline);
    if (!n.ok()) co_return n.status();
    data.remove_prefix(*n);
  }
  co_return absl::OkStatus();
}

// Sends each chunk only once `seen` has taken every byte sent before it, so
// the reader behind `seen` gets exactly one chunk per ReadSome.
inline Task<absl::Status> SendInLockstep(Socket& peer, const CountingStream& seen,
                                         std::vector<std::string> chunks, Deadline deadline) {
  size_t sent = seen.bytes();
  for (const std::string& chunk : chunks) {
    while (seen.bytes() < sent) {
      if (Clock::now() >= deadline) co_return absl::DeadlineExceededError("reader stalled");
      co_await SleepFor(50us);
    }
    absl::Status s = co_await SendAll(peer, chunk, deadline);
    if (!s.ok()) co_return s;
    sent += chunk.size();
  }
  co_return absl::OkStatus();
}

// Splits `data` into one-byte chunks.
inline std::vector<std::string> Bytes(std::string_view data) {
  std::vector<std::string> out;
  for (char c : data) out.emplace_back(1, c);
  return out;
}

// Reads from `s` until `n` bytes have arrived, end of stream or an error.
inline Task<absl::StatusOr<std::string>> ReceiveUpTo(Socket& s, size_t n, Deadline deadline) {
  std::string got;
  while (got.size() < n) {
    auto r = co_await s.ReadSome(got, deadline);
    if (!r.ok()) co_return r.status();
    if (*r == 0) break;
  }
  co_return got;
}

}  // namespace salvo::testing

// gtest's ASSERT_* return from the function, which a coroutine cannot do:
// these record the failure and co_return instead.
#define CO_ASSERT_OK(expr)                                                             \
  do {                                                                                 \
    const auto& _co_assert_value = (expr);                                             \
    if (!_co_assert_value.ok()) {                                                      \
      ADD_FAILURE() << #expr << ": " << ::salvo::internal::AsStatus(_co_assert_value); \
      co_return;                                                                       \
    }                                                                                  \
  } while (0)

#define CO_ASSERT_TRUE(cond)                  \
  do {                                        \
    if (!(cond)) {                            \
      ADD_FAILURE() << "expected: " << #cond; \
      co_return;                              \
    }                                         \
  } while (0)
