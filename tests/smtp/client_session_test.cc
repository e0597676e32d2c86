// SmtpClientSession against real remote MTAs on loopback: Python's aiosmtpd
// (tests/smtp/peer_mta.py, scripted), Postfix's smtp-sink, and Salvo's own
// inbound server for BDAT (neither of the others offers CHUNKING).
#include "engine/smtp/client_session.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fmt/format.h"
#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"
#include "tests/smtp_server/server_fixture.h"
#include "tests/support/child_process.h"

namespace salvo::smtp {
namespace {

using namespace std::chrono_literals;
using salvo::testing::ChildProcess;
using salvo::testing::RunOnRing;

std::string TempDir() {
  char tmpl[] = "/tmp/salvo-smtp-XXXXXX";
  return mkdtemp(tmpl);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// aiosmtpd with the given flags; returns its port, or 0.
int StartAiosmtpd(ChildProcess& child, const std::string& out,
                  std::vector<std::string> flags = {}) {
  std::vector<std::string> argv = {"/usr/bin/python3", SALVO_SOURCE_DIR "/tests/smtp/peer_mta.py",
                                   "--out", out};
  argv.insert(argv.end(), flags.begin(), flags.end());
  if (!child.Start(argv)) return 0;
  auto port = child.WaitFor("PORT ", 10s);
  return port ? std::stoi(*port) : 0;
}

// smtp-sink on a free port, dumping each transaction into `dir`.
int StartSmtpSink(ChildProcess& child, const std::string& dir,
                  std::vector<std::string> flags = {}) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int port = 30000 + (getpid() * 7 + attempt * 131) % 20000;
    std::vector<std::string> argv = {"/usr/sbin/smtp-sink", "-u", "nobody", "-d", dir + "/%M%S.%%"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("127.0.0.1:" + std::to_string(port));
    argv.push_back("64");
    if (!child.Start(argv)) return 0;
    // Ready when it accepts a connection.
    for (int i = 0; i < 100; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      close(fd);
      if (ok) return port;
      if (waitpid(child.pid(), nullptr, WNOHANG) != 0) break;  // bind failed: next port
      usleep(20000);
    }
    child.Stop();
  }
  return 0;
}

struct Outcome {
  absl::Status start;
  SmtpReply start_reply;
  std::vector<absl::StatusOr<TransactionResult>> results;
  bool reusable_after = false;
  Capabilities caps;
  int held = 0;  // messages whose end Send held back
};

// Connects to 127.0.0.1:port, starts a session and sends each message.
// `hold`: with Send's hold_end, settling a held message right after the next
// Send (or at the end): its result then carries its final reply, or the
// error that ended the connection before it.
Outcome Deliver(int port, std::vector<std::pair<Envelope, std::string>> messages,
                ClientOptions options = {}, bool hold = false) {
  Outcome out;
  RunOnRing([](int port, std::vector<std::pair<Envelope, std::string>>* messages,
               ClientOptions* options, bool hold, Outcome* out) -> Task<void> {
    auto addr = SocketAddress::Parse("127.0.0.1", port);
    auto sock = co_await Connect(*addr, std::nullopt, After(5s));
    if (!sock.ok()) {
      out->start = sock.status();
      co_return;
    }
    SmtpClientSession session(std::move(*sock), *options);
    out->start = co_await session.Start();
    out->start_reply = session.last_reply();
    out->caps = session.capabilities();
    if (!out->start.ok()) co_return;
    std::optional<size_t> pending;
    auto settle = [&]() -> Task<void> {
      absl::StatusOr<SmtpReply> reply = co_await session.TakeHeldReply();
      if (reply.ok()) {
        out->results[*pending]->data = *reply;
        out->results[*pending]->held = false;
      } else {
        out->results[*pending] = reply.status();
      }
      pending.reset();
    };
    for (auto& [env, content] : *messages) {
      auto r = co_await session.Send(env, content, hold);
      if (pending) co_await settle();
      bool was_held = r.ok() && r->held;
      out->results.push_back(std::move(r));
      if (was_held) {
        ++out->held;
        pending = out->results.size() - 1;
      }
      if (!session.reusable()) break;
    }
    if (pending) co_await settle();
    out->reusable_after = session.reusable();
    co_await session.Quit();
  }(port, &messages, &options, hold, &out));
  return out;
}

Envelope MakeEnvelope(std::vector<std::string> rcpts) {
  Envelope e;
  e.reverse_path = "bounce+tok@salvo.test";
  for (auto& r : rcpts) e.recipients.push_back({r, "", ""});
  return e;
}

const std::string kMessage =
    "From: a@salvo.test\r\nTo: x@peer.test\r\nSubject: hi\r\n\r\n.leading dot\r\nbody\r\n";

TEST(SmtpClient, DeliversStepwiseToAiosmtpdAndReusesTheConnection) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl", {"--reject-rcpt", "nobody"});
  ASSERT_GT(port, 0);
  Outcome o =
      Deliver(port, {{MakeEnvelope({"a@peer.test", "nobody@peer.test", "b@peer.test"}), kMessage},
                     {MakeEnvelope({"c@peer.test"}), kMessage}});
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_FALSE(o.caps.pipelining);
  ASSERT_EQ(o.results.size(), 2u);
  ASSERT_TRUE(o.results[0].ok()) << o.results[0].status();
  const TransactionResult& r = *o.results[0];
  EXPECT_EQ(r.ForRecipient(0).code, 250);
  EXPECT_EQ(r.ForRecipient(1).code, 550);
  EXPECT_EQ(r.ForRecipient(1).enhanced, "5.1.1");
  EXPECT_EQ(r.ForRecipient(2).code, 250);
  ASSERT_TRUE(o.results[1].ok());
  EXPECT_EQ(o.results[1]->ForRecipient(0).code, 250);
  EXPECT_TRUE(o.reusable_after);

  std::string log = ReadFile(dir + "/out.jsonl");
  // Two transactions; the rejected recipient is absent; the leading dot
  // arrived unharmed (stuffed on the wire, unstuffed by the server).
  EXPECT_NE(log.find(R"("rcpt_tos": ["a@peer.test", "b@peer.test"])"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("rcpt_tos": ["c@peer.test"])"), std::string::npos);
  EXPECT_NE(log.find("\\r\\n.leading dot\\r\\n"), std::string::npos);
}

TEST(SmtpClient, PipelinesToAiosmtpdWhenOffered) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl", {"--pipelining", "--reject-rcpt", "bad"});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port, {{MakeEnvelope({"bad@peer.test"}), kMessage},
                             {MakeEnvelope({"ok@peer.test", "bad2@peer.test"}), kMessage}});
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_TRUE(o.caps.pipelining);
  ASSERT_EQ(o.results.size(), 2u);
  ASSERT_TRUE(o.results[0].ok()) << o.results[0].status();
  EXPECT_EQ(o.results[0]->ForRecipient(0).code, 550);  // nothing accepted: no content sent
  ASSERT_TRUE(o.results[1].ok()) << o.results[1].status();
  EXPECT_EQ(o.results[1]->ForRecipient(0).code, 250);
  EXPECT_EQ(o.results[1]->ForRecipient(1).code, 550);
  std::string log = ReadFile(dir + "/out.jsonl");
  EXPECT_NE(log.find(R"("rcpt_tos": ["ok@peer.test"])"), std::string::npos) << log;
}

// With CHUNKING the content goes out as "BDAT n LAST": CRLF-normalised, never
// dot-stuffed, BODY=8BITMIME when it has 8-bit bytes. The server (Salvo's
// inbound session, which offers CHUNKING) must receive each content as it
// was meant, whatever its line ends.
TEST(SmtpClient, BdatToAServerOfferingChunking) {
  auto sink = std::make_shared<testing::RecordingSink>();
  testing::ServerThread server(testing::TestOptions(sink));
  ASSERT_NE(server.port(), 0);
  const std::string wire_ready = "Subject: a\r\n\r\ncaf\xc3\xa9\r\n.leading dot\r\n";
  const std::string bare_ends = "Subject: b\n\n.dot after LF\nbare CR\rend";
  Outcome o = Deliver(server.port(), {{MakeEnvelope({"a@bounces.salvo.test"}), wire_ready},
                                      {MakeEnvelope({"b@bounces.salvo.test"}), bare_ends}});
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_TRUE(o.caps.chunking);
  EXPECT_TRUE(o.caps.pipelining);
  ASSERT_EQ(o.results.size(), 2u);
  for (const auto& r : o.results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->data.code, 250) << r->data.ToString();
  }
  std::vector<InboundMessage> got = sink->messages();
  ASSERT_EQ(got.size(), 2u);
  // The server prepends its Received: header; the rest is what was sent.
  EXPECT_TRUE(got[0].content.ends_with("\r\n" + wire_ready)) << got[0].content;
  EXPECT_EQ(got[0].body, BodyType::k8BitMime);
  EXPECT_TRUE(got[1].content.ends_with("\r\nSubject: b\r\n\r\n.dot after LF\r\nbare CR\r\nend\r\n"))
      << got[1].content;
  EXPECT_NE(got[1].body, BodyType::k8BitMime);
}

TEST(SmtpClient, PassesDsnParametersToSmtpSink) {
  std::string dir = TempDir();
  chmod(dir.c_str(), 0777);  // smtp-sink writes as nobody
  ChildProcess sink;
  int port = StartSmtpSink(sink, dir);
  ASSERT_GT(port, 0);
  Envelope e = MakeEnvelope({});
  e.recipients.push_back({"r1@peer.test", "SUCCESS,FAILURE", "rfc822;orig@peer.test"});
  e.ret = "HDRS";
  e.envid = "campaign42";
  Outcome o = Deliver(port, {{e, kMessage}});
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_TRUE(o.caps.dsn);
  ASSERT_EQ(o.results.size(), 1u);
  ASSERT_TRUE(o.results[0].ok()) << o.results[0].status();
  EXPECT_EQ(o.results[0]->ForRecipient(0).code, 250);
  std::string dump;
  for (auto& f : std::filesystem::directory_iterator(dir)) dump += ReadFile(f.path());
  EXPECT_NE(dump.find("X-Mail-Args: <bounce+tok@salvo.test>"), std::string::npos) << dump;
  EXPECT_NE(dump.find("RET=HDRS ENVID=campaign42"), std::string::npos) << dump;
  EXPECT_NE(
      dump.find("X-Rcpt-Args: <r1@peer.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig@peer.test"),
      std::string::npos)
      << dump;
}

TEST(SmtpClient, TransientRcptRejectionIsAValue) {
  std::string dir = TempDir();
  chmod(dir.c_str(), 0777);
  ChildProcess sink;
  int port = StartSmtpSink(sink, dir, {"-r", "RCPT"});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port, {{MakeEnvelope({"a@peer.test"}), kMessage}});
  ASSERT_TRUE(o.start.ok()) << o.start;
  ASSERT_TRUE(o.results[0].ok()) << o.results[0].status();
  EXPECT_TRUE(o.results[0]->ForRecipient(0).transient())
      << o.results[0]->ForRecipient(0).ToString();
  EXPECT_TRUE(o.reusable_after);  // RSET went through
}

TEST(SmtpClient, DroppedConnectionInDataIsAnErrorAndNotReusable) {
  std::string dir = TempDir();
  chmod(dir.c_str(), 0777);
  ChildProcess sink;
  int port = StartSmtpSink(sink, dir, {"-q", "."});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port, {{MakeEnvelope({"a@peer.test"}), kMessage}});
  ASSERT_TRUE(o.start.ok()) << o.start;
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_FALSE(o.results[0].ok());
  EXPECT_FALSE(o.reusable_after);
}

TEST(SmtpClient, Reply421EndsTheSession) {
  std::string dir = TempDir();
  chmod(dir.c_str(), 0777);
  ChildProcess sink;
  int port = StartSmtpSink(sink, dir, {"-Q", "MAIL"});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port, {{MakeEnvelope({"a@peer.test"}), kMessage}});
  ASSERT_TRUE(o.start.ok()) << o.start;
  ASSERT_EQ(o.results.size(), 1u);
  ASSERT_TRUE(o.results[0].ok()) << o.results[0].status();
  EXPECT_EQ(o.results[0]->ForRecipient(0).code, 421);
  EXPECT_FALSE(o.reusable_after);
}

TEST(SmtpClient, OversizeMessageIsRefusedLocallyAgainstSizeLimit) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl", {"--size", "100"});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port, {{MakeEnvelope({"a@peer.test"}), std::string(500, 'x') + "\r\n"}});
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_EQ(o.caps.max_size, 100u);
  ASSERT_TRUE(o.results[0].ok());
  const SmtpReply& r = o.results[0]->ForRecipient(0);
  EXPECT_EQ(r.code, 552);
  EXPECT_EQ(r.enhanced, "5.3.4");
  EXPECT_TRUE(r.local);
  EXPECT_TRUE(o.reusable_after);
  EXPECT_EQ(ReadFile(dir + "/out.jsonl"), "");
}

TEST(SmtpClient, EightBitContentNeverGoesToAServerWithout8BitMime) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl", {"--no-8bitmime"});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port, {{MakeEnvelope({"a@peer.test"}), "Subject: caf\xc3\xa9\r\n\r\nx\r\n"},
                             {MakeEnvelope({"b@peer.test"}), kMessage}});
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_FALSE(o.caps.eightbitmime);
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0]->ForRecipient(0).code, 554);
  EXPECT_EQ(o.results[0]->ForRecipient(0).enhanced, "5.6.3");
  EXPECT_EQ(o.results[1]->ForRecipient(0).code, 250);  // the 7-bit one still goes
}

TEST(SmtpClient, NonAsciiAddressNeedsSmtpUtf8) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl", {"--smtputf8"});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port, {{MakeEnvelope({"j\xc3\xb6rg@peer.test"}), kMessage}});
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_TRUE(o.caps.smtputf8);
  ASSERT_TRUE(o.results[0].ok()) << o.results[0].status();
  EXPECT_EQ(o.results[0]->ForRecipient(0).code, 250);
  std::string log = ReadFile(dir + "/out.jsonl");
  EXPECT_NE(log.find("SMTPUTF8"), std::string::npos) << log;

  ChildProcess plain;
  int port2 = StartAiosmtpd(plain, dir + "/out2.jsonl");
  ASSERT_GT(port2, 0);
  Outcome o2 = Deliver(port2, {{MakeEnvelope({"j\xc3\xb6rg@peer.test"}), kMessage}});
  ASSERT_TRUE(o2.results[0].ok());
  EXPECT_EQ(o2.results[0]->ForRecipient(0).code, 553);
  EXPECT_EQ(o2.results[0]->ForRecipient(0).enhanced, "5.6.7");
}

TEST(SmtpClient, TarpitHitsTheCommandTimeout) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl", {"--tarpit", "5"});
  ASSERT_GT(port, 0);
  ClientOptions options;
  options.timeouts.mail = 300ms;
  Outcome o = Deliver(port, {{MakeEnvelope({"a@peer.test"}), kMessage}}, options);
  ASSERT_TRUE(o.start.ok()) << o.start;
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_TRUE(absl::IsDeadlineExceeded(o.results[0].status())) << o.results[0].status();
  EXPECT_FALSE(o.reusable_after);
}

TEST(SmtpClient, RequiredTlsFailsWhenNotOffered) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl");
  ASSERT_GT(port, 0);
  ClientOptions options;
  options.tls_policy = TlsPolicy::kRequired;
  Outcome o = Deliver(port, {{MakeEnvelope({"a@peer.test"}), kMessage}}, options);
  EXPECT_TRUE(absl::IsFailedPrecondition(o.start)) << o.start;
  EXPECT_TRUE(o.results.empty());
}

TEST(SmtpClient, NegativeGreetingIsReportedWithTheReply) {
  // smtp-sink answers 554 to the connection when told to reject "CONNECT".
  std::string dir = TempDir();
  chmod(dir.c_str(), 0777);
  ChildProcess sink;
  int port = StartSmtpSink(sink, dir, {"-f", "CONNECT"});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port, {{MakeEnvelope({"a@peer.test"}), kMessage}});
  EXPECT_FALSE(o.start.ok());
  EXPECT_EQ(o.start_reply.code / 100, 5) << o.start_reply.ToString();
}

// --- Pipelining across messages (Send's hold_end, RFC 2920 §3.1) ---

std::string Numbered(int n) {
  return fmt::format(
      "From: a@salvo.test\r\nSubject: number {0}\r\n\r\n.leading dot\r\nbody {0}\r\n", n);
}

// Messages 1 and 2 to a@ and b@peer.test, with hold_end.
Outcome DeliverTwoHolding(int port) {
  return Deliver(
      port,
      {{MakeEnvelope({"a@peer.test"}), Numbered(1)}, {MakeEnvelope({"b@peer.test"}), Numbered(2)}},
      {}, /*hold=*/true);
}

TEST(SmtpClient, PipelinesTheNextMessageBehindTheEndOfData) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port =
      StartAiosmtpd(peer, dir + "/out.jsonl", {"--pipelining", "--chunks", dir + "/chunks.jsonl"});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port,
                      {{MakeEnvelope({"m1@peer.test"}), Numbered(1)},
                       {MakeEnvelope({"m2@peer.test", "m2b@peer.test"}), Numbered(2)},
                       {MakeEnvelope({"m3@peer.test"}), Numbered(3)}},
                      {}, /*hold=*/true);
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_EQ(o.held, 3);
  ASSERT_EQ(o.results.size(), 3u);
  for (auto& r : o.results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->data.code, 250) << r->data.ToString();
    EXPECT_EQ(r->ForRecipient(0).code, 250);
  }
  EXPECT_TRUE(o.reusable_after);
  // All three arrived, in order, dot-unstuffed, with their own envelopes.
  std::vector<std::string> lines;
  std::istringstream log(ReadFile(dir + "/out.jsonl"));
  for (std::string line; std::getline(log, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    int n = i + 1;
    EXPECT_NE(lines[i].find(fmt::format("number {}", n)), std::string::npos) << lines[i];
    EXPECT_NE(lines[i].find(fmt::format("\\r\\n.leading dot\\r\\nbody {}", n)), std::string::npos)
        << lines[i];
    EXPECT_NE(lines[i].find(fmt::format("\"m{}@peer.test\"", n)), std::string::npos) << lines[i];
  }
  // The end of message 1 and message 2's commands came in one write; so did
  // message 2's end and message 3's commands.
  std::string chunks = ReadFile(dir + "/chunks.jsonl");
  EXPECT_NE(chunks.find("body 1\\r\\n.\\r\\nMAIL FROM:<bounce+tok@salvo.test>"), std::string::npos)
      << chunks;
  EXPECT_NE(chunks.find("body 2\\r\\n.\\r\\nMAIL FROM:"), std::string::npos) << chunks;
  EXPECT_NE(chunks.find("RCPT TO:<m3@peer.test>\\r\\nDATA\\r\\n"), std::string::npos) << chunks;
}

TEST(SmtpClient, HeldMessageRejectedAtItsEndLeavesTheNextOneAlone) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl", {"--pipelining", "--reject-data", "SPAM"});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port,
                      {{MakeEnvelope({"a@peer.test"}), "Subject: SPAM\r\n\r\nx\r\n"},
                       {MakeEnvelope({"b@peer.test"}), Numbered(2)}},
                      {}, /*hold=*/true);
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_EQ(o.held, 2);  // the last one too, settled at the end
  ASSERT_EQ(o.results.size(), 2u);
  ASSERT_TRUE(o.results[0].ok()) << o.results[0].status();
  EXPECT_EQ(o.results[0]->ForRecipient(0).code, 554);
  EXPECT_EQ(o.results[0]->ForRecipient(0).enhanced, "5.7.1");
  ASSERT_TRUE(o.results[1].ok()) << o.results[1].status();
  EXPECT_EQ(o.results[1]->ForRecipient(0).code, 250);
  EXPECT_TRUE(o.reusable_after);
  std::string log = ReadFile(dir + "/out.jsonl");
  EXPECT_EQ(log.find("SPAM"), std::string::npos) << log;
  EXPECT_NE(log.find("number 2"), std::string::npos) << log;
}

TEST(SmtpClient, HeldMessageGoesOutAloneWhenTheNextIsRefusedLocally) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl", {"--pipelining", "--size", "300"});
  ASSERT_GT(port, 0);
  Outcome o = Deliver(port,
                      {{MakeEnvelope({"a@peer.test"}), Numbered(1)},
                       {MakeEnvelope({"b@peer.test"}), std::string(500, 'x') + "\r\n"}},
                      {}, /*hold=*/true);
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_EQ(o.held, 1);
  ASSERT_EQ(o.results.size(), 2u);
  ASSERT_TRUE(o.results[0].ok()) << o.results[0].status();
  EXPECT_EQ(o.results[0]->ForRecipient(0).code, 250);
  ASSERT_TRUE(o.results[1].ok());
  EXPECT_EQ(o.results[1]->ForRecipient(0).code, 552);
  EXPECT_TRUE(o.results[1]->ForRecipient(0).local);
  EXPECT_NE(ReadFile(dir + "/out.jsonl").find("number 1"), std::string::npos);
}

TEST(SmtpClient, ConnectionLostAtAHeldEndFailsItAndTheNextMessage) {
  std::string dir = TempDir();
  chmod(dir.c_str(), 0777);
  ChildProcess sink;
  int port = StartSmtpSink(sink, dir, {"-q", "."});  // disconnects instead of answering "."
  ASSERT_GT(port, 0);
  Outcome o = DeliverTwoHolding(port);
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_EQ(o.held, 1);
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_FALSE(o.results[0].ok());
  EXPECT_FALSE(o.results[1].ok());
  EXPECT_FALSE(o.reusable_after);
}

TEST(SmtpClient, Reply421AtAHeldEndAnswersTheNextMessageToo) {
  std::string dir = TempDir();
  chmod(dir.c_str(), 0777);
  ChildProcess sink;
  int port = StartSmtpSink(sink, dir, {"-Q", "."});  // 421 and disconnect at "."
  ASSERT_GT(port, 0);
  Outcome o = DeliverTwoHolding(port);
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_EQ(o.held, 1);
  ASSERT_EQ(o.results.size(), 2u);
  ASSERT_TRUE(o.results[0].ok()) << o.results[0].status();
  EXPECT_EQ(o.results[0]->ForRecipient(0).code, 421);
  ASSERT_TRUE(o.results[1].ok()) << o.results[1].status();
  EXPECT_EQ(o.results[1]->ForRecipient(0).code, 421);
  EXPECT_TRUE(o.results[1]->ForRecipient(0).transient());
  EXPECT_FALSE(o.reusable_after);
}

TEST(SmtpClient, SmtpSinkTakesAPipelinedRunOfMessages) {
  std::string dir = TempDir();
  chmod(dir.c_str(), 0777);
  ChildProcess sink;
  int port = StartSmtpSink(sink, dir);
  ASSERT_GT(port, 0);
  std::vector<std::pair<Envelope, std::string>> messages;
  for (int i = 1; i <= 5; ++i) {
    messages.push_back({MakeEnvelope({fmt::format("r{}@peer.test", i)}), Numbered(i)});
  }
  Outcome o = Deliver(port, messages, {}, /*hold=*/true);
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_FALSE(o.caps.chunking);
  EXPECT_EQ(o.held, 5);
  ASSERT_EQ(o.results.size(), 5u);
  for (auto& r : o.results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->data.code, 250) << r->data.ToString();
  }
  std::string dump;
  for (auto& f : std::filesystem::directory_iterator(dir)) dump += ReadFile(f.path());
  for (int i = 1; i <= 5; ++i) {
    EXPECT_NE(dump.find(fmt::format("X-Rcpt-Args: <r{}@peer.test>", i)), std::string::npos) << dump;
    EXPECT_NE(dump.find(fmt::format("body {}", i)), std::string::npos);
  }
}

TEST(SmtpClient, PipelineMessagesOffNeverHolds) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl", {"--pipelining"});
  ASSERT_GT(port, 0);
  ClientOptions options;
  options.pipeline_messages = false;
  Outcome o = Deliver(
      port,
      {{MakeEnvelope({"a@peer.test"}), Numbered(1)}, {MakeEnvelope({"b@peer.test"}), Numbered(2)}},
      options, /*hold=*/true);
  ASSERT_TRUE(o.start.ok()) << o.start;
  EXPECT_EQ(o.held, 0);
  ASSERT_EQ(o.results.size(), 2u);
  for (auto& r : o.results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->data.code, 250);
  }
}

TEST(SmtpClient, DroppedUnsentHeldMessageNeverReachesTheServer) {
  std::string dir = TempDir();
  ChildProcess peer;
  int port = StartAiosmtpd(peer, dir + "/out.jsonl", {"--pipelining"});
  ASSERT_GT(port, 0);
  struct Seen {
    absl::StatusOr<TransactionResult> first = absl::UnknownError("not run");
    bool unsent = false;
    bool reusable = true;
    absl::Status next;
  } seen;
  std::string content = Numbered(1);
  RunOnRing([](int port, std::string* content, Seen* seen) -> Task<void> {
    // Every argument named first: g++ 12 mishandles temporaries in co_await.
    auto addr = SocketAddress::Parse("127.0.0.1", port);
    auto sock = co_await Connect(*addr, std::nullopt, After(5s));
    if (!sock.ok()) co_return;
    ClientOptions options;
    SmtpClientSession session(std::move(*sock), options);
    absl::Status started = co_await session.Start();
    if (!started.ok()) co_return;
    Envelope first = MakeEnvelope({"a@peer.test"});
    Envelope second = MakeEnvelope({"b@peer.test"});
    seen->first = co_await session.Send(first, *content, true);
    seen->unsent = session.holding_unsent();
    session.DropUnsent();
    seen->reusable = session.reusable();
    auto next = co_await session.Send(second, *content, false);
    seen->next = next.status();
    co_await session.Quit();
  }(port, &content, &seen));
  ASSERT_TRUE(seen.first.ok()) << seen.first.status();
  EXPECT_TRUE(seen.first->held);
  EXPECT_TRUE(seen.unsent);
  EXPECT_FALSE(seen.reusable);
  EXPECT_TRUE(absl::IsFailedPrecondition(seen.next)) << seen.next;
  peer.Stop();  // flushes nothing more: the transaction never ended
  EXPECT_EQ(ReadFile(dir + "/out.jsonl"), "");
}

}  // namespace
}  // namespace salvo::smtp
