// Real SMTP clients against the server on loopback: Python's smtplib, swaks
// and curl, over plain TCP, STARTTLS and implicit TLS, with each AUTH
// mechanism; the messages must arrive in the RecordingSink. Also the TLS
// edge cases: plaintext pipelined after STARTTLS is discarded, and garbage
// instead of a TLS handshake ends only that connection.
#include <fstream>

#include "engine/net/line_reader.h"
#include "engine/net/writer.h"
#include "engine/tls/tls_stream.h"
#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"
#include "tests/smtp_server/server_fixture.h"
#include "tests/support/child_process.h"

namespace salvo::smtp {
namespace {

using namespace std::chrono_literals;
using salvo::testing::ChildProcess;
using testing::Client;
using testing::RecordingSink;
using testing::ServerThread;
using testing::TestCertificate;
using testing::TestOptions;

// Runs `argv` and returns what follows "RESULT " on its stdout ("" if none
// within the timeout).
std::string RunClient(const std::vector<std::string>& argv) {
  ChildProcess child;
  if (!child.Start(argv)) return "";
  auto result = child.WaitFor("RESULT ", 60s);
  return result.value_or("");
}

// A shell command whose exit status is reported as "RESULT <status>".
std::string RunShell(const std::string& command) {
  return RunClient({"/bin/sh", "-c", command + " </dev/null; echo RESULT $?"});
}

class ClientInterop : public ::testing::Test {
 protected:
  // kind: "mx" (STARTTLS optional, local domains), "submission" (STARTTLS
  // then AUTH required), "smtps" (implicit TLS, AUTH required).
  ServerOptions Preset(const std::string& kind) {
    ServerOptions o = TestOptions(sink_);
    auto store =
        CredentialStore::Create({{"alice", *HashPassword("wonderland", 1000), "wonderland"}});
    EXPECT_TRUE(store.ok()) << store.status();
    o.credentials = *store;
    o.enable_cram_md5 = true;
    o.tls = cert_.context;
    o.tls_mode = kind == "smtps" ? ServerTlsMode::kImplicit : ServerTlsMode::kStartTls;
    o.require_tls = kind == "submission";
    o.require_auth = kind != "mx";
    o.listener_name = kind;
    return o;
  }
  std::vector<std::string> Smtplib(int port, const std::string& mode, const std::string& auth,
                                   std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        "/usr/bin/python3", SALVO_SOURCE_DIR "/tests/smtp_server/smtplib_client.py",
        "--port",           std::to_string(port),
        "--mode",           mode,
        "--cafile",         cert_.cert,
        "--auth",           auth};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  std::string MessageFile() {
    std::string path = cert_.dir + "/message.eml";
    std::ofstream(path) << "From: tool@client.test\r\nTo: x@y\r\nSubject: from a tool\r\n\r\n"
                           ".dotted\r\nbody\r\n";
    return path;
  }
  // The one message the sink got, checked for what every submission has.
  InboundMessage OnlyMessage() {
    auto msgs = sink_->messages();
    EXPECT_EQ(msgs.size(), 1u);
    return msgs.empty() ? InboundMessage() : msgs[0];
  }

  TestCertificate cert_;
  std::shared_ptr<RecordingSink> sink_ = std::make_shared<RecordingSink>();
};

TEST_F(ClientInterop, SmtplibPlainToTheMxWithDsn) {
  ServerThread server(Preset("mx"));
  EXPECT_EQ(RunClient(Smtplib(server.port(), "plain", "none",
                              {"--to", "bounce@bounces.salvo.test", "--dsn"})),
            "ok");
  InboundMessage m = OnlyMessage();
  EXPECT_EQ(m.reverse_path, "py@client.test");
  ASSERT_EQ(m.recipients.size(), 1u);
  EXPECT_EQ(m.recipients[0].notify, "SUCCESS,FAILURE");
  EXPECT_EQ(m.ret, "HDRS");
  EXPECT_EQ(m.envid, "py-envid");
  EXPECT_EQ(m.helo, "py.client.test");
  EXPECT_NE(m.content.find("Subject: from smtplib\r\n"), std::string::npos);
  EXPECT_NE(m.content.find("\r\n.a line starting with a dot\r\n"), std::string::npos);
  EXPECT_FALSE(m.tls.active);
}

TEST_F(ClientInterop, SmtplibStartTlsWithEachAuthMechanism) {
  ServerThread server(Preset("submission"));
  for (std::string mech : {"PLAIN", "LOGIN", "CRAM-MD5"}) {
    EXPECT_EQ(RunClient(Smtplib(server.port(), "starttls", mech, {"--to", "customer@gmail.test"})),
              "ok")
        << mech;
  }
  auto msgs = sink_->messages();
  ASSERT_EQ(msgs.size(), 3u);
  for (const InboundMessage& m : msgs) {
    EXPECT_EQ(m.auth_identity, "alice");
    EXPECT_TRUE(m.tls.active);
    EXPECT_FALSE(m.tls.protocol.empty());
    EXPECT_EQ(m.recipients[0].address, "customer@gmail.test");
    EXPECT_NE(m.content.find(" with ESMTPSA id "), std::string::npos) << m.content;
    EXPECT_NE(m.content.find("\t(using TLSv1."), std::string::npos) << m.content;
  }
}

TEST_F(ClientInterop, SmtplibWithoutStartTlsOrWithAWrongPasswordIsRefused) {
  ServerThread server(Preset("submission"));
  // No STARTTLS: AUTH is not even offered, so smtplib's AUTH gets 530.
  std::string r = RunClient(Smtplib(server.port(), "plain", "PLAIN", {"--to", "c@gmail.test"}));
  EXPECT_NE(r.find("530"), std::string::npos) << r;
  r = RunClient(
      Smtplib(server.port(), "starttls", "PLAIN", {"--to", "c@gmail.test", "--password", "guess"}));
  EXPECT_EQ(r, "autherror 535");
  EXPECT_EQ(sink_->count(), 0u);
}

TEST_F(ClientInterop, SmtplibImplicitTls) {
  ServerThread server(Preset("smtps"));
  for (std::string mech : {"PLAIN", "CRAM-MD5"}) {
    EXPECT_EQ(RunClient(Smtplib(server.port(), "smtps", mech, {"--to", "c@gmail.test"})), "ok")
        << mech;
  }
  auto msgs = sink_->messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_TRUE(msgs[0].tls.active);
  EXPECT_EQ(msgs[1].auth_identity, "alice");
}

TEST_F(ClientInterop, SwaksPipeliningPlainAndStartTlsAuth) {
  ServerThread mx(Preset("mx"));
  std::string port = std::to_string(mx.port());
  EXPECT_EQ(RunShell("/usr/bin/swaks --server 127.0.0.1:" + port +
                     " --pipeline --from s@client.test --to u@bounces.salvo.test"
                     " --helo swaks.client.test --hide-all"),
            "0");
  ServerThread submission(Preset("submission"));
  port = std::to_string(submission.port());
  for (std::string mech : {"PLAIN", "LOGIN", "CRAM-MD5"}) {
    EXPECT_EQ(
        RunShell("/usr/bin/swaks --server 127.0.0.1:" + port + " --pipeline --tls --auth " + mech +
                 " --auth-user alice --auth-password wonderland"
                 " --from alice@client.test --to c@gmail.test --hide-all"),
        "0")
        << mech;
  }
  auto msgs = sink_->messages();
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0].helo, "swaks.client.test");
  EXPECT_EQ(msgs[0].auth_identity, "");
  for (int i = 1; i < 4; ++i) {
    EXPECT_TRUE(msgs[i].tls.active);
    EXPECT_EQ(msgs[i].auth_identity, "alice");
  }
}

TEST_F(ClientInterop, SwaksImplicitTlsAndRelayDenied) {
  ServerThread smtps(Preset("smtps"));
  EXPECT_EQ(RunShell("/usr/bin/swaks --server 127.0.0.1:" + std::to_string(smtps.port()) +
                     " --tlsc --auth PLAIN --auth-user alice --auth-password wonderland"
                     " --from alice@client.test --to c@gmail.test --hide-all"),
            "0");
  ServerThread mx(Preset("mx"));
  // swaks exits 24 when the recipient is refused.
  EXPECT_EQ(RunShell("/usr/bin/swaks --server 127.0.0.1:" + std::to_string(mx.port()) +
                     " --from s@client.test --to victim@gmail.test --hide-all"),
            "24");
  EXPECT_EQ(sink_->count(), 1u);
}

TEST_F(ClientInterop, CurlPlainStartTlsAndSmtps) {
  std::string file = MessageFile();
  ServerThread mx(Preset("mx"));
  EXPECT_EQ(RunShell("/usr/bin/curl -sS --url smtp://127.0.0.1:" + std::to_string(mx.port()) +
                     " --mail-from tool@client.test --mail-rcpt a@bounces.salvo.test"
                     " --mail-rcpt b@bounces.salvo.test --upload-file " +
                     file),
            "0");
  ServerThread submission(Preset("submission"));
  EXPECT_EQ(RunShell("/usr/bin/curl -sS --url smtp://127.0.0.1:" +
                     std::to_string(submission.port()) + " --ssl-reqd --cacert " + cert_.cert +
                     " --user alice:wonderland --mail-from alice@client.test"
                     " --mail-rcpt c@gmail.test --upload-file " +
                     file),
            "0");
  ServerThread smtps(Preset("smtps"));
  EXPECT_EQ(RunShell("/usr/bin/curl -sS --url smtps://127.0.0.1:" + std::to_string(smtps.port()) +
                     " --cacert " + cert_.cert +
                     " --user alice:wonderland --login-options AUTH=LOGIN"
                     " --mail-from alice@client.test --mail-rcpt c@gmail.test --upload-file " +
                     file),
            "0");
  auto msgs = sink_->messages();
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0].recipients.size(), 2u);
  EXPECT_NE(msgs[0].content.find("\r\n.dotted\r\nbody\r\n"), std::string::npos);
  EXPECT_TRUE(msgs[1].tls.active);
  EXPECT_EQ(msgs[1].auth_identity, "alice");
  EXPECT_EQ(msgs[2].listener, "smtps");
  EXPECT_TRUE(msgs[2].tls.active);
}

TEST_F(ClientInterop, GarbageInsteadOfTlsEndsOnlyThatConnection) {
  ServerThread smtps(Preset("smtps"));
  {
    Client c;
    ASSERT_TRUE(c.Connect(smtps.port()));
    c.Send("EHLO not-tls.test\r\n");
    std::string got = c.ReadAll(10s);
    EXPECT_TRUE(c.closed());
    EXPECT_EQ(got.find("220"), std::string::npos) << "no plaintext greeting on SMTPS";
  }
  ServerThread submission(Preset("submission"));
  {
    Client c;
    ASSERT_TRUE(c.Connect(submission.port()));
    c.Send("EHLO x.test\r\nSTARTTLS\r\n");
    c.ReadReply();
    c.ReadReply();
    EXPECT_EQ(c.ReadReply().code, 220);
    c.Send(std::string(5000, '\x16'));
    c.ReadAll(10s);
    EXPECT_TRUE(c.closed());
  }
  // Both listeners still serve real clients.
  EXPECT_EQ(RunClient(Smtplib(smtps.port(), "smtps", "PLAIN", {"--to", "c@gmail.test"})), "ok");
  EXPECT_EQ(RunClient(Smtplib(submission.port(), "starttls", "LOGIN", {"--to", "c@gmail.test"})),
            "ok");
}

// "STARTTLS\r\nRSET\r\n" in one write (the CVE-2011-0411 injection): the
// RSET must never be answered, neither in plaintext nor after the handshake.
TEST_F(ClientInterop, StartTlsDiscardsPipelinedPlaintext) {
  ServerThread server(Preset("submission"));
  std::vector<std::string> replies;
  absl::Status status;
  salvo::testing::RunOnRing([&]() -> Task<void> {
    auto addr = SocketAddress::Parse("127.0.0.1", server.port());
    auto sock = co_await Connect(*addr, std::nullopt, After(5s));
    if (!sock.ok()) {
      status = sock.status();
      co_return;
    }
    LineReader reader(&*sock, 4096);
    Writer writer(&*sock);
    auto next = [&]() -> Task<void> {
      auto line = co_await reader.ReadLine(After(5s));
      replies.push_back(line.ok() ? std::string(*line) : line.status().ToString());
    };
    co_await next();  // 220 greeting
    writer.Append("EHLO inject.test\r\nSTARTTLS\r\nRSET\r\n");
    status = co_await writer.Flush(After(5s));
    // The EHLO reply's lines, then the 220 to STARTTLS.
    for (int i = 0; i < 20 && status.ok(); ++i) {
      co_await next();
      if (replies.back().rfind("220 ", 0) == 0) break;
    }
    auto ctx = TlsContext::Client({TlsVerify::kOff, ""});
    auto tls = co_await TlsStream::Handshake(*ctx, &*sock, TlsRole::kClient, "", After(5s));
    if (!tls.ok()) {
      status = tls.status();
      co_return;
    }
    reader.set_stream(tls->get());
    writer.set_stream(tls->get());
    writer.Append("HELP\r\n");
    status = co_await writer.Flush(After(5s));
    co_await next();
  }());
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_GE(replies.size(), 4u);
  EXPECT_EQ(replies[replies.size() - 3], "250 STARTTLS") << "the EHLO reply's last line";
  EXPECT_EQ(replies[replies.size() - 2], "220 2.0.0 Ready to start TLS");
  // The first reply over TLS answers HELP, not the injected RSET (250).
  EXPECT_EQ(replies.back().substr(0, 10), "214 2.0.0 ") << replies.back();
}

}  // namespace
}  // namespace salvo::smtp
