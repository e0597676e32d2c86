// The IMAP session over loopback against a real bounce mailbox
// (queue::Mailbox): the basic commands, cross-session updates, IDLE with a
// bounce filed while the client waits, and hostile input.
#include <regex>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/imap/imap_fixture.h"

namespace salvo::imap {
namespace {

using namespace std::chrono_literals;
using testing::Client;
using testing::ServerThread;
using testing::TestMailbox;
using testing::TestOptions;

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

class SessionTest : public ::testing::Test {
 protected:
  void Start(ImapOptions o) { server_ = std::make_unique<ServerThread>(std::move(o)); }
  void Start() { Start(TestOptions(box_.store())); }
  // A connected, logged-in client.
  std::unique_ptr<Client> LoggedIn() {
    auto c = std::make_unique<Client>();
    EXPECT_TRUE(c->Connect(server_->port()));
    EXPECT_TRUE(absl::StartsWith(c->ReadLine(), "* OK"));
    std::string r = c->Command("a1", "LOGIN bounces secret");
    EXPECT_TRUE(Has(r, "a1 OK")) << r;
    return c;
  }

  TestMailbox box_;
  std::unique_ptr<ServerThread> server_;
};

TEST_F(SessionTest, GreetingCapabilityLogout) {
  Start();
  Client c;
  ASSERT_TRUE(c.Connect(server_->port()));
  std::string greeting = c.ReadLine();
  EXPECT_TRUE(absl::StartsWith(greeting, "* OK [CAPABILITY IMAP4rev1")) << greeting;
  EXPECT_TRUE(Has(greeting, "AUTH=PLAIN")) << greeting;
  std::string r = c.Command("t1", "CAPABILITY");
  EXPECT_TRUE(Has(r, "* CAPABILITY IMAP4rev1")) << r;
  EXPECT_TRUE(Has(r, "t1 OK")) << r;
  r = c.Command("t2", "LOGOUT");
  EXPECT_TRUE(Has(r, "* BYE")) << r;
  EXPECT_TRUE(Has(r, "t2 OK")) << r;
}

TEST_F(SessionTest, CommandsBeforeLoginDoNotReachTheStore) {
  box_.Deliver(1);
  Start();
  Client c;
  ASSERT_TRUE(c.Connect(server_->port()));
  c.ReadLine();
  for (const char* cmd :
       {"SELECT INBOX", "LIST \"\" *", "STATUS INBOX (MESSAGES)", "FETCH 1 BODY[]", "CREATE x",
        "DELETE Hard", "APPEND INBOX {3+}\r\nabc", "UID FETCH 1:* FLAGS", "IDLE"}) {
    std::string r = c.Command("x", cmd);
    EXPECT_TRUE(Has(r, "x BAD Command requires authentication")) << cmd << ": " << r;
  }
  auto folders = box_.mailbox().ListFolders();
  for (const auto& f : folders) EXPECT_NE(f.name, "x");
  EXPECT_EQ(box_.mailbox().Status("INBOX")->messages, 1u);
}

TEST_F(SessionTest, LoginDisabledWithoutTlsForRemoteLikeClients) {
  ImapOptions o = TestOptions(box_.store());
  o.allow_plaintext_auth = false;
  Start(std::move(o));
  Client c;
  ASSERT_TRUE(c.Connect(server_->port()));
  EXPECT_TRUE(Has(c.ReadLine(), "LOGINDISABLED"));
  std::string r = c.Command("a", "LOGIN bounces secret");
  EXPECT_TRUE(Has(r, "a NO [PRIVACYREQUIRED]")) << r;
}

TEST_F(SessionTest, SelectFetchStoreSearchExpunge) {
  for (int i = 1; i <= 3; ++i) box_.Deliver(i);
  Start();
  auto c = LoggedIn();
  std::string r = c->Command("s", "SELECT Hard");
  EXPECT_TRUE(Has(r, "* 3 EXISTS")) << r;
  EXPECT_TRUE(Has(r, "* 3 RECENT")) << r;
  EXPECT_TRUE(Has(r, "[UIDVALIDITY ")) << r;
  EXPECT_TRUE(Has(r, "[UIDNEXT 4]")) << r;
  EXPECT_TRUE(Has(r, "s OK [READ-WRITE]")) << r;

  r = c->Command("f", "FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)");
  EXPECT_TRUE(Has(r, "* 1 FETCH (FLAGS (\\Recent) UID 1 RFC822.SIZE ")) << r;
  EXPECT_TRUE(Has(r, "INTERNALDATE \"02-Nov-2026 10:00:01 +0000\"")) << r;
  EXPECT_TRUE(Has(r, "* 3 FETCH")) << r;

  r = c->Command("h", "FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT X-SALVO-CATEGORY)]");
  EXPECT_TRUE(Has(r, "BODY[HEADER.FIELDS (SUBJECT X-SALVO-CATEGORY)] {")) << r;
  EXPECT_TRUE(Has(r,
                  "Subject: Undelivered Mail Returned to Sender 2\r\n"
                  "X-Salvo-Category: bad-mailbox\r\n\r\n)"))
      << r;

  r = c->Command("e", "FETCH 1 (ENVELOPE BODYSTRUCTURE)");
  EXPECT_TRUE(Has(r,
                  "ENVELOPE (\"Mon, 02 Nov 2026 10:00:00 +0000\" \"Undelivered Mail Returned "
                  "to Sender 1\" ((\"Mail Delivery System\" NIL \"MAILER-DAEMON\" "
                  "\"mx.example.net\"))"))
      << r;
  EXPECT_TRUE(Has(r, "\"REPORT\" (\"REPORT-TYPE\" \"delivery-status\" \"BOUNDARY\" \"b1\")")) << r;

  r = c->Command("b", "FETCH 1 BODY[]");
  EXPECT_TRUE(Has(r, "BODY[] {")) << r;
  EXPECT_TRUE(Has(r, "FLAGS (\\Seen \\Recent)")) << r;

  r = c->Command("st", "STORE 2 +FLAGS (\\Deleted \\Flagged)");
  EXPECT_TRUE(Has(r, "* 2 FETCH (FLAGS (\\Flagged \\Deleted \\Recent))")) << r;
  r = c->Command("ss", "STORE 3 +FLAGS.SILENT (\\Seen)");
  EXPECT_FALSE(Has(r, "FETCH")) << r;

  r = c->Command("q1", "SEARCH SEEN");
  EXPECT_TRUE(Has(r, "* SEARCH 1 3\r\n")) << r;
  r = c->Command("q2", "UID SEARCH OR DELETED UNSEEN");
  EXPECT_TRUE(Has(r, "* SEARCH 2\r\n")) << r;
  r = c->Command("q3", "SEARCH SUBJECT \"Sender 3\"");
  EXPECT_TRUE(Has(r, "* SEARCH 3\r\n")) << r;
  r = c->Command("q4", "SEARCH HEADER X-Salvo-Category bad-mailbox NOT 1");
  EXPECT_TRUE(Has(r, "* SEARCH 2 3\r\n")) << r;
  r = c->Command("q5", "SEARCH BODY user2@example.com");
  EXPECT_TRUE(Has(r, "* SEARCH 2\r\n")) << r;

  r = c->Command("x", "EXPUNGE");
  EXPECT_TRUE(Has(r, "* 2 EXPUNGE\r\nx OK")) << r;
  r = c->Command("u", "UID FETCH 3 (FLAGS)");
  EXPECT_TRUE(Has(r, "* 2 FETCH (UID 3 FLAGS (\\Seen \\Recent))")) << r;
  EXPECT_EQ(box_.mailbox().Status("Hard")->messages, 2u);
}

TEST_F(SessionTest, FlagsAndExpungesReachOtherSessions) {
  for (int i = 1; i <= 3; ++i) box_.Deliver(i);
  Start();
  auto a = LoggedIn();
  auto b = LoggedIn();
  a->Command("s", "SELECT INBOX");
  b->Command("s", "SELECT INBOX");
  std::string r = a->Command("d", "STORE 1 +FLAGS.SILENT (\\Deleted)");
  r = a->Command("x", "EXPUNGE");
  EXPECT_TRUE(Has(r, "* 1 EXPUNGE")) << r;
  r = a->Command("f", "STORE 1 +FLAGS.SILENT (\\Flagged)");
  // b learns both at its next command (bounded wait for the push).
  std::string seen;
  for (int i = 0; i < 50 && !(Has(seen, "EXPUNGE") && Has(seen, "\\Flagged")); ++i) {
    seen += b->Command(fmt::format("n{}", i), "NOOP");
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(Has(seen, "* 1 EXPUNGE")) << seen;
  EXPECT_TRUE(Has(seen, "* 1 FETCH (FLAGS (\\Flagged))")) << seen;
  // FETCH must not shift sequence numbers: expunge held back.
  a->Command("d2", "STORE 2 +FLAGS.SILENT (\\Deleted)");
  a->Command("x2", "EXPUNGE");
  std::this_thread::sleep_for(100ms);
  r = b->Command("f", "FETCH 1:* UID");
  EXPECT_FALSE(Has(r, "EXPUNGE")) << r;
  r = b->Command("n", "NOOP");
  EXPECT_TRUE(Has(r, "* 2 EXPUNGE")) << r;
}

TEST_F(SessionTest, IdleGetsABounceFiledWhileWaiting) {
  box_.Deliver(1);
  Start();
  auto c = LoggedIn();
  std::string r = c->Command("s", "SELECT Hard");
  EXPECT_TRUE(Has(r, "* 1 EXISTS")) << r;
  c->Send("i IDLE\r\n");
  EXPECT_EQ(c->ReadLine(), "+ idling");
  box_.Deliver(2);
  EXPECT_EQ(c->ReadLine(), "* 2 EXISTS");
  EXPECT_EQ(c->ReadLine(), "* 2 RECENT");
  box_.Deliver(3);
  EXPECT_EQ(c->ReadLine(), "* 3 EXISTS");
  EXPECT_EQ(c->ReadLine(), "* 3 RECENT");
  c->Send("DONE\r\n");
  EXPECT_EQ(c->ReadLine(), "i OK IDLE terminated");
  r = c->Command("f", "UID FETCH 3 (UID)");
  EXPECT_TRUE(Has(r, "* 3 FETCH (UID 3)")) << r;
}

TEST_F(SessionTest, FoldersCreateRenameDeleteStatusAppendCopyMove) {
  box_.Deliver(1);
  box_.Deliver(2);
  Start();
  auto c = LoggedIn();
  std::string r = c->Command("l", "LIST \"\" *");
  for (const char* f : {"INBOX", "Hard", "Soft", "Complaints", "Unparsed"}) {
    EXPECT_TRUE(Has(r, std::string("\"/\" ") + f + "\r\n")) << r;
  }
  EXPECT_TRUE(Has(c->Command("c", "CREATE Work/Later"), "c OK"));
  r = c->Command("l2", "LIST Work/ %");
  EXPECT_TRUE(Has(r, "* LIST (\\HasNoChildren) \"/\" Work/Later")) << r;
  EXPECT_TRUE(Has(c->Command("r", "RENAME Work/Later Done"), "r OK"));
  EXPECT_TRUE(Has(c->Command("d", "DELETE Hard"), "d NO [CANNOT]"));
  r = c->Command("a", "APPEND Done (\\Seen) {20+}\r\nSubject: hi\r\n\r\nbody\r\n");
  EXPECT_TRUE(Has(r, "a OK [APPENDUID ")) << r;
  r = c->Command("st", "STATUS Done (MESSAGES UNSEEN UIDNEXT)");
  EXPECT_TRUE(Has(r, "* STATUS Done (MESSAGES 1 UNSEEN 0 UIDNEXT 2)")) << r;
  c->Command("s", "SELECT INBOX");
  r = c->Command("cp", "COPY 1:2 Done");
  EXPECT_TRUE(Has(r, "cp OK [COPYUID ")) << r;
  EXPECT_TRUE(Has(r, " 1:2 2:3]")) << r;
  r = c->Command("mv", "UID MOVE 1 Done");
  EXPECT_TRUE(Has(r, "* OK [COPYUID ")) << r;
  EXPECT_TRUE(Has(r, "* 1 EXPUNGE\r\nmv OK")) << r;
  r = c->Command("tc", "COPY 1 Nowhere");
  EXPECT_TRUE(Has(r, "tc NO [TRYCREATE]")) << r;
  EXPECT_EQ(box_.mailbox().Status("Done")->messages, 4u);
  EXPECT_TRUE(Has(c->Command("dd", "DELETE Done"), "dd OK"));
}

TEST_F(SessionTest, SynchronizingLiteralGetsContinuation) {
  Start();
  auto c = LoggedIn();
  c->Send("a APPEND INBOX {22}\r\n");
  EXPECT_TRUE(absl::StartsWith(c->ReadLine(), "+ "));
  c->Send("Subject: lit\r\n\r\nbody\r\n\r\n");
  std::string r = c->ReadUntilTagged("a");
  EXPECT_TRUE(Has(r, "a OK [APPENDUID")) << r;
  c->Send("b LOGIN {3}\r\n");
  r = c->ReadLine();
  EXPECT_TRUE(absl::StartsWith(r, "+ ")) << r;
}

TEST_F(SessionTest, HostileInputIsBounded) {
  ImapOptions o = TestOptions(box_.store());
  o.limits.max_line = 1000;
  o.limits.max_literal = 1000;
  o.limits.max_append = 10000;
  Start(std::move(o));
  Client c;
  ASSERT_TRUE(c.Connect(server_->port()));
  c.ReadLine();
  std::string r = c.Command("l", "NOOP " + std::string(5000, 'x'));
  EXPECT_TRUE(Has(r, "l BAD [TOOBIG]")) << r;
  c.Send("h LOGIN {999999999}\r\n");
  r = c.ReadLine();
  EXPECT_TRUE(absl::StartsWith(r, "h BAD [TOOBIG]")) << r;
  std::string deep = "n ID " + std::string(100, '(') + std::string(100, ')');
  r = c.Command("n", deep.substr(2));
  EXPECT_TRUE(Has(r, "n BAD lists nested too deeply")) << r;
  r = c.Command("ok", "NOOP");
  EXPECT_TRUE(Has(r, "ok OK")) << r;
  // A non-synchronizing literal over the limit cannot be skipped: BYE.
  c.Send("z LOGIN {999999+}\r\n");
  r = c.ReadAll(5s);
  EXPECT_TRUE(Has(r, "z BAD [TOOBIG]")) << r;
  EXPECT_TRUE(Has(r, "* BYE")) << r;
}

TEST_F(SessionTest, BruteForceLoginIsLimited) {
  Start();
  Client c;
  ASSERT_TRUE(c.Connect(server_->port()));
  c.ReadLine();
  std::string all;
  for (int i = 0; i < 5 && !c.closed(); ++i) {
    all += c.Command(fmt::format("g{}", i), fmt::format("LOGIN bounces wrong{}", i));
  }
  EXPECT_TRUE(Has(all, "g0 NO [AUTHENTICATIONFAILED]")) << all;
  EXPECT_TRUE(Has(all, "* BYE Too many authentication failures")) << all;
  EXPECT_FALSE(Has(all, "g3 ")) << all;
}

TEST_F(SessionTest, AuthenticatePlainWithAndWithoutInitialResponse) {
  Start();
  Client c;
  ASSERT_TRUE(c.Connect(server_->port()));
  c.ReadLine();
  // "\0bounces\0secret"
  std::string r = c.Command("a", "AUTHENTICATE PLAIN AGJvdW5jZXMAc2VjcmV0");
  EXPECT_TRUE(Has(r, "a OK")) << r;
  Client d;
  ASSERT_TRUE(d.Connect(server_->port()));
  d.ReadLine();
  d.Send("b AUTHENTICATE PLAIN\r\n");
  EXPECT_EQ(d.ReadLine(), "+ ");
  d.Send("AGJvdW5jZXMAc2VjcmV0\r\n");
  r = d.ReadUntilTagged("b");
  EXPECT_TRUE(Has(r, "b OK")) << r;
}

}  // namespace
}  // namespace salvo::imap
