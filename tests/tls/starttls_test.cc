// In-place STARTTLS in both directions, over a small SMTP-like exchange:
// `openssl s_client -starttls smtp` against our server side, our client side
// against Python's aiosmtpd, ours against ours, and the command-injection
// guard (CVE-2011-0411) on both sides.
#include "engine/tls/starttls.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "engine/base/strings.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "engine/net/writer.h"
#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"
#include "tests/tls/peer_process.h"
#include "tests/tls/tls_fixture.h"

namespace salvo {
namespace {

using namespace std::chrono_literals;
using testing::BackgroundTask;
using testing::ConnectedPair;
using testing::PeerProcess;
using testing::RunOnRing;

class StartTlsTest : public testing::TlsContextTest {};

// An SMTP reply: its lines joined by '\n' (the last one "ddd text").
Task<absl::StatusOr<std::string>> ReadReply(LineReader& reader) {
  std::string reply;
  for (int i = 0; i < 100; ++i) {
    CO_ASSIGN_OR_RETURN(std::string_view line, co_await reader.ReadLine(After(10s)));
    if (!reply.empty()) reply += '\n';
    reply.append(line.data(), line.size());
    if (line.size() < 4 || line[3] != '-') co_return reply;
  }
  co_return absl::OutOfRangeError("reply too long");
}

Task<absl::Status> Say(Writer& writer, std::string text) {
  co_return co_await writer.Write(text, After(10s));
}

// The server half of the exchange, up to and including the upgrade.
Task<absl::StatusOr<std::unique_ptr<TlsStream>>> ServeUntilStartTls(TlsContext& ctx, Socket& sock,
                                                                    LineReader& reader,
                                                                    Writer& writer) {
  CO_RETURN_IF_ERROR(co_await Say(writer, "220 localhost ESMTP salvo-test\r\n"));
  CO_ASSIGN_OR_RETURN(std::string_view ehlo, co_await reader.ReadLine(After(10s)));
  if (!absl::StartsWithIgnoreCase(ToAbsl(ehlo), "EHLO ")) {
    co_return absl::InvalidArgumentError("expected EHLO, got " + std::string(ehlo));
  }
  CO_RETURN_IF_ERROR(co_await Say(writer, "250-localhost\r\n250-PIPELINING\r\n250 STARTTLS\r\n"));
  CO_ASSIGN_OR_RETURN(std::string_view cmd, co_await reader.ReadLine(After(10s)));
  if (!absl::EqualsIgnoreCase(ToAbsl(cmd), "STARTTLS")) {
    co_return absl::InvalidArgumentError("expected STARTTLS, got " + std::string(cmd));
  }
  if (absl::Status s = CheckNoPipelinedInput(reader); !s.ok()) {
    (void)co_await Say(writer, "501 5.5.4 pipelined input after STARTTLS\r\n");
    co_return s;
  }
  writer.Append("220 2.0.0 Ready to start TLS\r\n");
  co_return co_await StartTls(ctx, &sock, reader, writer, TlsRole::kServer, "", After(10s));
}

TEST_F(StartTlsTest, OpenSslClientUpgradesAgainstOurServer) {
  RunOnRing([](StartTlsTest* t) -> Task<void> {
    auto listener = Listener::Bind(*SocketAddress::Parse("127.0.0.1:0"));
    CO_ASSERT_OK(listener);
    auto p = PeerProcess::Start({"openssl", "s_client", "-starttls", "smtp", "-name", "client.test",
                                 "-connect", listener->address().ToString(), "-servername",
                                 "localhost", "-CAfile", t->certs_->cert, "-verify_hostname",
                                 "localhost", "-verify_return_error"});
    CO_ASSERT_OK(p);
    PeerProcess& client = **p;
    auto sock = co_await listener->Accept(After(10s));
    co_await testing::CloseListener(*listener);
    CO_ASSERT_OK(sock);
    LineReader reader(&*sock, 1000);
    Writer writer(&*sock);
    auto tls = co_await ServeUntilStartTls(*t->server_ctx_, *sock, reader, writer);
    CO_ASSERT_OK(tls);
    CO_ASSERT_OK(co_await client.WaitFor("Verify return code: 0 (ok)", After(10s)));
    EXPECT_EQ((*tls)->server_name(), "localhost");

    // The same reader and writer now speak TLS.
    CO_ASSERT_TRUE(client.WriteStdin("EHLO client.test\n"));
    auto line = co_await reader.ReadLine(After(10s));
    CO_ASSERT_OK(line);
    EXPECT_EQ(*line, "EHLO client.test");
    CO_ASSERT_OK(co_await Say(writer, "250 localhost over TLS\r\n"));
    CO_ASSERT_OK(co_await client.WaitFor("250 localhost over TLS", After(10s)));
  }(this));
}

// aiosmtpd with a TLS context for STARTTLS, required before mail; prints
// each message it accepts.
constexpr char kAiosmtpdScript[] = R"py(
import ssl, sys
from aiosmtpd.controller import Controller
cert, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Handler:
    async def handle_DATA(self, server, session, envelope):
        print("RECEIVED tls=%s from=%s to=%s" % (session.ssl is not None,
              envelope.mail_from, ",".join(envelope.rcpt_tos)))
        print(envelope.content.decode("utf-8", "replace"))
        print("END OF MESSAGE", flush=True)
        return "250 2.0.0 stored"
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
c = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=ctx,
               require_starttls=True)
c.start()
print("READY", flush=True)
sys.stdin.read()
)py";

Task<absl::Status> Command(Writer& writer, LineReader& reader, std::string command,
                           std::string_view expect_code) {
  CO_RETURN_IF_ERROR(co_await Say(writer, command + "\r\n"));
  CO_ASSIGN_OR_RETURN(std::string reply, co_await ReadReply(reader));
  if (reply.compare(0, expect_code.size(), expect_code) != 0) {
    co_return absl::InternalError(command + " -> " + reply);
  }
  co_return absl::OkStatus();
}

TEST_F(StartTlsTest, OurClientUpgradesAgainstAiosmtpdAndDeliversAMessage) {
  int port = testing::FreeLoopbackPort();
  ASSERT_NE(port, 0);
  auto p = PeerProcess::Start(
      {"/usr/bin/python3", "-c", kAiosmtpdScript, certs_->cert, certs_->key, std::to_string(port)});
  ASSERT_TRUE(p.ok()) << p.status();
  PeerProcess& server = **p;
  RunOnRing([](StartTlsTest* t, PeerProcess* server, int port) -> Task<void> {
    CO_ASSERT_OK(co_await server->WaitFor("READY", After(20s)));
    auto sock = co_await Connect(*SocketAddress::Parse("127.0.0.1:" + std::to_string(port)),
                                 std::nullopt, After(10s));
    CO_ASSERT_OK(sock);
    LineReader reader(&*sock, 1000);
    Writer writer(&*sock);
    auto greeting = co_await ReadReply(reader);
    CO_ASSERT_OK(greeting);
    EXPECT_EQ(greeting->substr(0, 4), "220 ");
    CO_ASSERT_OK(co_await Say(writer, "EHLO client.test\r\n"));
    auto ehlo = co_await ReadReply(reader);
    CO_ASSERT_OK(ehlo);
    EXPECT_NE(ehlo->find("STARTTLS"), std::string::npos) << *ehlo;
    CO_ASSERT_OK(co_await Command(writer, reader, "STARTTLS", "220"));
    auto tls = co_await StartTls(*t->client_ctx_, &*sock, reader, writer, TlsRole::kClient,
                                 "localhost", After(10s));
    CO_ASSERT_OK(tls);
    EXPECT_TRUE((*tls)->peer_verified());

    CO_ASSERT_OK(co_await Command(writer, reader, "EHLO client.test", "250"));
    CO_ASSERT_OK(co_await Command(writer, reader, "MAIL FROM:<sender@client.test>", "250"));
    CO_ASSERT_OK(co_await Command(writer, reader, "RCPT TO:<rcpt@localhost>", "250"));
    CO_ASSERT_OK(co_await Command(writer, reader, "DATA", "354"));
    CO_ASSERT_OK(co_await Command(
        writer, reader, "Subject: over STARTTLS\r\n\r\nsent through a TlsStream\r\n.", "250"));
    CO_ASSERT_OK(co_await Command(writer, reader, "QUIT", "221"));
    CO_ASSERT_OK(co_await server->WaitFor(
        "RECEIVED tls=True from=sender@client.test to=rcpt@localhost", After(10s)));
    CO_ASSERT_OK(co_await server->WaitFor("sent through a TlsStream", After(10s)));
  }(this, &server, port));
}

Task<void> OurServer(TlsContext* ctx, Socket* sock, absl::Status* result) {
  LineReader reader(sock, 1000);
  Writer writer(sock);
  auto tls = co_await ServeUntilStartTls(*ctx, *sock, reader, writer);
  if (!tls.ok()) {
    *result = tls.status();
    co_return;
  }
  auto line = co_await reader.ReadLine(After(10s));
  CO_ASSERT_OK(line);
  EXPECT_EQ(*line, "EHLO client.test");
  CO_ASSERT_OK(co_await Say(writer, "250 localhost over TLS\r\n"));
  *result = absl::OkStatus();
}

TEST_F(StartTlsTest, OurClientAndOurServerUpgradeInProcess) {
  RunOnRing([](StartTlsTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    absl::Status server_result = absl::UnknownError("server did not finish");
    BackgroundTask server(OurServer(t->server_ctx_.get(), &server_sock, &server_result));
    LineReader reader(&client_sock, 1000);
    Writer writer(&client_sock);
    auto greeting = co_await ReadReply(reader);
    EXPECT_TRUE(greeting.ok()) << greeting.status();
    EXPECT_TRUE((co_await Command(writer, reader, "EHLO client.test", "250")).ok());
    EXPECT_TRUE((co_await Command(writer, reader, "STARTTLS", "220")).ok());
    auto tls = co_await StartTls(*t->client_ctx_, &client_sock, reader, writer, TlsRole::kClient,
                                 "localhost", After(10s));
    EXPECT_TRUE(tls.ok()) << tls.status();
    if (tls.ok()) {
      EXPECT_TRUE(
          (co_await Command(writer, reader, "EHLO client.test", "250 localhost over TLS")).ok());
    }
    co_await server.Join();
    EXPECT_TRUE(server_result.ok()) << server_result;
  }(this));
}

TEST_F(StartTlsTest, ServerRefusesPlaintextPipelinedAfterStartTls) {
  RunOnRing([](StartTlsTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    // The whole attack in one segment, before the server reads a byte.
    std::string_view attack = "EHLO evil.test\r\nSTARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n";
    CO_ASSERT_OK(co_await client_sock.WriteAll({&attack, 1}, After(10s)));
    LineReader reader(&server_sock, 1000);
    Writer writer(&server_sock);
    auto tls = co_await ServeUntilStartTls(*t->server_ctx_, server_sock, reader, writer);
    EXPECT_TRUE(absl::IsFailedPrecondition(tls.status())) << tls.status();
    EXPECT_NE(tls.status().message().find("CVE-2011-0411"), absl::string_view::npos)
        << tls.status();
    // And StartTls itself refuses too, without touching the connection.
    auto direct = co_await StartTls(*t->server_ctx_, &server_sock, reader, writer, TlsRole::kServer,
                                    "", After(1s));
    EXPECT_TRUE(absl::IsFailedPrecondition(direct.status())) << direct.status();
  }(this));
}

TEST_F(StartTlsTest, ClientRefusesBytesInjectedAfterThe220) {
  RunOnRing([](StartTlsTest* t) -> Task<void> {
    auto [server_sock, client_sock] = co_await ConnectedPair();
    // A man in the middle appends a forged reply after the real 220.
    std::string_view forged = "220 go ahead\r\n250 forged reply\r\n";
    CO_ASSERT_OK(co_await server_sock.WriteAll({&forged, 1}, After(10s)));
    LineReader reader(&client_sock, 1000);
    Writer writer(&client_sock);
    auto reply = co_await ReadReply(reader);
    CO_ASSERT_OK(reply);
    EXPECT_EQ(*reply, "220 go ahead");
    auto tls = co_await StartTls(*t->client_ctx_, &client_sock, reader, writer, TlsRole::kClient,
                                 "localhost", After(10s));
    EXPECT_TRUE(absl::IsFailedPrecondition(tls.status())) << tls.status();
    EXPECT_NE(tls.status().message().find("18 byte(s)"), absl::string_view::npos) << tls.status();
  }(this));
}

}  // namespace
}  // namespace salvo
