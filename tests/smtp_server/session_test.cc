// The inbound SMTP session over real loopback connections: transactions,
// pipelining, BDAT, policies, and hostile clients (bare LF, smuggling,
// over-long lines, 10,000 RCPTs, AUTH brute force, garbage, stalls,
// connection floods, STARTTLS injection), each with the right reply and
// the server still serving afterwards.
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "engine/smtp/server/server_reply.h"
#include "gtest/gtest.h"
#include "tests/smtp_server/server_fixture.h"

namespace salvo::smtp {
namespace {

using namespace std::chrono_literals;
using testing::Client;
using testing::RecordingSink;
using testing::ServerThread;
using testing::TestOptions;

// All replies in `text` (the server's output), parsed.
std::vector<SmtpReply> ParseReplies(const std::string& text) {
  std::vector<SmtpReply> out;
  ReplyParser parser;
  for (absl::string_view line : absl::StrSplit(text, "\r\n", absl::SkipEmpty())) {
    auto done = parser.Feed(ToStd(line));
    if (!done.ok()) {
      ADD_FAILURE() << "bad reply line: " << line;
      return out;
    }
    if (*done) out.push_back(parser.Take());
  }
  return out;
}

// "250 2.1.0" per reply.
std::vector<std::string> Codes(const std::string& text) {
  std::vector<std::string> out;
  for (const SmtpReply& r : ParseReplies(text)) {
    out.push_back(r.enhanced.empty() ? std::to_string(r.code)
                                     : std::to_string(r.code) + " " + r.enhanced);
  }
  return out;
}

// Sends `input`, half-closes, and returns everything the server said.
std::string Converse(int port, std::string_view input, std::chrono::milliseconds timeout = 10s) {
  Client c;
  EXPECT_TRUE(c.Connect(port));
  c.Send(input);
  c.ShutdownWrite();
  return c.ReadAll(timeout);
}

std::vector<std::string> V(std::initializer_list<std::string> l) { return l; }

// The content without the Received: header the session prepended.
std::string AfterReceived(const std::string& c) {
  size_t pos = 0;
  do {
    pos = c.find("\r\n", pos) + 2;
  } while (pos < c.size() && c[pos] == '\t');
  return c.substr(pos);
}

const std::string kHello = "EHLO client.test\r\n";
const std::string kEnvelope =
    "MAIL FROM:<sender@client.test> RET=HDRS ENVID=E1\r\n"
    "RCPT TO:<user@bounces.salvo.test> NOTIFY=FAILURE ORCPT=rfc822;user@bounces.salvo.test\r\n";

class SessionTest : public ::testing::Test {
 protected:
  std::shared_ptr<RecordingSink> sink_ = std::make_shared<RecordingSink>();
  ServerOptions Options() { return TestOptions(sink_); }
};

TEST_F(SessionTest, PipelinedTransactionReachesTheSinkDurablyAcknowledged) {
  ServerThread server(Options());
  std::string out = Converse(server.port(), kHello + kEnvelope +
                                                "DATA\r\nSubject: hi\r\n\r\n..dot\r\nbody\r\n.\r\n"
                                                "QUIT\r\n");
  EXPECT_EQ(Codes(out),
            V({"220", "250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "221 2.0.0"}))
      << out;
  EXPECT_NE(out.find("queued as Q1"), std::string::npos) << out;
  auto msgs = sink_->messages();
  ASSERT_EQ(msgs.size(), 1u);
  const InboundMessage& m = msgs[0];
  EXPECT_EQ(m.reverse_path, "sender@client.test");
  ASSERT_EQ(m.recipients.size(), 1u);
  EXPECT_EQ(m.recipients[0].address, "user@bounces.salvo.test");
  EXPECT_EQ(m.recipients[0].notify, "FAILURE");
  EXPECT_EQ(m.recipients[0].orcpt, "rfc822;user@bounces.salvo.test");
  EXPECT_EQ(m.ret, "HDRS");
  EXPECT_EQ(m.envid, "E1");
  EXPECT_EQ(m.helo, "client.test");
  EXPECT_TRUE(m.esmtp);
  EXPECT_EQ(m.client_address.HostString(), "127.0.0.1");
  EXPECT_FALSE(m.tls.active);
  EXPECT_EQ(m.listener, "test");
  EXPECT_EQ(m.content.rfind("Received: from client.test ([127.0.0.1])\r\n\tby mx.salvo.test "
                            "(Salvo) with ESMTP id ",
                            0),
            0u)
      << m.content;
  EXPECT_NE(m.content.find("\tfor <user@bounces.salvo.test>; "), std::string::npos);
  EXPECT_EQ(AfterReceived(m.content), "Subject: hi\r\n\r\n.dot\r\nbody\r\n");
}

TEST_F(SessionTest, RepliesToAPipelinedGroupAreSentTogether) {
  ServerThread server(Options());
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_EQ(c.ReadReply().code, 220);
  std::string group = kHello;
  for (int i = 0; i < 40; ++i) group += "NOOP\r\n";
  ASSERT_TRUE(c.Send(group));
  // Count the reads needed for the 41 replies: batched replies arrive in
  // very few segments (unbatched, 41 separate writes).
  int reads = 0;
  std::string got;
  while (Codes(got).size() < 41 && reads < 100) {
    pollfd p{c.fd(), POLLIN, 0};
    ASSERT_GT(::poll(&p, 1, 5000), 0);
    char buf[65536];
    ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, n);
    ++reads;
  }
  EXPECT_EQ(Codes(got).size(), 41u);
  EXPECT_LE(reads, 3) << "replies were not batched";
}

TEST_F(SessionTest, BdatChunksIncludingEmptyLast) {
  ServerThread server(Options());
  std::string part1 = "Subject: chunked\r\n\r\n.no unstuffing";
  std::string part2 = " in BDAT\r\n";
  std::string in = kHello + kEnvelope + "BDAT " + std::to_string(part1.size()) + "\r\n" + part1 +
                   "BDAT " + std::to_string(part2.size()) + "\r\n" + part2 + "BDAT 0 LAST\r\n" +
                   "MAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nBDAT 3 LAST\r\nx\r\nQUIT\r\n";
  std::string out = Converse(server.port(), in);
  EXPECT_EQ(Codes(out), V({"220", "250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0",
                           "250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.0.0", "221 2.0.0"}))
      << out;
  auto msgs = sink_->messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(AfterReceived(msgs[0].content), part1 + part2);
  EXPECT_EQ(msgs[1].reverse_path, "");
  EXPECT_EQ(msgs[1].recipients[0].address, "postmaster");
}

TEST_F(SessionTest, BdatRefusedStillConsumesItsChunk) {
  ServerThread server(Options());
  // BDAT before MAIL: refused, but its 5 octets "QUIT\n" must not be read
  // as a command.
  std::string out = Converse(server.port(), kHello + "BDAT 6\r\nQUIT\r\nNOOP\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "503 5.5.1", "250 2.0.0", "221 2.0.0"})) << out;
  // A BDAT size that cannot be parsed leaves no way to resynchronise.
  out = Converse(server.port(), kHello + "BDAT ten\r\nNOOP\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "501 5.5.4"})) << out;
}

TEST_F(SessionTest, BareLfInDataIsRefusedAndTheSessionGoesOn) {
  ServerThread server(Options());
  std::string out =
      Converse(server.port(), kHello + kEnvelope + "DATA\r\nline one\nline two\r\n.\r\n" +
                                  kEnvelope + "DATA\r\nclean\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "250 2.1.0", "250 2.1.5", "354", "550 5.6.0", "250 2.1.0",
                           "250 2.1.5", "354", "250 2.0.0", "221 2.0.0"}))
      << out;
  ASSERT_EQ(sink_->count(), 1u);
}

TEST_F(SessionTest, BareLfCanBeNormalised) {
  ServerOptions o = Options();
  o.bare_newline = BareNewlinePolicy::kNormalize;
  ServerThread server(std::move(o));
  std::string out =
      Converse(server.port(), kHello + kEnvelope + "DATA\r\nline one\nline two\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out).at(5), "250 2.0.0") << out;
  auto msgs = sink_->messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].content.find("line one\r\nline two\r\n"), std::string::npos);
}

// SMTP smuggling: a fake end of DATA followed by a second transaction. The
// server must see one message, refuse it (bare LF/CR), and accept nothing
// smuggled.
TEST_F(SessionTest, SmugglingSequencesDeliverNothing) {
  for (std::string fake : {"\n.\n", "\r.\r", "\n.\r\n", "\r.\r\n", "\r\n.\n", "\r\n.\r"}) {
    auto sink = std::make_shared<RecordingSink>();
    ServerThread server(TestOptions(sink));
    std::string in = kHello + kEnvelope + "DATA\r\nSubject: legit\r\n\r\nhello" + fake +
                     "MAIL FROM:<ceo@bounces.salvo.test>\r\nRCPT TO:<user@bounces.salvo.test>\r\n"
                     "DATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\nQUIT\r\n";
    std::string out = Converse(server.port(), in);
    EXPECT_EQ(Codes(out),
              V({"220", "250", "250 2.1.0", "250 2.1.5", "354", "550 5.6.0", "221 2.0.0"}))
        << absl::CHexEscape(fake) << "\n"
        << out;
    EXPECT_EQ(sink->count(), 0u) << absl::CHexEscape(fake);
  }
}

TEST_F(SessionTest, OverLongCommandLineIsRefusedAndTheSessionRecovers) {
  ServerThread server(Options());
  std::string out =
      Converse(server.port(), kHello + "NOOP " + std::string(100000, 'x') + "\r\nNOOP\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "500 5.5.2", "250 2.0.0", "221 2.0.0"})) << out;
}

TEST_F(SessionTest, OverLongDataLineRefusesTheMessage) {
  ServerThread server(Options());
  std::string out = Converse(server.port(), kHello + kEnvelope + "DATA\r\n" +
                                                std::string(2000, 'y') + "\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out).at(5), "550 5.6.0") << out;
  EXPECT_EQ(sink_->count(), 0u);
}

TEST_F(SessionTest, TenThousandRecipients) {
  ServerThread server(Options());
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  std::string in = kHello + "MAIL FROM:<a@client.test>\r\n";
  for (int i = 0; i < 10000; ++i)
    in += "RCPT TO:<u" + std::to_string(i) + "@bounces.salvo.test>\r\n";
  in += "DATA\r\nSubject: many\r\n\r\nx\r\n.\r\nQUIT\r\n";
  std::thread writer([&] {
    c.Send(in);
    c.ShutdownWrite();
  });
  std::string out = c.ReadAll(60s);
  writer.join();
  std::vector<std::string> codes = Codes(out);
  ASSERT_EQ(codes.size(), 10006u) << out.substr(out.size() > 300 ? out.size() - 300 : 0);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "250 2.1.5"), 1000);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "452 4.5.3"), 9000);
  EXPECT_EQ(codes[codes.size() - 2], "250 2.0.0");
  auto msgs = sink_->messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].recipients.size(), 1000u);
}

TEST_F(SessionTest, PipelinedGarbageEndsWithTooManyErrors) {
  ServerThread server(Options());
  std::string in = kHello;
  for (int i = 0; i < 200; ++i) in += "XYZZY " + std::to_string(i) + "\r\n";
  in += std::string("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00\r\n", 12);
  std::string out = Converse(server.port(), in);
  std::vector<std::string> codes = Codes(out);
  ASSERT_EQ(codes.size(), 23u) << out;
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "500 5.5.2"), 20);
  EXPECT_EQ(codes.back(), "421 4.7.0");
  // And the server still serves.
  EXPECT_EQ(Codes(Converse(server.port(), "QUIT\r\n")), V({"220", "221 2.0.0"}));
}

TEST_F(SessionTest, HttpRequestIsTurnedAway) {
  ServerThread server(Options());
  std::string out = Converse(server.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(Codes(out), V({"220", "221 2.7.0"})) << out;
}

TEST_F(SessionTest, ClientStallingInDataGets421) {
  ServerOptions o = Options();
  o.timeouts.data = 300ms;
  ServerThread server(std::move(o));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_TRUE(c.Send(kHello + kEnvelope + "DATA\r\nSubject: slow\r\n\r\nhalf a li"));
  std::string out = c.ReadAll(10s);
  EXPECT_EQ(Codes(out), V({"220", "250", "250 2.1.0", "250 2.1.5", "354", "421 4.4.2"})) << out;
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(sink_->count(), 0u);
}

TEST_F(SessionTest, IdleClientGets421) {
  ServerOptions o = Options();
  o.timeouts.command = 300ms;
  ServerThread server(std::move(o));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  std::string out = c.ReadAll(10s);
  EXPECT_EQ(Codes(out), V({"220", "421 4.4.2"})) << out;
}

TEST_F(SessionTest, ConnectionLimitsPerAddressAndTotal) {
  ServerOptions o = Options();
  o.connections = std::make_shared<ConnectionLimiter>(100, 2);
  ServerThread server(std::move(o));
  Client a, b, c;
  ASSERT_TRUE(a.Connect(server.port()));
  ASSERT_EQ(a.ReadReply().code, 220);
  ASSERT_TRUE(b.Connect(server.port()));
  ASSERT_EQ(b.ReadReply().code, 220);
  ASSERT_TRUE(c.Connect(server.port()));
  SmtpReply r = c.ReadReply();
  EXPECT_EQ(r.code, 421);
  EXPECT_EQ(r.enhanced, "4.7.0");
  a.Send("QUIT\r\n");
  EXPECT_EQ(a.ReadReply().code, 221);
  a.Close();
  // The slot is released when the session ends.
  bool admitted = false;
  for (int i = 0; i < 100 && !admitted; ++i) {
    Client d;
    ASSERT_TRUE(d.Connect(server.port()));
    admitted = d.ReadReply().code == 220;
    if (!admitted) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(admitted);
}

ServerOptions WithUsers(ServerOptions o) {
  auto store =
      CredentialStore::Create({{"alice", *HashPassword("wonderland", 1000), "cram-secret"}});
  EXPECT_TRUE(store.ok()) << store.status();
  o.credentials = *store;
  o.allow_plaintext_auth = true;  // loopback tests only
  return o;
}

std::string Plain(std::string_view user, std::string_view pw) {
  std::string raw = std::string(1, '\0') + std::string(user) + '\0' + std::string(pw);
  return absl::Base64Escape(raw);
}

TEST_F(SessionTest, AuthBruteForceIsSlowedThenCutOff) {
  ServerOptions o = WithUsers(Options());
  o.limits.max_auth_failures_per_session = 3;
  o.auth_failures = std::make_shared<AuthFailureLimiter>(5, 10min);
  ServerThread server(std::move(o));
  std::string guesses;
  for (int i = 0; i < 10; ++i)
    guesses += "AUTH PLAIN " + Plain("alice", "guess" + std::to_string(i)) + "\r\n";
  auto t0 = std::chrono::steady_clock::now();
  std::string out = Converse(server.port(), kHello + guesses);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(Codes(out), V({"220", "250", "535 5.7.8", "535 5.7.8", "421 4.7.0"})) << out;
  EXPECT_GE(took, 10ms + 20ms + 30ms) << "each failure is answered after a growing delay";
  // Two more failures from this address reach the per-address limit (5)...
  out = Converse(server.port(), kHello + "AUTH PLAIN " + Plain("alice", "x") + "\r\n" +
                                    "AUTH PLAIN " + Plain("alice", "y") + "\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "535 5.7.8", "535 5.7.8", "221 2.0.0"})) << out;
  // ...after which even the right password is not tried.
  out = Converse(server.port(), kHello + "AUTH PLAIN " + Plain("alice", "wonderland") + "\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "421 4.7.0"})) << out;
}

TEST_F(SessionTest, AuthMechanismsAndSubmissionPolicy) {
  ServerOptions o = WithUsers(Options());
  o.require_auth = true;
  o.enable_cram_md5 = true;
  ServerThread server(std::move(o));
  // MAIL before AUTH is refused; EHLO offers the mechanisms.
  std::string out =
      Converse(server.port(), kHello + "MAIL FROM:<a@client.test>\r\n" + "AUTH PLAIN " +
                                  Plain("alice", "wonderland") + "\r\nAUTH PLAIN\r\n" +
                                  "MAIL FROM:<a@client.test>\r\n"
                                  "RCPT TO:<anyone@gmail.test>\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "530 5.7.0", "235 2.7.0", "503 5.5.1", "250 2.1.0",
                           "250 2.1.5", "221 2.0.0"}))
      << out;
  EXPECT_NE(out.find("250 AUTH PLAIN LOGIN CRAM-MD5\r\n"), std::string::npos) << out;

  // LOGIN, without initial response; then cancelling; then garbage base64.
  out = Converse(server.port(), kHello + "AUTH LOGIN\r\n" + absl::Base64Escape("alice") + "\r\n" +
                                    absl::Base64Escape("wonderland") + "\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "334", "334", "235 2.7.0", "221 2.0.0"})) << out;
  EXPECT_NE(out.find("334 VXNlcm5hbWU6\r\n"), std::string::npos);
  out = Converse(server.port(), kHello +
                                    "AUTH LOGIN\r\n*\r\nAUTH PLAIN\r\n!!!\r\n"
                                    "AUTH FOO\r\nAUTH PLAIN ===\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "334", "501 5.0.0", "334", "501 5.5.2", "504 5.5.4",
                           "501 5.5.2", "221 2.0.0"}))
      << out;

  // CRAM-MD5: answer the challenge the server sends.
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  c.ReadReply();
  c.Send(kHello + "AUTH CRAM-MD5\r\n");
  c.ReadReply();
  SmtpReply challenge = c.ReadReply();
  ASSERT_EQ(challenge.code, 334);
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(challenge.lines[0], &decoded));
  EXPECT_EQ(decoded.rfind("<", 0), 0u);
  c.Send(absl::Base64Escape("alice " + CramMd5Digest("cram-secret", decoded)) + "\r\n");
  SmtpReply ok = c.ReadReply();
  EXPECT_EQ(ok.code, 235) << ok.ToString();
}

TEST_F(SessionTest, AuthRequiresTlsUnlessAllowed) {
  ServerOptions o = WithUsers(Options());
  o.allow_plaintext_auth = false;
  ServerThread server(std::move(o));
  std::string out = Converse(
      server.port(), kHello + "AUTH PLAIN " + Plain("alice", "wonderland") + "\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "538 5.7.11", "221 2.0.0"})) << out;
  EXPECT_EQ(out.find("AUTH PLAIN LOGIN"), std::string::npos) << "not offered without TLS";
}

TEST_F(SessionTest, NeverAnOpenRelay) {
  ServerThread server(Options());
  std::string out = Converse(server.port(), kHello +
                                                "MAIL FROM:<a@client.test>\r\n"
                                                "RCPT TO:<victim@gmail.test>\r\n"
                                                "RCPT TO:<victim@bounces.salvo.test.gmail.test>\r\n"
                                                "RCPT TO:<x@BOUNCES.salvo.test>\r\n"
                                                "RCPT TO:<Postmaster>\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "250 2.1.0", "550 5.7.1", "550 5.7.1", "250 2.1.5",
                           "250 2.1.5", "221 2.0.0"}))
      << out;
  EXPECT_NE(out.find("<victim@gmail.test>: Relay access denied"), std::string::npos);

  ServerOptions o = Options();
  o.relay.relay_networks.push_back(*NetworkRange::Parse("127.0.0.0/8"));
  ServerThread trusted(std::move(o));
  out = Converse(trusted.port(),
                 kHello + "MAIL FROM:<a@client.test>\r\nRCPT TO:<victim@gmail.test>\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out).at(3), "250 2.1.5") << out;
}

TEST_F(SessionTest, SuppressedRecipientsRejectedOrMarked) {
  ServerOptions o = Options();
  o.suppression = std::make_shared<testing::PrefixSuppression>();
  ServerThread server(o);
  std::string in = kHello +
                   "MAIL FROM:<a@client.test>\r\nRCPT TO:<suppressed1@bounces.salvo.test>\r\n"
                   "RCPT TO:<fine@bounces.salvo.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n";
  std::string out = Converse(server.port(), in);
  EXPECT_EQ(Codes(out), V({"220", "250", "250 2.1.0", "550 5.7.1", "250 2.1.5", "354", "250 2.0.0",
                           "221 2.0.0"}))
      << out;
  EXPECT_NE(out.find("suppressed1@bounces.salvo.test>: Recipient address is suppressed (hard "
                     "bounce)"),
            std::string::npos)
      << out;
  server.Stop();

  auto sink = std::make_shared<RecordingSink>();
  o = TestOptions(sink);
  o.suppression = std::make_shared<testing::PrefixSuppression>();
  o.suppression_action = SuppressionAction::kAcceptAndMark;
  ServerThread marking(o);
  out = Converse(marking.port(), in);
  EXPECT_EQ(Codes(out).at(3), "250 2.1.5") << out;
  auto msgs = sink->messages();
  ASSERT_EQ(msgs.size(), 1u);
  ASSERT_EQ(msgs[0].recipients.size(), 2u);
  EXPECT_TRUE(msgs[0].recipients[0].suppressed);
  EXPECT_EQ(msgs[0].recipients[0].suppression_reason, "hard bounce");
  EXPECT_FALSE(msgs[0].recipients[1].suppressed);
}

TEST_F(SessionTest, SinkFailuresBecomeTheRightReplies) {
  ServerThread server(Options());
  std::string in = kHello + kEnvelope + "DATA\r\nx\r\n.\r\nQUIT\r\n";
  const std::pair<absl::Status, std::string> cases[] = {
      {absl::ResourceExhaustedError("disk full"), "452 4.3.1"},
      {absl::UnavailableError("spool down"), "451 4.3.0"},
      {absl::DeadlineExceededError("slow"), "451 4.3.0"},
      {absl::InvalidArgumentError("no From header"), "554 5.6.0"},
      {absl::PermissionDeniedError("sender blocked"), "550 5.7.1"},
      {absl::InternalError("bug"), "451 4.3.0"},
  };
  for (const auto& [status, code] : cases) {
    sink_->set_fail_with(status);
    std::string out = Converse(server.port(), in);
    EXPECT_EQ(Codes(out).at(5), code) << status << "\n" << out;
  }
}

TEST_F(SessionTest, SizeLimits) {
  ServerOptions o = Options();
  o.limits.max_message_size = 1000;
  ServerThread server(std::move(o));
  std::string out =
      Converse(server.port(), kHello + "MAIL FROM:<a@client.test> SIZE=1001\r\n" + kEnvelope +
                                  "DATA\r\n" + std::string(600, 'z') + "\r\n" +
                                  std::string(600, 'z') + "\r\n.\r\nNOOP\r\n");
  EXPECT_EQ(Codes(out), V({"220", "250", "552 5.3.4", "250 2.1.0", "250 2.1.5", "354", "552 5.3.4",
                           "250 2.0.0"}))
      << out;
  EXPECT_NE(out.find("250-SIZE 1000\r\n"), std::string::npos);
  EXPECT_EQ(sink_->count(), 0u);
}

TEST_F(SessionTest, StateErrors) {
  ServerThread server(Options());
  std::string out =
      Converse(server.port(),
               "MAIL FROM:<a@client.test>\r\nHELO client.test\r\nRCPT TO:<x@y.test>\r\n"
               "DATA\r\nMAIL FROM:<a@client.test>\r\nMAIL FROM:<a@client.test>\r\n"
               "DATA\r\nRSET x\r\nRSET\r\nVRFY bob\r\nHELP\r\nEXPN list\r\nQUIT\r\n");
  EXPECT_EQ(Codes(out), V({"220", "503 5.5.1", "250", "503 5.5.1", "503 5.5.1", "250 2.1.0",
                           "503 5.5.1", "554 5.5.1", "501 5.5.4", "250 2.0.0", "252 2.0.0",
                           "214 2.0.0", "502 5.5.1", "221 2.0.0"}))
      << out;
}

TEST_F(SessionTest, ServerShutdownAnswers421) {
  auto server = std::make_unique<ServerThread>(Options());
  Client c;
  ASSERT_TRUE(c.Connect(server->port()));
  ASSERT_EQ(c.ReadReply().code, 220);
  std::thread stopper([&] { server->Stop(); });
  SmtpReply r = c.ReadReply();
  stopper.join();
  EXPECT_EQ(r.code, 421);
  EXPECT_EQ(r.enhanced, "4.3.2");
}

// The whole dialogue sent one byte per write: the same replies as sent at
// once (the parser and framing see every split).
TEST_F(SessionTest, OneByteAtATime) {
  ServerThread server(Options());
  std::string in = kHello + kEnvelope + "DATA\r\nSubject: bytes\r\n\r\n..x\r\n.\r\n" + kEnvelope +
                   "BDAT 5 LAST\r\nabc\r\nQUIT\r\n";
  std::string whole = Converse(server.port(), in);
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  for (char ch : in) ASSERT_TRUE(c.Send(std::string_view(&ch, 1)));
  c.ShutdownWrite();
  std::string bytewise = c.ReadAll();
  EXPECT_EQ(Codes(bytewise), Codes(whole)) << bytewise;
  auto msgs = sink_->messages();
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(AfterReceived(msgs[0].content), "Subject: bytes\r\n\r\n.x\r\n");
  EXPECT_EQ(AfterReceived(msgs[2].content), AfterReceived(msgs[0].content));
  EXPECT_EQ(AfterReceived(msgs[3].content), "abc\r\n");
}

// The dialogue cut in two at every point, the halves sent apart.
TEST_F(SessionTest, EverySplitPoint) {
  ServerThread server(Options());
  std::string in =
      "EHLO c\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<p@bounces.salvo.test>\r\n"
      "DATA\r\n.a\r\n..\r\n.\r\nBDAT 2 LAST\r\nz\nQUIT\r\n";
  std::string whole = Converse(server.port(), in);
  std::vector<std::string> expected = Codes(whole);
  ASSERT_EQ(expected, V({"220", "250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "503 5.5.1",
                         "221 2.0.0"}))
      << whole;
  for (size_t cut = 1; cut < in.size(); ++cut) {
    Client c;
    ASSERT_TRUE(c.Connect(server.port()));
    ASSERT_TRUE(c.Send(std::string_view(in).substr(0, cut)));
    std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(c.Send(std::string_view(in).substr(cut)));
    c.ShutdownWrite();
    std::string out = c.ReadAll();
    ASSERT_EQ(Codes(out), expected) << "cut at " << cut << "\n" << out;
  }
  auto msgs = sink_->messages();
  ASSERT_EQ(msgs.size(), in.size());
  for (const InboundMessage& m : msgs) ASSERT_EQ(AfterReceived(m.content), "a\r\n.\r\n");
}

}  // namespace
}  // namespace salvo::smtp
