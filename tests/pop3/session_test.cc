// The POP3 session over loopback against a real queue::Mailbox: the
// download-and-delete and keep modes, what UPDATE writes to the store, the
// maildrop lock, the input split at every point and one byte at a time,
// and hostile clients (long lines, garbage, commands before login, password
// guessing, stalling, too many connections).
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/base/strings.h"
#include "engine/pop3/apop.h"
#include "tests/pop3/pop3_fixture.h"

namespace salvo::pop3 {
namespace {

using namespace std::chrono_literals;
using testing::Client;
using testing::LoginAlice;
using testing::ServerThread;
using testing::TestMailbox;
using testing::TestOptions;

bool StartsWith(std::string_view s, std::string_view p) { return s.rfind(p, 0) == 0; }

std::string Message(int i, std::string_view body = "Hello.\r\n") {
  return absl::StrCat("From: mailer-daemon@example.net\r\nSubject: bounce ", i, "\r\n\r\n",
                      std::string(body));
}

TEST(Pop3Session, DownloadAndDeleteExpungesAtQuit) {
  TestMailbox mb;
  uint32_t u1 = mb.Add(Message(1, ".dotted line\r\nnext\r\n"));
  uint32_t u2 = mb.Add(Message(2));
  uint32_t u3 = mb.Add(Message(3));
  ServerThread server(TestOptions(mb));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_TRUE(LoginAlice(c));
  uint64_t total = Message(1, ".dotted line\r\nnext\r\n").size() + 2 * Message(2).size();
  EXPECT_EQ(c.Command("STAT"), "+OK 3 " + std::to_string(total));
  EXPECT_TRUE(StartsWith(c.Command("RETR 1"), "+OK"));
  EXPECT_EQ(c.ReadBody(), Message(1, ".dotted line\r\nnext\r\n"));
  EXPECT_EQ(c.Command("DELE 1"), "+OK Message 1 deleted");
  EXPECT_TRUE(StartsWith(c.Command("RETR 2"), "+OK"));
  EXPECT_EQ(c.ReadBody(), Message(2));
  // Before QUIT nothing changed in the store.
  EXPECT_EQ(mb.View().messages.size(), 3u);
  EXPECT_TRUE(StartsWith(c.Command("QUIT"), "+OK"));
  EXPECT_TRUE(c.WaitClosed());
  mailbox::FolderView v = mb.View();
  ASSERT_EQ(v.messages.size(), 2u);
  EXPECT_EQ(v.messages[0].uid, u2);
  EXPECT_EQ(v.messages[0].flags, mailbox::kSeen);  // retrieved
  EXPECT_EQ(v.messages[1].uid, u3);
  EXPECT_EQ(v.messages[1].flags, 0);
  (void)u1;
}

TEST(Pop3Session, KeepModeMarksInsteadOfErasing) {
  TestMailbox mb;
  mb.Add(Message(1));
  mb.Add(Message(2));
  Pop3Options o = TestOptions(mb);
  o.keep_messages = true;
  ServerThread server(o);
  {
    Client c;
    ASSERT_TRUE(c.Connect(server.port()));
    ASSERT_TRUE(LoginAlice(c));
    EXPECT_EQ(c.Command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_TRUE(StartsWith(c.Command("QUIT"), "+OK"));
    EXPECT_TRUE(c.WaitClosed());
  }
  mailbox::FolderView v = mb.View();
  ASSERT_EQ(v.messages.size(), 2u);  // still stored
  EXPECT_EQ(v.messages[0].flags, mailbox::kSeen | mailbox::kDeleted);
  // A later session no longer sees the processed message.
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_TRUE(LoginAlice(c));
  EXPECT_EQ(c.Command("STAT"), "+OK 1 " + std::to_string(Message(2).size()));
  EXPECT_EQ(c.Command("UIDL 1"), "+OK 1 " + std::to_string(v.status.uid_validity) + "." +
                                     std::to_string(v.messages[1].uid));
}

TEST(Pop3Session, EndingWithoutQuitChangesNothing) {
  TestMailbox mb;
  mb.Add(Message(1));
  ServerThread server(TestOptions(mb));
  {
    Client c;
    ASSERT_TRUE(c.Connect(server.port()));
    ASSERT_TRUE(LoginAlice(c));
    EXPECT_TRUE(StartsWith(c.Command("RETR 1"), "+OK"));
    EXPECT_TRUE(c.ReadBody());
    EXPECT_EQ(c.Command("DELE 1"), "+OK Message 1 deleted");
  }  // connection dropped
  // The lock is released once the session ended: a new login works.
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_TRUE(LoginAlice(c));
  EXPECT_TRUE(StartsWith(c.Command("STAT"), "+OK 1 "));
  mailbox::FolderView v = mb.View();
  ASSERT_EQ(v.messages.size(), 1u);
  EXPECT_EQ(v.messages[0].flags, 0);
}

TEST(Pop3Session, DeletedMessagesAreInvisibleUntilRset) {
  TestMailbox mb;
  for (int i = 1; i <= 3; ++i) mb.Add(Message(i));
  uint32_t validity = mb.uid_validity();
  ServerThread server(TestOptions(mb));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_TRUE(LoginAlice(c));
  size_t size = Message(1).size();
  EXPECT_EQ(c.Command("DELE 2"), "+OK Message 2 deleted");
  EXPECT_EQ(c.Command("DELE 2"), "-ERR Message already deleted");
  EXPECT_EQ(c.Command("STAT"), "+OK 2 " + std::to_string(2 * size));
  EXPECT_TRUE(StartsWith(c.Command("LIST"), "+OK 2 messages"));
  EXPECT_EQ(c.ReadBody(), "1 " + std::to_string(size) + "\r\n3 " + std::to_string(size) + "\r\n");
  EXPECT_EQ(c.Command("LIST 2"), "-ERR Message already deleted");
  EXPECT_EQ(c.Command("RETR 2"), "-ERR Message already deleted");
  EXPECT_EQ(c.Command("TOP 2 0"), "-ERR Message already deleted");
  EXPECT_EQ(c.Command("UIDL 2"), "-ERR Message already deleted");
  EXPECT_EQ(c.Command("LIST 4"), "-ERR No such message");
  EXPECT_EQ(c.Command("LIST 0"), "-ERR Invalid message number");
  EXPECT_TRUE(StartsWith(c.Command("UIDL"), "+OK"));
  auto uidl = c.ReadBody();
  ASSERT_TRUE(uidl);
  EXPECT_EQ(uidl->find("2 "), std::string::npos);
  EXPECT_NE(uidl->find("3 " + std::to_string(validity) + ".3"), std::string::npos) << *uidl;
  EXPECT_EQ(c.Command("RSET"),
            "+OK Maildrop has 3 messages (" + std::to_string(3 * size) + " octets)");
  EXPECT_EQ(c.Command("LIST 2"), "+OK 2 " + std::to_string(size));
  EXPECT_TRUE(StartsWith(c.Command("QUIT"), "+OK"));
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(mb.View().messages.size(), 3u);
}

TEST(Pop3Session, TopSendsHeadersAndSomeBodyLines) {
  TestMailbox mb;
  mb.Add(Message(1, "l1\r\n.l2\r\nl3\r\n"));
  ServerThread server(TestOptions(mb));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_TRUE(LoginAlice(c));
  EXPECT_EQ(c.Command("TOP 1 2"), "+OK Top of message follows");
  EXPECT_EQ(c.ReadBody(), Message(1, "l1\r\n.l2\r\n"));
  EXPECT_EQ(c.Command("TOP 1 0"), "+OK Top of message follows");
  EXPECT_EQ(c.ReadBody(), Message(1, ""));
  EXPECT_EQ(c.Command("TOP 1 x"), "-ERR Invalid line count");
  EXPECT_EQ(c.Command("TOP 1"), "-ERR Syntax: TOP msg n");
  EXPECT_TRUE(StartsWith(c.Command("QUIT"), "+OK"));
  // TOP is not a retrieval: no \Seen.
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(mb.View().messages[0].flags, 0);
}

TEST(Pop3Session, LargeMessageIsStreamedIntact) {
  TestMailbox mb;
  std::string body;
  for (int i = 0; body.size() < (3 << 20); ++i) {
    if (i % 7 == 0) body += '.';
    body.append(70 + i % 50, static_cast<char>('a' + i % 26));
    body += "\r\n";
  }
  mb.Add(Message(1, body));
  Pop3Options o = TestOptions(mb);
  o.limits.write_chunk = 16 * 1024;
  ServerThread server(o);
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_TRUE(LoginAlice(c));
  EXPECT_EQ(c.Command("RETR 1"), "+OK " + std::to_string(Message(1, body).size()) + " octets");
  auto got = c.ReadBody(30s);
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got == Message(1, body)) << "sizes " << got->size();
  EXPECT_EQ(c.Command("NOOP"), "+OK");
}

TEST(Pop3Session, MessagesRemovedByAnotherSessionAnswerErr) {
  TestMailbox mb;
  uint32_t uid = mb.Add(Message(1));
  ServerThread server(TestOptions(mb));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_TRUE(LoginAlice(c));
  // Another user (IMAP, or a second POP3 user) removes it meanwhile.
  ASSERT_TRUE(mb.mailbox()
                  .StoreFlags(mb.folder(), {uid}, mailbox::FlagOp::kAdd, mailbox::kDeleted)
                  .Wait()
                  .ok());
  ASSERT_TRUE(mb.mailbox().Expunge(mb.folder(), std::nullopt).Wait().ok());
  EXPECT_TRUE(StartsWith(c.Command("RETR 1"), "-ERR Message no longer exists"));
  EXPECT_EQ(c.Command("DELE 1"), "+OK Message 1 deleted");
  EXPECT_TRUE(StartsWith(c.Command("QUIT"), "+OK"));  // deleting a gone UID is no error
}

TEST(Pop3Session, CommandsBeforeLoginAreRefused) {
  TestMailbox mb;
  mb.Add(Message(1));
  ServerThread server(TestOptions(mb));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  EXPECT_TRUE(StartsWith(c.ReadLine(), "+OK POP3 server ready"));
  for (std::string_view cmd :
       {"STAT", "LIST", "LIST 1", "UIDL", "RETR 1", "TOP 1 1", "DELE 1", "NOOP", "RSET"}) {
    EXPECT_EQ(c.Command(cmd), "-ERR Not logged in") << cmd;
  }
  EXPECT_EQ(c.Command("PASS wonderland"), "-ERR USER first");
  EXPECT_EQ(c.Command("USER alice"), "+OK Send PASS");
  EXPECT_EQ(c.Command("STAT"), "-ERR Not logged in");
  EXPECT_TRUE(StartsWith(c.Command("QUIT"), "+OK"));
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(mb.View().messages[0].flags, 0);
}

TEST(Pop3Session, SecondSessionOfTheSameUserIsInUse) {
  TestMailbox mb;
  mb.Add(Message(1));
  ServerThread server(TestOptions(mb));
  Client a;
  ASSERT_TRUE(a.Connect(server.port()));
  ASSERT_TRUE(LoginAlice(a));
  Client b;
  ASSERT_TRUE(b.Connect(server.port()));
  b.ReadLine();
  EXPECT_EQ(b.Command("USER alice"), "+OK Send PASS");
  EXPECT_EQ(b.Command("PASS wonderland"), "-ERR [IN-USE] Maildrop is locked by another session");
  // Another user is not locked out.
  Client m;
  ASSERT_TRUE(m.Connect(server.port()));
  m.ReadLine();
  m.Command("USER mrose");
  EXPECT_TRUE(StartsWith(m.Command("PASS rose-pw"), "+OK Logged in"));
  EXPECT_TRUE(StartsWith(a.Command("QUIT"), "+OK"));
  EXPECT_TRUE(a.WaitClosed());
  EXPECT_EQ(b.Command("USER alice"), "+OK Send PASS");
  EXPECT_TRUE(StartsWith(b.Command("PASS wonderland"), "+OK Logged in"));
}

TEST(Pop3Session, SaslPlainLoginAndCancel) {
  TestMailbox mb;
  ServerThread server(TestOptions(mb));
  auto b64 = [](std::string_view s) { return std::string(ToStd(absl::Base64Escape(ToAbsl(s)))); };
  {
    Client c;
    ASSERT_TRUE(c.Connect(server.port()));
    c.ReadLine();
    EXPECT_EQ(c.Command("AUTH PLAIN " + b64(std::string("\0alice\0wonderland", 17))),
              "+OK Logged in; 0 message(s) (0 octets)");
  }
  {
    Client c;
    ASSERT_TRUE(c.Connect(server.port()));
    c.ReadLine();
    EXPECT_EQ(c.Command("AUTH LOGIN"), "+ " + b64("Username:"));
    EXPECT_EQ(c.Command("*"), "-ERR Authentication cancelled");
    EXPECT_EQ(c.Command("AUTH LOGIN"), "+ " + b64("Username:"));
    EXPECT_EQ(c.Command(b64("alice")), "+ " + b64("Password:"));
    EXPECT_EQ(c.Command("!!notbase64"), "-ERR Cannot decode response");
    EXPECT_EQ(c.Command("AUTH PLAIN"), "+ ");
    EXPECT_EQ(c.Command(b64(std::string("\0alice\0wonderland", 17))),
              "+OK Logged in; 0 message(s) (0 octets)");
  }
  {
    Client c;
    ASSERT_TRUE(c.Connect(server.port()));
    c.ReadLine();
    EXPECT_EQ(c.Command("AUTH GSSAPI"), "-ERR Unrecognized authentication mechanism");
    EXPECT_EQ(c.Command("AUTH CRAM-MD5"), "-ERR Unrecognized authentication mechanism");
    EXPECT_EQ(c.Command("AUTH PLAIN " + b64(std::string("\0alice\0wrong", 12))),
              "-ERR [AUTH] Authentication failed");
  }
}

TEST(Pop3Session, ApopAndCramMd5WithSecrets) {
  TestMailbox mb;
  ServerThread server(TestOptions(mb, /*apop=*/true));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  std::string greeting = c.ReadLine();
  size_t lt = greeting.find('<');
  ASSERT_NE(lt, std::string::npos) << greeting;
  std::string timestamp = greeting.substr(lt);
  EXPECT_EQ(c.Command("APOP mrose " + ApopDigest(timestamp, "wrong")),
            "-ERR [AUTH] Authentication failed");
  EXPECT_EQ(c.Command("APOP alice " + ApopDigest(timestamp, "")),
            "-ERR [AUTH] Authentication failed");
  EXPECT_TRUE(
      StartsWith(c.Command("APOP mrose " + ApopDigest(timestamp, "tanstaaf")), "+OK Logged in"));
  Client d;
  ASSERT_TRUE(d.Connect(server.port()));
  d.ReadLine();
  std::string challenge_line = d.Command("AUTH CRAM-MD5");
  ASSERT_TRUE(StartsWith(challenge_line, "+ "));
  std::string challenge;
  ASSERT_TRUE(absl::Base64Unescape(challenge_line.substr(2), &challenge));
  std::string response = "alice " + smtp::CramMd5Digest("none", challenge);
  EXPECT_EQ(d.Command(std::string(ToStd(absl::Base64Escape(response)))),
            "-ERR [AUTH] Authentication failed");
}

TEST(Pop3Session, NoApopTimestampWithoutSecrets) {
  TestMailbox mb;
  ServerThread server(TestOptions(mb));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  EXPECT_EQ(c.ReadLine(), "+OK POP3 server ready");
  EXPECT_EQ(c.Command("APOP mrose c4c9334bac560ecc979e58001b3e22fb"), "-ERR APOP not available");
}

TEST(Pop3Session, PlaintextLoginRefusedUnlessAllowed) {
  TestMailbox mb;
  Pop3Options o = TestOptions(mb);
  o.allow_plaintext_auth = false;
  ServerThread server(o);
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  c.ReadLine();
  EXPECT_EQ(c.Command("CAPA"), "+OK Capability list follows");
  auto capa = c.ReadBody();
  ASSERT_TRUE(capa);
  EXPECT_EQ(capa->find("USER"), std::string::npos);
  EXPECT_EQ(capa->find("SASL"), std::string::npos);
  EXPECT_EQ(c.Command("USER alice"),
            "-ERR [AUTH] Plaintext authentication disallowed; use STLS or the TLS port");
  EXPECT_TRUE(StartsWith(c.Command("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ="), "-ERR [AUTH]"));
  EXPECT_EQ(c.Command("STLS"), "-ERR STLS not available");
}

TEST(Pop3Session, PasswordGuessingIsSlowedAndCut) {
  TestMailbox mb;
  Pop3Options o = TestOptions(mb);
  o.auth_failures = std::make_shared<smtp::AuthFailureLimiter>(4, std::chrono::minutes(1));
  ServerThread server(o);
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  c.ReadLine();
  for (int i = 0; i < 2; ++i) {
    c.Command("USER alice");
    EXPECT_EQ(c.Command("PASS guess" + std::to_string(i)), "-ERR [AUTH] Authentication failed");
  }
  c.Command("USER alice");
  EXPECT_EQ(c.Command("PASS guess3"), "-ERR [AUTH] Too many authentication failures; closing");
  EXPECT_TRUE(c.WaitClosed());
  // The address is now over the shared limit after one more failure.
  Client d;
  ASSERT_TRUE(d.Connect(server.port()));
  d.ReadLine();
  d.Command("USER alice");
  EXPECT_EQ(d.Command("PASS guess4"), "-ERR [AUTH] Authentication failed");
  d.Command("USER alice");
  EXPECT_EQ(d.Command("PASS wonderland"),
            "-ERR [SYS/TEMP] Too many authentication failures; try again later");
  EXPECT_TRUE(d.WaitClosed());
}

TEST(Pop3Session, OverlongLinesAndGarbage) {
  TestMailbox mb;
  Pop3Options o = TestOptions(mb);
  o.limits.max_errors = 6;
  ServerThread server(o);
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  c.ReadLine();
  EXPECT_EQ(c.Command(std::string(254, 'A')), "-ERR Line too long");
  EXPECT_EQ(c.Command("NOOP"), "-ERR Not logged in");  // the reader resynchronised
  EXPECT_EQ(c.Command(std::string("\x01\x02\xff garbage", 11)),
            "-ERR Syntax error: control characters in command");
  EXPECT_EQ(c.Command("GET / HTTP/1.1"), "-ERR Unknown command");
  EXPECT_EQ(c.Command("USER " + std::string(41, 'u')), "-ERR Syntax error: argument too long");
  EXPECT_EQ(c.Command("XYZZY"), "-ERR Unknown command");
  EXPECT_EQ(c.ReadLine(), "-ERR Too many errors; closing");
  EXPECT_TRUE(c.WaitClosed());
}

TEST(Pop3Session, StallingClientIsLoggedOut) {
  TestMailbox mb;
  Pop3Options o = TestOptions(mb);
  o.timeouts.idle = 300ms;
  ServerThread server(o);
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  c.ReadLine();
  c.Send("USER al");  // half a line, then nothing
  EXPECT_EQ(c.ReadLine(5s), "-ERR Disconnected for inactivity");
  EXPECT_TRUE(c.WaitClosed(5s));
}

TEST(Pop3Session, TooManyConnectionsFromOneAddress) {
  TestMailbox mb;
  Pop3Options o = TestOptions(mb);
  o.connections = std::make_shared<smtp::ConnectionLimiter>(100, 2);
  ServerThread server(o);
  Client a, b, c;
  ASSERT_TRUE(a.Connect(server.port()));
  ASSERT_TRUE(b.Connect(server.port()));
  EXPECT_TRUE(StartsWith(a.ReadLine(), "+OK"));
  EXPECT_TRUE(StartsWith(b.ReadLine(), "+OK"));
  ASSERT_TRUE(c.Connect(server.port()));
  EXPECT_EQ(c.ReadLine(), "-ERR [SYS/TEMP] Too many connections; try again later");
  EXPECT_TRUE(c.WaitClosed());
}

TEST(Pop3Session, ShutdownSaysSoToWaitingSessions) {
  TestMailbox mb;
  ServerThread server(TestOptions(mb));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_TRUE(LoginAlice(c));
  server.Stop();
  EXPECT_EQ(c.ReadLine(), "-ERR [SYS/TEMP] Server shutting down");
  EXPECT_TRUE(c.WaitClosed());
}

TEST(Pop3Session, CapaListsWhatIsOffered) {
  TestMailbox mb;
  ServerThread server(TestOptions(mb));
  Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  c.ReadLine();
  EXPECT_EQ(c.Command("CAPA"), "+OK Capability list follows");
  EXPECT_EQ(c.ReadBody(),
            "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nUSER\r\n"
            "SASL PLAIN LOGIN\r\nIMPLEMENTATION Salvo\r\n");
  ASSERT_TRUE(StartsWith(c.Command("USER alice"), "+OK"));
  ASSERT_TRUE(StartsWith(c.Command("PASS wonderland"), "+OK"));
  EXPECT_EQ(c.Command("CAPA"), "+OK Capability list follows");
  EXPECT_EQ(
      c.ReadBody(),
      "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nIMPLEMENTATION Salvo\r\n");
}

// One dialogue, sent in two writes split at every point and one byte at a
// time: the replies never change.
class SplitInput : public ::testing::Test {
 protected:
  static constexpr std::string_view kDialogue =
      "CAPA\r\nUSER alice\r\nPASS wonderland\r\nSTAT\r\nLIST\r\nUIDL 1\r\nTOP 1 1\r\n"
      "RETR 2\r\nDELE 1\r\nNOOP\r\nRSET\r\nQUIT\r\n";

  std::string Run(ServerThread& server, const std::vector<std::string_view>& pieces) {
    Client c;
    if (!c.Connect(server.port())) return "no connection";
    for (std::string_view p : pieces) {
      c.Send(p);
      if (pieces.size() > 2) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    c.ShutdownWrite();
    return c.ReadAll(20s);
  }
};

TEST_F(SplitInput, RepliesDoNotDependOnHowInputArrives) {
  TestMailbox mb;
  mb.Add(Message(1, "a\r\n.b\r\n"));
  mb.Add(Message(2));
  ServerThread server(TestOptions(mb));
  const std::string whole = Run(server, {kDialogue});
  ASSERT_NE(whole.find("signing off"), std::string::npos) << whole;
  for (size_t split = 1; split < kDialogue.size(); ++split) {
    std::string got = Run(server, {kDialogue.substr(0, split), kDialogue.substr(split)});
    ASSERT_EQ(got, whole) << "split at " << split;
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < kDialogue.size(); ++i) bytes.push_back(kDialogue.substr(i, 1));
  EXPECT_EQ(Run(server, bytes), whole) << "one byte at a time";
  EXPECT_EQ(mb.View().messages.size(), 2u);  // RSET before QUIT
}

}  // namespace
}  // namespace salvo::pop3
