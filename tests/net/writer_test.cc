// Writer and Socket::WriteAll: buffered replies, gathered writes of many
// parts (more than IOV_MAX), multi-megabyte writes that the kernel takes in
// partial sends, and a peer that stops reading.
#include "engine/net/writer.h"

#include <limits.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"
#include "tests/net/net_fixture.h"

namespace salvo {
namespace {

using namespace std::chrono_literals;

using testing::ConnectedPair;
using testing::ReceiveUpTo;
using testing::RunOnRing;

// A body whose every position is checkable: no two 4 KB windows are alike.
std::string PatternedBody(size_t size) {
  std::string body;
  body.reserve(size);
  for (size_t i = 0; body.size() < size; ++i) {
    body += "line " + std::to_string(i) + " of the message body\r\n";
  }
  body.resize(size);
  return body;
}

void SetBuffers(int fd, int sndbuf, int rcvbuf) {
  if (sndbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
}

TEST(Writer, AppendedRepliesGoOutInOneFlush) {
  std::string got;
  size_t pending_before = 0, pending_after = 1;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    Writer writer(&pair->server);
    CO_ASSERT_OK(co_await writer.Flush(After(1s)));  // nothing to send
    writer.Append("250-mx.example.org\r\n");
    writer.Append("250-PIPELINING\r\n");
    writer.Append("250 CHUNKING\r\n");
    pending_before = writer.pending();
    CO_ASSERT_OK(co_await writer.Flush(After(5s)));
    pending_after = writer.pending();
    CO_ASSERT_OK(co_await writer.Write("354 go ahead\r\n", After(5s)));
    auto r = co_await ReceiveUpTo(pair->client, 64, After(5s));
    CO_ASSERT_OK(r);
    got = *r;
  }());
  EXPECT_EQ(pending_before, 50u);
  EXPECT_EQ(pending_after, 0u);
  EXPECT_EQ(got, "250-mx.example.org\r\n250-PIPELINING\r\n250 CHUNKING\r\n354 go ahead\r\n");
}

TEST(Writer, GatheredFlushOfManyPartsArrivesIntactAndInOrder) {
  // 3000 parts of varied sizes (some empty), more than IOV_MAX per sendmsg.
  std::vector<std::string> storage;
  for (int i = 0; i < 3000; ++i) {
    storage.push_back(i % 7 == 0
                          ? std::string()
                          : std::string(i % 50, 'a' + i % 26) + "|" + std::to_string(i) + "\r\n");
  }
  ASSERT_GT(storage.size(), static_cast<size_t>(IOV_MAX));
  std::vector<std::string_view> parts(storage.begin(), storage.end());
  std::string expected = "250 header\r\n";
  for (const auto& p : storage) expected += p;
  std::string got;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      auto r = co_await ReceiveUpTo(pair->client, expected.size(), After(10s));
      if (r.ok()) got = std::move(*r);
    });
    Writer writer(&pair->server);
    writer.Append("250 header\r\n");
    absl::Status s = co_await writer.FlushWith(parts, After(10s));
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(writer.pending(), 0u);
    co_await peers.Join();
  }());
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "gathered bytes differ from the parts in order";
}

// The kernel takes a large send in pieces; WriteAll must carry on from the
// exact byte where each partial send stopped, across part boundaries.
TEST(Writer, MegabytesCompleteThroughPartialSends) {
  const std::string body = PatternedBody(6 << 20);
  const std::string head = "DATA header\r\n";
  const std::string tail = "\r\n.\r\n";
  std::string got;
  size_t first_send = 0;
  int reads = 0;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    SetBuffers(pair->server.fd(), 64 << 10, 0);
    SetBuffers(pair->client.fd(), 0, 64 << 10);
    // One raw send proves the kernel does stop short here.
    auto n = co_await pair->server.WriteSome(body, After(5s));
    CO_ASSERT_OK(n);
    first_send = *n;
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      // A slow reader: small reads with pauses, so sends stay partial.
      std::string all;
      const size_t total = first_send + head.size() + body.size() + tail.size();
      for (; reads < 1000000 && all.size() < total; ++reads) {
        auto r = co_await pair->client.ReadSome(all, After(10s));
        if (!r.ok() || *r == 0) break;
        if (reads % 64 == 0) co_await SleepFor(1ms);
      }
      got = std::move(all);
    });
    Writer writer(&pair->server);
    writer.Append(head);
    std::string_view parts[] = {body, tail};
    absl::Status s = co_await writer.FlushWith(parts, After(20s));
    EXPECT_TRUE(s.ok()) << s;
    co_await peers.Join(After(20s));
  }());
  EXPECT_GT(first_send, 0u);
  EXPECT_GT(reads, 1);
  EXPECT_LT(first_send, body.size());
  ASSERT_EQ(got.size(), first_send + head.size() + body.size() + tail.size());
  EXPECT_TRUE(std::string_view(got).substr(0, first_send) == body.substr(0, first_send));
  EXPECT_TRUE(std::string_view(got).substr(first_send) == head + body + tail)
      << "bytes lost, repeated or reordered across partial sends";
}

// A receiver that never reads: the write cannot finish, its deadline ends it.
TEST(Writer, PeerThatStopsReadingMeetsTheWriteDeadline) {
  absl::Status s;
  Clock::duration waited{};
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    SetBuffers(pair->server.fd(), 16384, 0);
    SetBuffers(pair->client.fd(), 0, 16384);
    std::string body(32 << 20, 'b');
    Writer writer(&pair->server);
    auto start = Clock::now();
    s = co_await writer.Write(body, start + 200ms);
    waited = Clock::now() - start;
  }());
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 5s);
}

// Shutdown cancels a shard's pending operations by fd: a write stuck behind
// a peer that does not read ends as Cancelled, well before its deadline.
TEST(Writer, CancelFdEndsAPendingWrite) {
  absl::Status s;
  Clock::duration waited{};
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    SetBuffers(pair->server.fd(), 16384, 0);
    SetBuffers(pair->client.fd(), 0, 16384);
    const std::string body(32 << 20, 'c');
    std::string_view parts[] = {body};
    Writer writer(&pair->server);
    writer.Append("250 header\r\n");
    // Nothing runs between the canceller's start and the first send: the
    // sends fill the socket at once and the last one is pending at 50 ms.
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      co_await SleepFor(50ms);
      Ring::Current()->CancelFd(pair->server.fd());
    });
    auto start = Clock::now();
    s = co_await writer.FlushWith(parts, After(10s));
    waited = Clock::now() - start;
    co_await peers.Join();
  }());
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_LT(waited, 5s);
}

// A cancellation that arrives while no operation is in flight (the session
// is runnable, e.g. resumed in the same batch of completions as the stop
// request) must still end the session's next operation. Ring::CancelFd
// reaches only what is in flight; Socket::Cancel() is the sticky one.
TEST(Writer, CancelBetweenOperationsEndsTheNextOne) {
  absl::Status s;
  Clock::duration waited{};
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    Writer writer(&pair->server);
    CO_ASSERT_OK(co_await writer.Write("220 ready\r\n", After(1s)));
    pair->server.Cancel();  // the stop request lands now
    std::string buf;
    auto start = Clock::now();
    s = (co_await pair->server.ReadSome(buf, After(2s))).status();  // the peer is silent
    waited = Clock::now() - start;
  }());
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_LT(waited, 1s);
}

}  // namespace
}  // namespace salvo
