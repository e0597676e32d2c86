// TlsStream against itself on loopback: data both ways, close_notify versus
// a bare TCP close, large gathered writes, record coalescing, full duplex.
#include "engine/tls/tls_stream.h"

#include <memory>
#include <string>
#include <vector>

#include "engine/loop/ops.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"
#include "tests/tls/peer_process.h"
#include "tests/tls/tls_fixture.h"

namespace salvo {
namespace {

using namespace std::chrono_literals;
using testing::BackgroundTask;
using testing::ConnectedPair;
using testing::RunOnRing;

// A transport that counts what goes through it (the TLS ciphertext).
class CountingStream final : public Stream {
 public:
  explicit CountingStream(Stream* inner) : inner_(inner) {}
  Task<absl::StatusOr<size_t>> ReadSome(std::string& dst, Deadline deadline) override {
    return inner_->ReadSome(dst, deadline);
  }
  Task<absl::Status> WriteAll(std::span<const std::string_view> parts, Deadline deadline) override {
    ++writes;
    for (std::string_view p : parts) bytes_written += p.size();
    return inner_->WriteAll(parts, deadline);
  }
  Task<absl::Status> ShutdownWrite(Deadline deadline) override {
    return inner_->ShutdownWrite(deadline);
  }
  int fd() const override { return inner_->fd(); }

  size_t writes = 0;
  size_t bytes_written = 0;

 private:
  Stream* inner_;
};

// A transport whose writes each take a little longer (a slow link), so a
// flush stays in progress while the other direction moves on.
class SlowWriteStream final : public Stream {
 public:
  explicit SlowWriteStream(Stream* inner) : inner_(inner) {}
  Task<absl::StatusOr<size_t>> ReadSome(std::string& dst, Deadline deadline) override {
    return inner_->ReadSome(dst, deadline);
  }
  Task<absl::Status> WriteAll(std::span<const std::string_view> parts, Deadline deadline) override {
    co_await SleepFor(2ms);
    co_return co_await inner_->WriteAll(parts, deadline);
  }
  Task<absl::Status> ShutdownWrite(Deadline deadline) override {
    return inner_->ShutdownWrite(deadline);
  }
  int fd() const override { return inner_->fd(); }

 private:
  Stream* inner_;
};

class TlsStreamTest : public testing::TlsContextTest {};

// Reads until `want` bytes arrived or the stream ends; records the largest
// single read.
Task<absl::StatusOr<std::string>> ReadBytes(Stream& s, size_t want, size_t* largest_read) {
  std::string got;
  while (got.size() < want) {
    size_t before = got.size();
    CO_ASSIGN_OR_RETURN(size_t n, co_await s.ReadSome(got, After(20s)));
    if (n == 0) break;
    if (largest_read != nullptr) *largest_read = std::max(*largest_read, got.size() - before);
  }
  co_return got;
}

std::string Pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

Task<void> EchoOneLineServer(TlsContext* ctx, Socket* sock, std::string* sni_seen) {
  auto tls = co_await TlsStream::Handshake(*ctx, sock, TlsRole::kServer, "", After(10s));
  CO_ASSERT_OK(tls);
  *sni_seen = (*tls)->server_name();
  LineReader reader(tls->get(), 1000);
  auto line = co_await reader.ReadLine(After(10s));
  CO_ASSERT_OK(line);
  EXPECT_EQ(*line, "hello from client");
  std::string reply = "hello from server\r\n";
  std::string_view part(reply);
  CO_ASSERT_OK(co_await (*tls)->WriteAll({&part, 1}, After(10s)));
  // The client's close_notify is an orderly end, not a truncation.
  std::string rest;
  auto n = co_await (*tls)->ReadSome(rest, After(10s));
  CO_ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_FALSE((*tls)->closed_without_close_notify());
  CO_ASSERT_OK(co_await (*tls)->ShutdownWrite(After(10s)));
}

TEST_F(TlsStreamTest, ClientAndServerExchangeDataBothWaysAndCloseNotify) {
  RunOnRing([](TlsStreamTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    std::string sni_seen;
    BackgroundTask server(EchoOneLineServer(t->server_ctx_.get(), &server_sock, &sni_seen));
    auto tls = co_await TlsStream::Handshake(*t->client_ctx_, &client_sock, TlsRole::kClient,
                                             "localhost", After(10s));
    if (tls.ok()) {
      TlsStream& s = **tls;
      EXPECT_TRUE(s.peer_verified());
      EXPECT_EQ(s.verify_error(), "");
      EXPECT_EQ(s.protocol(), "TLSv1.3");
      EXPECT_FALSE(s.cipher().empty());
      EXPECT_GE(s.cipher_bits(), 128);
      EXPECT_NE(s.Summary().find("TLSv1.3 with cipher"), std::string::npos) << s.Summary();
      EXPECT_NE(s.Summary().find(" verified"), std::string::npos) << s.Summary();
      EXPECT_NE(s.peer_subject().find("CN=localhost"), std::string::npos) << s.peer_subject();
      EXPECT_EQ(s.fd(), client_sock.fd());
      std::string hello = "hello from client\r\n";
      std::string_view part(hello);
      EXPECT_TRUE((co_await s.WriteAll({&part, 1}, After(10s))).ok());
      LineReader reader(&s, 1000);
      auto line = co_await reader.ReadLine(After(10s));
      EXPECT_TRUE(line.ok()) << line.status();
      if (line.ok()) {
        EXPECT_EQ(*line, "hello from server");
      }
      EXPECT_TRUE((co_await s.ShutdownWrite(After(10s))).ok());
      std::string rest;
      auto n = co_await s.ReadSome(rest, After(10s));
      EXPECT_TRUE(n.ok() && *n == 0) << n.status();
      EXPECT_FALSE(s.closed_without_close_notify());
      // Writing after close_notify is refused.
      EXPECT_TRUE(absl::IsFailedPrecondition(co_await s.WriteAll({&part, 1}, After(10s))));
    } else {
      ADD_FAILURE() << tls.status();
    }
    co_await server.Join();
    EXPECT_EQ(sni_seen, "localhost");
  }(this));
}

Task<void> ReceiveAndCompare(TlsContext* ctx, Socket* sock, const std::string* expected) {
  auto tls = co_await TlsStream::Handshake(*ctx, sock, TlsRole::kServer, "", After(10s));
  CO_ASSERT_OK(tls);
  size_t largest = 0;
  auto got = co_await ReadBytes(**tls, expected->size(), &largest);
  CO_ASSERT_OK(got);
  EXPECT_TRUE(*got == *expected) << "received " << got->size() << " of " << expected->size();
  // Bounded: one read never hands out more than one record.
  EXPECT_LE(largest, TlsStream::kMaxRecord);
  EXPECT_GT(largest, 0u);
}

TEST_F(TlsStreamTest, LargeGatheredWriteArrivesIntactInBoundedReads) {
  RunOnRing([](TlsStreamTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    // Parts of many sizes around the record size, ~4 MiB in all.
    std::vector<std::string> parts;
    std::string expected;
    const size_t sizes[] = {1, 7, 100, 16383, 16384, 16385, 70000, 3, 250000, 65536};
    for (unsigned i = 0; expected.size() < (4u << 20); ++i) {
      parts.push_back(Pattern(sizes[i % std::size(sizes)], i));
      expected += parts.back();
    }
    BackgroundTask server(ReceiveAndCompare(t->server_ctx_.get(), &server_sock, &expected));
    auto tls = co_await TlsStream::Handshake(*t->client_ctx_, &client_sock, TlsRole::kClient,
                                             "localhost", After(10s));
    EXPECT_TRUE(tls.ok()) << tls.status();
    if (tls.ok()) {
      std::vector<std::string_view> views(parts.begin(), parts.end());
      EXPECT_TRUE((co_await (*tls)->WriteAll(views, After(20s))).ok());
    }
    co_await server.Join();
  }(this));
}

TEST_F(TlsStreamTest, SmallPartsAreCoalescedIntoFullRecords) {
  RunOnRing([](TlsStreamTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    std::string expected;
    std::vector<std::string> parts;
    for (int i = 0; i < 1000; ++i) {
      parts.push_back(Pattern(10, i));
      expected += parts.back();
    }
    BackgroundTask server(ReceiveAndCompare(t->server_ctx_.get(), &server_sock, &expected));
    CountingStream counting(&client_sock);
    auto tls = co_await TlsStream::Handshake(*t->client_ctx_, &counting, TlsRole::kClient,
                                             "localhost", After(10s));
    EXPECT_TRUE(tls.ok()) << tls.status();
    if (tls.ok()) {
      counting.writes = counting.bytes_written = 0;
      std::vector<std::string_view> views(parts.begin(), parts.end());
      EXPECT_TRUE((co_await (*tls)->WriteAll(views, After(10s))).ok());
      // 10,000 bytes in one record (22 bytes of TLS 1.3 overhead), sent in
      // one write; one record per part would cost 1000 x 22 bytes more.
      EXPECT_LT(counting.bytes_written, expected.size() + 100);
      EXPECT_EQ(counting.writes, 1u);
    }
    co_await server.Join();
  }(this));
}

Task<void> ExpectTruncation(TlsContext* ctx, Socket* sock) {
  auto tls = co_await TlsStream::Handshake(*ctx, sock, TlsRole::kServer, "", After(10s));
  CO_ASSERT_OK(tls);
  std::string got;
  auto all = co_await ReadBytes(**tls, 1 << 20, nullptr);
  CO_ASSERT_OK(all);
  EXPECT_EQ(*all, "partial");
  EXPECT_TRUE((*tls)->closed_without_close_notify());
  // Stays at end of stream.
  auto n = co_await (*tls)->ReadSome(got, After(1s));
  EXPECT_TRUE(n.ok() && *n == 0) << n.status();
}

TEST_F(TlsStreamTest, TcpCloseWithoutCloseNotifyIsReportedAsTruncation) {
  RunOnRing([](TlsStreamTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    BackgroundTask server(ExpectTruncation(t->server_ctx_.get(), &server_sock));
    {
      auto tls = co_await TlsStream::Handshake(*t->client_ctx_, &client_sock, TlsRole::kClient,
                                               "localhost", After(10s));
      EXPECT_TRUE(tls.ok()) << tls.status();
      if (tls.ok()) {
        std::string_view part = "partial";
        EXPECT_TRUE((co_await (*tls)->WriteAll({&part, 1}, After(10s))).ok());
      }
    }
    // FIN without close_notify (closing outright would reset: the server's
    // session tickets are still unread).
    EXPECT_TRUE((co_await client_sock.ShutdownWrite(After(1s))).ok());
    co_await server.Join();
  }(this));
}

// Each side reads and writes at the same time: one reader and one writer on
// one TlsStream. With `rotate`, the sender asks for a KeyUpdate before each
// chunk, so the other side's reader must send its KeyUpdate while that
// side's writer is sending too. With `pause`, the writer idles between
// chunks, so the reader's KeyUpdate reply can be the flush under way when
// the writer wants to send (the writer then waits its turn).
Task<void> SendAll(TlsStream* s, const std::string* data, bool rotate, bool pause) {
  constexpr size_t kChunk = 64 * 1024;
  for (size_t off = 0; off < data->size(); off += kChunk) {
    if (rotate) {
      EXPECT_TRUE(s->UpdateKeys(/*ask_peer=*/true).ok());
    }
    if (pause) co_await SleepFor(1ms);
    std::string_view chunk = std::string_view(*data).substr(off, kChunk);
    std::string_view parts[] = {chunk.substr(0, 9000),
                                chunk.substr(std::min<size_t>(9000, chunk.size()))};
    absl::Status st = co_await s->WriteAll(parts, After(20s));
    if (!st.ok()) {
      ADD_FAILURE() << st;
      co_return;
    }
  }
}

Task<void> DuplexSide(TlsStream* s, const std::string* send, const std::string* expect,
                      bool rotate) {
  BackgroundTask writer(SendAll(s, send, rotate, /*pause=*/!rotate));
  auto got = co_await ReadBytes(*s, expect->size(), nullptr);
  EXPECT_TRUE(got.ok()) << got.status();
  if (got.ok()) {
    EXPECT_TRUE(*got == *expect);
  }
  co_await writer.Join();
}

Task<void> DuplexServer(TlsContext* ctx, Socket* sock, const std::string* send,
                        const std::string* expect) {
  auto tls = co_await TlsStream::Handshake(*ctx, sock, TlsRole::kServer, "", After(10s));
  CO_ASSERT_OK(tls);
  co_await DuplexSide(tls->get(), send, expect, /*rotate=*/true);
}

TEST_F(TlsStreamTest, FullDuplexWithKeyUpdatesMidTransfer) {
  RunOnRing([](TlsStreamTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    const std::string up = Pattern(2 << 20, 1), down = Pattern(2 << 20, 2);
    BackgroundTask server(DuplexServer(t->server_ctx_.get(), &server_sock, &down, &up));
    SlowWriteStream slow(&client_sock);
    auto tls = co_await TlsStream::Handshake(*t->client_ctx_, &slow, TlsRole::kClient, "localhost",
                                             After(10s));
    EXPECT_TRUE(tls.ok()) << tls.status();
    if (tls.ok()) co_await DuplexSide(tls->get(), &up, &down, /*rotate=*/false);
    co_await server.Join();
  }(this));
}

TEST_F(TlsStreamTest, MisuseIsRefusedBeforeAnyIo) {
  RunOnRing([](TlsStreamTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    auto wrong_side = co_await TlsStream::Handshake(*t->server_ctx_, &client_sock, TlsRole::kClient,
                                                    "localhost", After(1s));
    EXPECT_TRUE(absl::IsFailedPrecondition(wrong_side.status())) << wrong_side.status();
    auto wrong_side2 = co_await TlsStream::Handshake(*t->client_ctx_, &server_sock,
                                                     TlsRole::kServer, "", After(1s));
    EXPECT_TRUE(absl::IsFailedPrecondition(wrong_side2.status())) << wrong_side2.status();
    auto no_name = co_await TlsStream::Handshake(*t->client_ctx_, &client_sock, TlsRole::kClient,
                                                 "", After(1s));
    EXPECT_TRUE(absl::IsInvalidArgument(no_name.status())) << no_name.status();
  }(this));
}

}  // namespace
}  // namespace salvo
