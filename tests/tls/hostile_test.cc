// Hostile and broken peers: garbage instead of a handshake, a handshake that
// never completes, a peer that goes away during the handshake, resets in
// the middle of a transfer, and corrupted records. Each ends with a clear
// status within its deadline; none crashes or hangs.
#include <random>
#include <string>

#include "engine/loop/ops.h"
#include "engine/net/socket.h"
#include "engine/tls/tls_stream.h"
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

class HostileTest : public testing::TlsContextTest {};

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Sends `bytes` as a client would, then runs our server's handshake on the
// other end; returns its outcome and how long it took.
Task<void> ServerHandshakeAgainst(TlsContext* ctx, std::string bytes, bool close_after,
                                  Deadline deadline, absl::Status* status, Clock::duration* took) {
  auto [server_sock, client_sock] = co_await ConnectedPair();
  if (!bytes.empty()) {
    std::string_view part(bytes);
    CO_ASSERT_OK(co_await client_sock.WriteAll({&part, 1}, After(5s)));
  }
  if (close_after) CO_ASSERT_OK(co_await client_sock.ShutdownWrite(After(5s)));
  auto start = Clock::now();
  auto tls = co_await TlsStream::Handshake(*ctx, &server_sock, TlsRole::kServer, "", deadline);
  *took = Clock::now() - start;
  *status = tls.status();
}

TEST_F(HostileTest, GarbageHandshakeEndsWithAClearError) {
  struct Case {
    std::string name;
    std::string bytes;
  };
  std::vector<Case> cases = {
      {"plaintext SMTP", "EHLO attacker.test\r\nMAIL FROM:<a@b>\r\n"},
      {"HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      // A handshake record header with a garbage ClientHello body.
      {"fake record", std::string("\x16\x03\x01\x01\x00", 5) + RandomBytes(256, 99)},
  };
  for (unsigned seed = 1; seed <= 8; ++seed) {
    cases.push_back({"random seed " + std::to_string(seed), RandomBytes(2048, seed)});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status status;
    Clock::duration took{};
    RunOnRing(ServerHandshakeAgainst(server_ctx_.get(), c.bytes, /*close_after=*/false, After(5s),
                                     &status, &took));
    EXPECT_FALSE(status.ok());
    // Rejected on sight, not by running out the clock.
    EXPECT_TRUE(absl::IsUnavailable(status)) << status;
    EXPECT_NE(status.message().find("TLS handshake failed"), absl::string_view::npos) << status;
  }
}

TEST_F(HostileTest, StalledHandshakeHitsTheDeadline) {
  // Half a ClientHello header, then silence.
  absl::Status status;
  Clock::duration took{};
  RunOnRing(ServerHandshakeAgainst(server_ctx_.get(), std::string("\x16\x03\x01\x02", 4),
                                   /*close_after=*/false, After(300ms), &status, &took));
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 10s);

  // Nothing at all.
  RunOnRing(ServerHandshakeAgainst(server_ctx_.get(), "", false, After(200ms), &status, &took));
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
}

TEST_F(HostileTest, ClientHandshakeWithSilentServerHitsTheDeadline) {
  RunOnRing([](HostileTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    auto start = Clock::now();
    auto tls = co_await TlsStream::Handshake(*t->client_ctx_, &client_sock, TlsRole::kClient,
                                             "localhost", After(300ms));
    EXPECT_TRUE(absl::IsDeadlineExceeded(tls.status())) << tls.status();
    EXPECT_LT(Clock::now() - start, 10s);
  }(this));
}

TEST_F(HostileTest, PeerClosingDuringTheHandshakeIsUnavailable) {
  absl::Status status;
  Clock::duration took{};
  RunOnRing(ServerHandshakeAgainst(server_ctx_.get(), std::string("\x16\x03\x01\x02", 4),
                                   /*close_after=*/true, After(5s), &status, &took));
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(status.message().find("closed the connection during the TLS handshake"),
            absl::string_view::npos)
      << status;
}

Task<void> WriteUntilError(TlsContext* ctx, Socket* sock, absl::Status* result,
                           bool* handshake_done) {
  auto tls = co_await TlsStream::Handshake(*ctx, sock, TlsRole::kServer, "", After(10s));
  CO_ASSERT_OK(tls);
  *handshake_done = true;
  std::string chunk(1 << 20, 'x');
  std::string_view part(chunk);
  // Bounded: 64 MiB, far more than the socket buffers hold.
  for (int i = 0; i < 64; ++i) {
    *result = co_await (*tls)->WriteAll({&part, 1}, After(10s));
    if (!result->ok()) break;
  }
  // The stream stays failed.
  absl::Status again = co_await (*tls)->WriteAll({&part, 1}, After(1s));
  EXPECT_FALSE(again.ok());
}

TEST_F(HostileTest, PeerResettingMidWriteGivesAnError) {
  RunOnRing([](HostileTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    absl::Status write_result;
    bool handshake_done = false;
    BackgroundTask server(
        WriteUntilError(t->server_ctx_.get(), &server_sock, &write_result, &handshake_done));
    {
      auto tls = co_await TlsStream::Handshake(*t->client_ctx_, &client_sock, TlsRole::kClient,
                                               "localhost", After(10s));
      EXPECT_TRUE(tls.ok()) << tls.status();
      if (tls.ok()) {
        std::string got;
        while (got.size() < 100000) {
          auto n = co_await (*tls)->ReadSome(got, After(10s));
          if (!n.ok() || *n == 0) break;
        }
        EXPECT_GE(got.size(), 100000u);
      }
    }
    testing::ResetConnection(client_sock);
    co_await server.Join();
    EXPECT_TRUE(handshake_done);
    EXPECT_TRUE(absl::IsUnavailable(write_result)) << write_result;
  }(this));
}

Task<void> ReadUntilError(TlsContext* ctx, Socket* sock, absl::Status* result) {
  auto tls = co_await TlsStream::Handshake(*ctx, sock, TlsRole::kServer, "", After(10s));
  CO_ASSERT_OK(tls);
  std::string got;
  for (int i = 0; i < 1000; ++i) {
    auto n = co_await (*tls)->ReadSome(got, After(10s));
    if (!n.ok()) {
      *result = n.status();
      co_return;
    }
    if (*n == 0) break;
  }
  *result = absl::UnknownError("no error seen");
}

TEST_F(HostileTest, PeerResettingMidReadGivesAnError) {
  RunOnRing([](HostileTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    absl::Status read_result;
    BackgroundTask server(ReadUntilError(t->server_ctx_.get(), &server_sock, &read_result));
    {
      auto tls = co_await TlsStream::Handshake(*t->client_ctx_, &client_sock, TlsRole::kClient,
                                               "localhost", After(10s));
      EXPECT_TRUE(tls.ok()) << tls.status();
      if (tls.ok()) {
        std::string_view part = "some data, then a reset";
        EXPECT_TRUE((co_await (*tls)->WriteAll({&part, 1}, After(10s))).ok());
        co_await SleepFor(20ms);  // let the server consume it first
      }
    }
    testing::ResetConnection(client_sock);
    co_await server.Join();
    EXPECT_TRUE(absl::IsUnavailable(read_result)) << read_result;
  }(this));
}

TEST_F(HostileTest, CorruptedRecordAfterTheHandshakeIsAnError) {
  RunOnRing([](HostileTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    absl::Status read_result;
    BackgroundTask server(ReadUntilError(t->server_ctx_.get(), &server_sock, &read_result));
    auto tls = co_await TlsStream::Handshake(*t->client_ctx_, &client_sock, TlsRole::kClient,
                                             "localhost", After(10s));
    EXPECT_TRUE(tls.ok()) << tls.status();
    // An application-data record whose ciphertext is noise: bad MAC.
    std::string record = std::string("\x17\x03\x03\x00\x40", 5) + RandomBytes(64, 7);
    std::string_view part(record);
    EXPECT_TRUE((co_await client_sock.WriteAll({&part, 1}, After(10s))).ok());
    co_await server.Join();
    EXPECT_TRUE(absl::IsUnavailable(read_result)) << read_result;
    EXPECT_NE(read_result.message().find("TLS read"), absl::string_view::npos) << read_result;
  }(this));
}

}  // namespace
}  // namespace salvo
