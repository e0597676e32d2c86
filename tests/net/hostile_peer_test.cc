// Peers that misbehave: an endless line, silence, a trickle that never ends
// a line, a reset in the middle of a large write, a reset while we wait to
// read, a half-close. Each ends that one connection with a clear status; the
// process carries on (SIGPIPE keeps its default, fatal action here, so a
// send without MSG_NOSIGNAL would kill the test).
#include <signal.h>
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
using testing::SendAll;

class HostilePeer : public ::testing::Test {
 protected:
  void SetUp() override { previous_ = ::signal(SIGPIPE, SIG_DFL); }
  void TearDown() override { ::signal(SIGPIPE, previous_); }

 private:
  sighandler_t previous_ = SIG_DFL;
};

// Closes `s` with SO_LINGER {1, 0}: the kernel sends RST instead of FIN and
// drops whatever is unsent or unread.
void ResetConnection(Socket& s) {
  linger l{.l_onoff = 1, .l_linger = 0};
  ASSERT_EQ(::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
  s.Close();
}

TEST_F(HostilePeer, EndlessLineIsRefusedAndTheConnectionRecovers) {
  absl::Status too_long;
  std::string next;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    LineReader reader(&pair->server, 1000);
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      std::string flood(4 << 20, 'A');  // 4 MB without a line ending
      flood += "\r\nQUIT\r\n";
      EXPECT_TRUE((co_await SendAll(pair->client, flood, After(10s))).ok());
    });
    too_long = (co_await reader.ReadLine(After(10s))).status();
    auto line = co_await reader.ReadLine(After(10s));
    co_await peers.Join();
    CO_ASSERT_OK(line);
    next = std::string(*line);
  }());
  EXPECT_TRUE(absl::IsResourceExhausted(too_long)) << too_long;
  EXPECT_EQ(next, "QUIT");
}

TEST_F(HostilePeer, SilentClientMeetsTheDeadline) {
  absl::Status line_status, exact_status;
  Clock::duration waited{};
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    LineReader reader(&pair->server, 1000);
    auto start = Clock::now();
    line_status = (co_await reader.ReadLine(start + 100ms)).status();
    waited = Clock::now() - start;
    exact_status = (co_await reader.ReadExactly(10, After(50ms))).status();
  }());
  EXPECT_TRUE(absl::IsDeadlineExceeded(line_status)) << line_status;
  EXPECT_TRUE(absl::IsDeadlineExceeded(exact_status)) << exact_status;
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 5s);
}

// Slowloris: a byte every 10 ms keeps each receive short, but the deadline
// is for the whole line, so the trickle cannot hold the session open.
TEST_F(HostilePeer, TrickleThatNeverEndsALineMeetsTheDeadline) {
  absl::Status status;
  Clock::duration waited{};
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    LineReader reader(&pair->server, 100000);
    bool done = false;
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      for (int i = 0; i < 200 && !done; ++i) {
        if (!(co_await SendAll(pair->client, "x", After(1s))).ok()) break;
        co_await SleepFor(10ms);
      }
    });
    auto start = Clock::now();
    status = (co_await reader.ReadLine(start + 300ms)).status();
    waited = Clock::now() - start;
    done = true;
    co_await peers.Join();
  }());
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 1500ms);
}

TEST_F(HostilePeer, ResetWhileWeWriteMegabytesEndsTheWriteAsUnavailable) {
  absl::Status write_status, second_write, read_status;
  size_t peer_took = 0;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      // Take a little, then vanish with RST while the server is mid-write.
      auto got = co_await ReceiveUpTo(pair->client, 256 << 10, After(10s));
      if (got.ok()) peer_took = got->size();
      ResetConnection(pair->client);
    });
    std::string body(16 << 20, 'm');
    Writer writer(&pair->server);
    write_status = co_await writer.Write(body, After(10s));
    second_write = co_await writer.Write("250 OK\r\n", After(1s));
    std::string buf;
    read_status = (co_await pair->server.ReadSome(buf, After(1s))).status();
    co_await peers.Join();
  }());
  EXPECT_GE(peer_took, 256u << 10);
  EXPECT_TRUE(absl::IsUnavailable(write_status)) << write_status;
  EXPECT_TRUE(absl::IsUnavailable(second_write)) << second_write;
  // After a reset, reads end with an error or an end of stream, never hang.
  EXPECT_TRUE(absl::IsUnavailable(read_status) || read_status.ok()) << read_status;
}

TEST_F(HostilePeer, ResetWhileWeWaitToReadEndsTheReadAsUnavailable) {
  absl::Status status;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      co_await SleepFor(20ms);
      ResetConnection(pair->client);
    });
    LineReader reader(&pair->server, 1000);
    status = (co_await reader.ReadLine(After(5s))).status();
    co_await peers.Join();
  }());
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

TEST_F(HostilePeer, ResetAfterPartialLineEndsTheReadAsUnavailable) {
  absl::Status status;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    CO_ASSERT_OK(co_await SendAll(pair->client, "MAIL FROM:<", After(1s)));
    ResetConnection(pair->client);
    LineReader reader(&pair->server, 1000);
    status = (co_await reader.ReadLine(After(5s))).status();
  }());
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

// The client sends its last command and shuts down its sending side; the
// server still reads the command, sees the end, and can still answer.
TEST_F(HostilePeer, HalfCloseStillGetsTheReply) {
  std::vector<std::string> lines;
  absl::Status end;
  std::string reply;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    CO_ASSERT_OK(co_await SendAll(pair->client, "NOOP\r\nQUIT\r\n", After(1s)));
    CO_ASSERT_OK(co_await pair->client.ShutdownWrite(After(1s)));
    LineReader reader(&pair->server, 1000);
    for (int i = 0; i < 3; ++i) {
      auto line = co_await reader.ReadLine(After(5s));
      if (!line.ok()) {
        end = line.status();
        break;
      }
      lines.emplace_back(*line);
    }
    Writer writer(&pair->server);
    writer.Append("250 OK\r\n");
    writer.Append("221 Bye\r\n");
    CO_ASSERT_OK(co_await writer.Flush(After(5s)));
    CO_ASSERT_OK(co_await pair->server.ShutdownWrite(After(1s)));
    auto got = co_await ReceiveUpTo(pair->client, 1000, After(5s));
    CO_ASSERT_OK(got);
    reply = *got;
  }());
  EXPECT_EQ(lines, (std::vector<std::string>{"NOOP", "QUIT"}));
  EXPECT_TRUE(IsEndOfStream(end)) << end;
  EXPECT_EQ(reply, "250 OK\r\n221 Bye\r\n");
}

// Our own half-close: the peer sees the end of our data and can still talk.
TEST_F(HostilePeer, OurShutdownWriteLetsThePeerFinishSending) {
  absl::StatusOr<size_t> peer_read = 1;
  std::string late;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    CO_ASSERT_OK(co_await pair->server.ShutdownWrite(After(1s)));
    std::string buf;
    peer_read = co_await pair->client.ReadSome(buf, After(5s));
    CO_ASSERT_OK(co_await SendAll(pair->client, "late line\r\n", After(1s)));
    LineReader reader(&pair->server, 1000);
    auto line = co_await reader.ReadLine(After(5s));
    CO_ASSERT_OK(line);
    late = std::string(*line);
  }());
  ASSERT_TRUE(peer_read.ok()) << peer_read.status();
  EXPECT_EQ(*peer_read, 0u);
  EXPECT_EQ(late, "late line");
}

// Many hostile peers at once on one ring: each ends with its own status and
// the well-behaved one in the middle is served.
TEST_F(HostilePeer, OneBadConnectionDoesNotDisturbTheOthers) {
  absl::Status silent, reset, too_long;
  std::string good;
  RunOnRing([&]() -> Task<void> {
    auto a = co_await ConnectedPair();
    auto b = co_await ConnectedPair();
    auto c = co_await ConnectedPair();
    auto d = co_await ConnectedPair();
    CO_ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      LineReader r(&a->server, 100);
      silent = (co_await r.ReadLine(After(200ms))).status();
    });
    peers.SpawnCall([&]() -> Task<void> {
      LineReader r(&b->server, 100);
      reset = (co_await r.ReadLine(After(5s))).status();
    });
    peers.SpawnCall([&]() -> Task<void> {
      LineReader r(&c->server, 100);
      too_long = (co_await r.ReadLine(After(5s))).status();
    });
    peers.SpawnCall([&]() -> Task<void> {
      LineReader r(&d->server, 100);
      auto line = co_await r.ReadLine(After(5s));
      if (line.ok()) good = std::string(*line);
    });
    ResetConnection(b->client);
    absl::Status sent_c = co_await SendAll(c->client, std::string(5000, 'c'), After(1s));
    absl::Status sent_d = co_await SendAll(d->client, "EHLO good.example\r\n", After(1s));
    co_await peers.Join();
    EXPECT_TRUE(sent_c.ok()) << sent_c;
    EXPECT_TRUE(sent_d.ok()) << sent_d;
  }());
  EXPECT_TRUE(absl::IsDeadlineExceeded(silent)) << silent;
  EXPECT_TRUE(absl::IsUnavailable(reset)) << reset;
  EXPECT_TRUE(absl::IsResourceExhausted(too_long)) << too_long;
  EXPECT_EQ(good, "EHLO good.example");
}

}  // namespace
}  // namespace salvo
