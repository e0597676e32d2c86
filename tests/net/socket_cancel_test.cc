// Socket::Cancel(): the way a shard's stop request ends a connection's
// session. It ends the operation in flight, or the next one when none is in
// flight, and only that one: the session can still send its goodbye.
#include <sys/socket.h>

#include <string>

#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "engine/net/writer.h"
#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"
#include "tests/net/net_fixture.h"

namespace salvo {
namespace {

using namespace std::chrono_literals;

using testing::ConnectedPair;
using testing::ReceiveUpTo;
using testing::RunOnRing;

// The stop request arrives while the session waits for a command.
TEST(SocketCancel, EndsTheReadInFlight) {
  absl::Status read;
  Clock::duration waited{};
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      co_await SleepFor(20ms);
      pair->server.Cancel();
    });
    LineReader reader(&pair->server, 1000);
    auto start = Clock::now();
    read = (co_await reader.ReadLine(After(10s))).status();
    waited = Clock::now() - start;
    co_await peers.Join();
  }());
  EXPECT_TRUE(absl::IsCancelled(read)) << read;
  EXPECT_LT(waited, 5s);
}

// After the cancelled read the session says goodbye, and the peer gets it:
// the cancellation is used up by the one operation it ended.
TEST(SocketCancel, IsOneShotSoTheGoodbyeStillGoesOut) {
  absl::Status read, goodbye;
  std::string peer_got;
  bool pending_after = true;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    pair->server.Cancel();  // between operations: the next one ends at once
    LineReader reader(&pair->server, 1000);
    read = (co_await reader.ReadLine(After(5s))).status();
    pending_after = pair->server.cancel_pending();
    Writer writer(&pair->server);
    goodbye = co_await writer.Write("421 4.3.2 Service shutting down\r\n", After(5s));
    auto got = co_await ReceiveUpTo(pair->client, 33, After(5s));
    CO_ASSERT_OK(got);
    peer_got = *got;
  }());
  EXPECT_TRUE(absl::IsCancelled(read)) << read;
  EXPECT_FALSE(pending_after);
  EXPECT_TRUE(goodbye.ok()) << goodbye;
  EXPECT_EQ(peer_got, "421 4.3.2 Service shutting down\r\n");
}

// A write stuck behind a peer that does not read ends as Cancelled, and the
// socket stays usable for a short final read afterwards.
TEST(SocketCancel, EndsAStuckWrite) {
  absl::Status write, after;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    int small = 16384;
    ::setsockopt(pair->server.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::setsockopt(pair->client.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    const std::string body(16 << 20, 'x');
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      co_await SleepFor(50ms);
      pair->server.Cancel();
    });
    Writer writer(&pair->server);
    write = co_await writer.Write(body, After(10s));
    co_await peers.Join();
    CO_ASSERT_OK(co_await testing::SendAll(pair->client, "QUIT\r\n", After(5s)));
    LineReader reader(&pair->server, 1000);
    after = (co_await reader.ReadLine(After(5s))).status();
  }());
  EXPECT_TRUE(absl::IsCancelled(write)) << write;
  EXPECT_TRUE(after.ok()) << after;
}

// Ring::CancelFd reaches only what is in flight: with nothing in flight it
// is lost, and the next read runs to its deadline. (Why sessions use
// Socket::Cancel.)
TEST(SocketCancel, RingCancelFdBetweenOperationsIsNotSticky) {
  absl::Status read;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    Ring::Current()->CancelFd(pair->server.fd());
    co_await SleepFor(5ms);  // the cancellation is submitted and finds nothing
    std::string buf;
    read = (co_await pair->server.ReadSome(buf, After(100ms))).status();
  }());
  EXPECT_TRUE(absl::IsDeadlineExceeded(read)) << read;
}

}  // namespace
}  // namespace salvo
