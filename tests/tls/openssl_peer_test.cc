// TlsStream against OpenSSL's own tools on loopback: our client against a
// real `openssl s_server` (verification policies, data both ways, a
// KeyUpdate the server asks us to answer) and our server, on a Listener on
// the Ring, against a real `openssl s_client`.
#include <memory>
#include <string>

#include "engine/loop/ops.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "engine/tls/tls_stream.h"
#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"
#include "tests/tls/peer_process.h"

namespace salvo {
namespace {

using namespace std::chrono_literals;
using testing::PeerProcess;
using testing::RunOnRing;

class OpenSslPeerTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() { certs_ = testing::MakeTestCerts().release(); }
  static void TearDownTestSuite() { delete certs_; }

  // `openssl s_server` serving the localhost certificate on a free port.
  void StartServer() {
    port_ = testing::FreeLoopbackPort();
    ASSERT_NE(port_, 0);
    // stdbuf: s_server reports some events (KeyUpdate) with printf.
    auto p = PeerProcess::Start({"stdbuf", "-oL", "openssl", "s_server", "-accept",
                                 "127.0.0.1:" + std::to_string(port_), "-cert", certs_->cert,
                                 "-key", certs_->key});
    ASSERT_TRUE(p.ok()) << p.status();
    peer_ = std::move(*p);
  }

  static TlsContext ClientContext(TlsVerify verify, const std::string& ca_file) {
    auto ctx = TlsContext::Client({.verify = verify, .ca_file = ca_file});
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    return std::move(*ctx);
  }

  // Connects to s_server and runs the client handshake.
  Task<absl::StatusOr<std::unique_ptr<TlsStream>>> ConnectTls(Socket& sock, TlsContext& ctx,
                                                              std::string sni) {
    auto addr = SocketAddress::Parse("127.0.0.1:" + std::to_string(port_));
    CO_ASSIGN_OR_RETURN(sock, co_await Connect(*addr, std::nullopt, After(10s)));
    co_return co_await TlsStream::Handshake(ctx, &sock, TlsRole::kClient, std::move(sni),
                                            After(10s));
  }

  static testing::TestCerts* certs_;
  int port_ = 0;
  std::unique_ptr<PeerProcess> peer_;
};
testing::TestCerts* OpenSslPeerTest::certs_ = nullptr;

Task<absl::Status> WriteText(Stream& s, std::string text) {
  std::string_view part(text);
  co_return co_await s.WriteAll({&part, 1}, After(10s));
}

TEST_F(OpenSslPeerTest, ClientExchangesDataWithOpenSslServerAndAnswersKeyUpdate) {
  StartServer();
  RunOnRing([](OpenSslPeerTest* t) -> Task<void> {
    CO_ASSERT_OK(co_await t->peer_->WaitFor("ACCEPT", After(10s)));
    TlsContext ctx = ClientContext(TlsVerify::kRequired, t->certs_->cert);
    Socket sock;
    auto tls = co_await t->ConnectTls(sock, ctx, "localhost");
    CO_ASSERT_OK(tls);
    TlsStream& s = **tls;
    EXPECT_TRUE(s.peer_verified());
    EXPECT_EQ(s.protocol(), "TLSv1.3");

    CO_ASSERT_OK(co_await WriteText(s, "hello from salvo\n"));
    CO_ASSERT_OK(co_await t->peer_->WaitFor("hello from salvo", After(10s)));
    LineReader reader(&s, 1000);
    CO_ASSERT_TRUE(t->peer_->WriteStdin("hello from s_server\n"));
    auto line = co_await reader.ReadLine(After(10s));
    CO_ASSERT_OK(line);
    EXPECT_EQ(*line, "hello from s_server");

    // "K": s_server sends a KeyUpdate asking for ours in return; the next
    // data in both directions uses the new keys.
    CO_ASSERT_TRUE(t->peer_->WriteStdin("K\n"));
    CO_ASSERT_OK(co_await t->peer_->WaitFor("SSL_do_handshake -> 1", After(10s)));
    CO_ASSERT_TRUE(t->peer_->WriteStdin("after key update\n"));
    line = co_await reader.ReadLine(After(10s));
    CO_ASSERT_OK(line);
    EXPECT_EQ(*line, "after key update");
    CO_ASSERT_OK(co_await WriteText(s, "still talking\n"));
    CO_ASSERT_OK(co_await t->peer_->WaitFor("still talking", After(10s)));

    CO_ASSERT_OK(co_await s.ShutdownWrite(After(10s)));
    CO_ASSERT_OK(co_await t->peer_->WaitFor("DONE", After(10s)));  // saw our close_notify
  }(this));
}

TEST_F(OpenSslPeerTest, RequiredVerificationFailsForWrongNameAndUntrustedCertificate) {
  StartServer();
  RunOnRing([](OpenSslPeerTest* t) -> Task<void> {
    CO_ASSERT_OK(co_await t->peer_->WaitFor("ACCEPT", After(10s)));
    {
      TlsContext ctx = ClientContext(TlsVerify::kRequired, t->certs_->cert);
      Socket sock;
      auto tls = co_await t->ConnectTls(sock, ctx, "mx.wrong.test");
      EXPECT_TRUE(absl::IsPermissionDenied(tls.status())) << tls.status();
      EXPECT_NE(tls.status().message().find("mx.wrong.test not verified: hostname mismatch"),
                absl::string_view::npos)
          << tls.status();
    }
    {
      TlsContext ctx = ClientContext(TlsVerify::kRequired, t->certs_->other_cert);
      Socket sock;
      auto tls = co_await t->ConnectTls(sock, ctx, "localhost");
      EXPECT_TRUE(absl::IsPermissionDenied(tls.status())) << tls.status();
      EXPECT_NE(tls.status().message().find("self-signed certificate"), absl::string_view::npos)
          << tls.status();
    }
    // The server heard why: our alert.
    CO_ASSERT_OK(co_await t->peer_->WaitFor("alert", After(10s)));
  }(this));
}

TEST_F(OpenSslPeerTest, OpportunisticEncryptsAndRecordsTheVerificationResult) {
  StartServer();
  RunOnRing([](OpenSslPeerTest* t) -> Task<void> {
    CO_ASSERT_OK(co_await t->peer_->WaitFor("ACCEPT", After(10s)));
    {
      // Untrusted: encrypted all the same, reported unverified.
      TlsContext ctx = ClientContext(TlsVerify::kOpportunistic, t->certs_->other_cert);
      Socket sock;
      auto tls = co_await t->ConnectTls(sock, ctx, "localhost");
      CO_ASSERT_OK(tls);
      EXPECT_FALSE((*tls)->peer_verified());
      EXPECT_EQ((*tls)->verify_error(), "self-signed certificate");
      EXPECT_NE((*tls)->Summary().find("unverified"), std::string::npos);
      CO_ASSERT_OK(co_await WriteText(**tls, "opportunistic data\n"));
      CO_ASSERT_OK(co_await t->peer_->WaitFor("opportunistic data", After(10s)));
      CO_ASSERT_OK(co_await (*tls)->ShutdownWrite(After(10s)));
    }
    {
      // Trusted but the wrong name: still unverified, and says why.
      TlsContext ctx = ClientContext(TlsVerify::kOpportunistic, t->certs_->cert);
      Socket sock;
      auto tls = co_await t->ConnectTls(sock, ctx, "mx.wrong.test");
      CO_ASSERT_OK(tls);
      EXPECT_FALSE((*tls)->peer_verified());
      EXPECT_EQ((*tls)->verify_error(), "hostname mismatch");
      CO_ASSERT_OK(co_await (*tls)->ShutdownWrite(After(10s)));
    }
    {
      TlsContext ctx = ClientContext(TlsVerify::kOpportunistic, t->certs_->cert);
      Socket sock;
      auto tls = co_await t->ConnectTls(sock, ctx, "localhost");
      CO_ASSERT_OK(tls);
      EXPECT_TRUE((*tls)->peer_verified());
      CO_ASSERT_OK(co_await (*tls)->ShutdownWrite(After(10s)));
    }
    {
      // Off: no checks, nothing recorded; IP literal needs no SNI.
      TlsContext ctx = ClientContext(TlsVerify::kOff, "");
      Socket sock;
      auto tls = co_await t->ConnectTls(sock, ctx, "127.0.0.1");
      CO_ASSERT_OK(tls);
      EXPECT_FALSE((*tls)->peer_verified());
      EXPECT_EQ((*tls)->verify_error(), "");
      CO_ASSERT_OK(co_await (*tls)->ShutdownWrite(After(10s)));
    }
  }(this));
}

TEST_F(OpenSslPeerTest, RequiredVerificationAcceptsAnIpLiteralInTheCertificate) {
  StartServer();
  RunOnRing([](OpenSslPeerTest* t) -> Task<void> {
    CO_ASSERT_OK(co_await t->peer_->WaitFor("ACCEPT", After(10s)));
    TlsContext ctx = ClientContext(TlsVerify::kRequired, t->certs_->cert);
    Socket sock;
    auto tls = co_await t->ConnectTls(sock, ctx, "127.0.0.1");
    CO_ASSERT_OK(tls);
    EXPECT_TRUE((*tls)->peer_verified());
  }(this));
}

TEST_F(OpenSslPeerTest, ServerOnListenerExchangesDataWithOpenSslClient) {
  RunOnRing([](OpenSslPeerTest* t) -> Task<void> {
    auto listener = Listener::Bind(*SocketAddress::Parse("127.0.0.1:0"));
    CO_ASSERT_OK(listener);
    auto ctx = TlsContext::Server({.cert_chain_file = t->certs_->cert, .key_file = t->certs_->key});
    CO_ASSERT_OK(ctx);
    // s_client checks our certificate and name, and gives up otherwise.
    auto p = PeerProcess::Start({"openssl", "s_client", "-connect", listener->address().ToString(),
                                 "-servername", "localhost", "-CAfile", t->certs_->cert,
                                 "-verify_hostname", "localhost", "-verify_return_error"});
    CO_ASSERT_OK(p);
    PeerProcess& client = **p;
    auto sock = co_await listener->Accept(After(10s));
    co_await testing::CloseListener(*listener);
    CO_ASSERT_OK(sock);
    auto tls = co_await TlsStream::Handshake(*ctx, &*sock, TlsRole::kServer, "", After(10s));
    CO_ASSERT_OK(tls);
    TlsStream& s = **tls;
    EXPECT_EQ(s.server_name(), "localhost");
    EXPECT_FALSE(s.peer_verified());  // a server verifies no one here
    CO_ASSERT_OK(co_await client.WaitFor("Verify return code: 0 (ok)", After(10s)));

    LineReader reader(&s, 1000);
    CO_ASSERT_TRUE(client.WriteStdin("hello from s_client\n"));
    auto line = co_await reader.ReadLine(After(10s));
    CO_ASSERT_OK(line);
    EXPECT_EQ(*line, "hello from s_client");
    CO_ASSERT_OK(co_await WriteText(s, "hello from salvo\r\n"));
    CO_ASSERT_OK(co_await client.WaitFor("hello from salvo", After(10s)));

    // The client asks for a KeyUpdate; we answer it while reading.
    // (s_client drops the rest of what it read with "K": wait for it.)
    CO_ASSERT_TRUE(client.WriteStdin("K\n"));
    CO_ASSERT_OK(co_await client.WaitFor("KEYUPDATE", After(10s)));
    CO_ASSERT_TRUE(client.WriteStdin("second line\n"));
    line = co_await reader.ReadLine(After(10s));
    CO_ASSERT_OK(line);
    EXPECT_EQ(*line, "second line");
    CO_ASSERT_OK(co_await WriteText(s, "bye\r\n"));
    CO_ASSERT_OK(co_await client.WaitFor("bye", After(10s)));

    // Our close_notify ends s_client's session.
    CO_ASSERT_OK(co_await s.ShutdownWrite(After(10s)));
    CO_ASSERT_OK(co_await client.WaitFor("closed", After(10s)));
  }(this));
}

}  // namespace
}  // namespace salvo
