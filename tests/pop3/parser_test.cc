// The I/O-free parts of the POP3 server: the command parser (including
// random input), the multi-line encoder at every split point and one byte
// at a time, TOP's cut, the session's Maildrop view, the maildrop locks
// and APOP.
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/pop3/apop.h"
#include "engine/pop3/command_parser.h"
#include "engine/pop3/maildrop.h"
#include "engine/pop3/maildrop_lock.h"
#include "engine/pop3/multiline.h"
#include "gtest/gtest.h"

namespace salvo::pop3 {
namespace {

TEST(Pop3Parser, VerbsAreCaseInsensitive) {
  for (std::string_view line : {"stat", "STAT", "sTaT"}) {
    auto c = ParseCommand(line);
    ASSERT_TRUE(c.ok()) << line;
    EXPECT_EQ(c->verb, Verb::kStat);
    EXPECT_EQ(c->keyword, "STAT");
    EXPECT_TRUE(c->args.empty());
  }
}

TEST(Pop3Parser, ArgumentsAreSplitOnSpaces) {
  auto c = ParseCommand("TOP 3   10  ");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->verb, Verb::kTop);
  EXPECT_EQ(c->args, (std::vector<std::string>{"3", "10"}));
}

TEST(Pop3Parser, PassTakesTheRestOfTheLine) {
  auto c = ParseCommand("PASS my secret  phrase");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->verb, Verb::kPass);
  EXPECT_EQ(c->rest, "my secret  phrase");
  EXPECT_TRUE(c->args.empty());
}

TEST(Pop3Parser, UnknownVerbsAreNotErrors) {
  auto c = ParseCommand("XTND XLST");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->verb, Verb::kUnknown);
  EXPECT_EQ(c->keyword, "XTND");
  auto longer = ParseCommand("STATS");
  ASSERT_TRUE(longer.ok());
  EXPECT_EQ(longer->verb, Verb::kUnknown);
  auto huge = ParseCommand(std::string(200, 'A'));
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->keyword.size(), 8u);
}

TEST(Pop3Parser, RefusesControlBytesAndEmptyLines) {
  EXPECT_FALSE(ParseCommand("").ok());
  EXPECT_FALSE(ParseCommand("   ").ok());
  EXPECT_FALSE(ParseCommand(std::string("US\0R a", 6)).ok());
  EXPECT_FALSE(ParseCommand("USER a\rb").ok());
  EXPECT_FALSE(ParseCommand("USER \x1b[31m").ok());
  EXPECT_FALSE(ParseCommand("USER a\x7f").ok());
  EXPECT_TRUE(ParseCommand("USER \xc3\xa9").ok());  // 8-bit is not forbidden
}

TEST(Pop3Parser, ArgumentLimits) {
  EXPECT_TRUE(ParseCommand("USER " + std::string(40, 'a')).ok());
  EXPECT_FALSE(ParseCommand("USER " + std::string(41, 'a')).ok());
  EXPECT_FALSE(ParseCommand("TOP 1 2 3").ok());
  // RFC 5034: an AUTH initial response may be longer than 40 octets.
  auto auth = ParseCommand("AUTH PLAIN " + std::string(120, 'Q'));
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->args[1].size(), 120u);
  EXPECT_FALSE(ParseCommand(std::string("AUTH ") + std::string(41, 'P')).ok());
}

TEST(Pop3Parser, MessageNumbers) {
  EXPECT_EQ(ParseMessageNumber("1"), 1u);
  EXPECT_EQ(ParseMessageNumber("007"), 7u);
  EXPECT_EQ(ParseMessageNumber("4294967295"), 4294967295u);
  EXPECT_FALSE(ParseMessageNumber("0"));
  EXPECT_FALSE(ParseMessageNumber("-1"));
  EXPECT_FALSE(ParseMessageNumber("+1"));
  EXPECT_FALSE(ParseMessageNumber("1a"));
  EXPECT_FALSE(ParseMessageNumber(""));
  EXPECT_FALSE(ParseMessageNumber("4294967296"));
  EXPECT_FALSE(ParseMessageNumber(std::string(40, '9')));
  EXPECT_EQ(ParseLineCount("0"), 0u);
  EXPECT_EQ(ParseLineCount(std::string(40, '9')), 4294967295u);
  EXPECT_FALSE(ParseLineCount("x"));
}

// Random byte strings: the parser never crashes, and whatever it accepts
// keeps its promises (no control bytes, bounded arguments).
TEST(Pop3Parser, RandomInputIsHandled) {
  std::mt19937 rng(1939);
  const std::string alphabet = "USERPASTOPLIDuserpa0123456789 \t\r\n\x00\x7f\xff.*=+/";
  for (int i = 0; i < 50000; ++i) {
    std::string line(rng() % 300, '\0');
    bool from_alphabet = i % 2 == 0;
    for (char& c : line) {
      c = from_alphabet ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() & 0xff);
    }
    absl::StatusOr<Command> c = ParseCommand(line);
    if (!c.ok()) continue;
    EXPECT_LE(c->keyword.size(), 8u);
    EXPECT_LE(c->args.size(), kMaxArguments);
    for (char ch : c->rest) {
      EXPECT_FALSE(static_cast<unsigned char>(ch) < 0x20 && ch != '\t');
    }
    for (size_t a = 0; a < c->args.size(); ++a) {
      if (!(c->verb == Verb::kAuth && a == 1)) {
        EXPECT_LE(c->args[a].size(), kMaxArgument);
      }
    }
    for (const std::string& a : c->args) ParseMessageNumber(a);
  }
}

std::string EncodeWhole(std::string_view content) {
  MultilineEncoder enc;
  std::string out;
  enc.Encode(content, out);
  enc.Finish(out);
  return out;
}

TEST(Pop3Multiline, DotStuffingAndTerminator) {
  EXPECT_EQ(EncodeWhole(""), ".\r\n");
  EXPECT_EQ(EncodeWhole("a\r\n"), "a\r\n.\r\n");
  EXPECT_EQ(EncodeWhole("a"), "a\r\n.\r\n");
  EXPECT_EQ(EncodeWhole(".\r\n..x\r\nb.c\r\n"), "..\r\n...x\r\nb.c\r\n.\r\n");
  EXPECT_EQ(EncodeWhole(".start"), "..start\r\n.\r\n");
}

TEST(Pop3Multiline, LineEndsAreNormalised) {
  EXPECT_EQ(EncodeWhole("a\nb\rc\r\nd"), "a\r\nb\r\nc\r\nd\r\n.\r\n");
  EXPECT_EQ(EncodeWhole("a\n.b\r.c"), "a\r\n..b\r\n..c\r\n.\r\n");
  EXPECT_EQ(EncodeWhole("\r\r\n\n"), "\r\n\r\n\r\n.\r\n");
}

TEST(Pop3Multiline, EverySplitPointGivesTheSameBytes) {
  const std::string content =
      "From: a@b\r\nSubject: x\r\n\r\n.line\r\n..two\nbare lf\rbare cr\r\n.\r\nend.";
  const std::string whole = EncodeWhole(content);
  for (size_t split = 0; split <= content.size(); ++split) {
    MultilineEncoder enc;
    std::string out;
    enc.Encode(std::string_view(content).substr(0, split), out);
    enc.Encode(std::string_view(content).substr(split), out);
    enc.Finish(out);
    EXPECT_EQ(out, whole) << "split at " << split;
  }
  MultilineEncoder enc;
  std::string out;
  for (char c : content) enc.Encode(std::string_view(&c, 1), out);
  enc.Finish(out);
  EXPECT_EQ(out, whole) << "one byte at a time";
}

TEST(Pop3Multiline, TopOfMessage) {
  const std::string m = "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n";
  EXPECT_EQ(TopOfMessage(m, 0), "A: 1\r\nB: 2\r\n\r\n");
  EXPECT_EQ(TopOfMessage(m, 2), "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n");
  EXPECT_EQ(TopOfMessage(m, 100), m);
  EXPECT_EQ(TopOfMessage("A: 1\r\nno body", 3), "A: 1\r\nno body");
  EXPECT_EQ(TopOfMessage("\r\nbody\r\n", 0), "\r\n");
  EXPECT_EQ(TopOfMessage("A: 1\n\nb1\nb2", 1), "A: 1\n\nb1\n");
  EXPECT_EQ(TopOfMessage("", 5), "");
}

mailbox::FolderView ViewOf(std::vector<std::pair<uint32_t, uint8_t>> uids_flags) {
  mailbox::FolderView v;
  v.status.name = "INBOX";
  v.status.uid_validity = 77;
  for (auto [uid, flags] : uids_flags) {
    mailbox::MessageMeta m;
    m.uid = uid;
    m.flags = flags;
    m.size = 100 + uid;
    v.messages.push_back(m);
  }
  return v;
}

TEST(Pop3Maildrop, HidesStoreDeletedMessagesAndNumbersTheRest) {
  Maildrop d(ViewOf({{3, 0}, {5, mailbox::kDeleted}, {9, mailbox::kSeen}}));
  EXPECT_EQ(d.total(), 2u);
  EXPECT_EQ(d.count(), 2u);
  EXPECT_EQ(d.octets(), 103u + 109u);
  ASSERT_NE(d.Find(2), nullptr);
  EXPECT_EQ(d.Find(2)->uid, 9u);
  EXPECT_EQ(d.UniqueId(*d.Find(1)), "77.3");
  EXPECT_EQ(d.Find(0), nullptr);
  EXPECT_EQ(d.Find(3), nullptr);
}

TEST(Pop3Maildrop, DeleteMarksAndReset) {
  Maildrop d(ViewOf({{1, 0}, {2, 0}, {3, 0}}));
  EXPECT_TRUE(d.MarkDeleted(2));
  EXPECT_FALSE(d.MarkDeleted(2));
  EXPECT_FALSE(d.MarkDeleted(4));
  EXPECT_EQ(d.Find(2), nullptr);
  EXPECT_EQ(d.count(), 2u);
  EXPECT_EQ(d.octets(), 101u + 103u);
  d.MarkRetrieved(1);
  d.MarkRetrieved(2);
  EXPECT_EQ(d.DeletedUids(), std::vector<uint32_t>{2});
  EXPECT_EQ(d.RetrievedUids(), std::vector<uint32_t>{1});
  d.UnmarkAll();
  EXPECT_EQ(d.count(), 3u);
  EXPECT_TRUE(d.DeletedUids().empty());
  EXPECT_EQ(d.RetrievedUids(), (std::vector<uint32_t>{1, 2}));
}

TEST(Pop3Locks, OneSessionPerUserAndFolder) {
  auto locks = std::make_shared<MaildropLocks>();
  auto a = MaildropLocks::TryLock(locks, "INBOX", "alice");
  ASSERT_TRUE(a);
  EXPECT_FALSE(MaildropLocks::TryLock(locks, "INBOX", "alice"));
  EXPECT_TRUE(MaildropLocks::TryLock(locks, "INBOX", "bob"));  // released at once
  EXPECT_TRUE(MaildropLocks::TryLock(locks, "Hard", "alice"));
  EXPECT_TRUE(locks->IsLocked("INBOX", "alice"));
  a.reset();
  EXPECT_FALSE(locks->IsLocked("INBOX", "alice"));
  EXPECT_EQ(locks->size(), 0u);
}

TEST(Pop3Locks, ContendedFromManyThreadsOnlyOneWins) {
  auto locks = std::make_shared<MaildropLocks>();
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  std::vector<std::optional<MaildropLocks::Lock>> held(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      if (auto lock = MaildropLocks::TryLock(locks, "INBOX", "alice")) {
        held[t].emplace(std::move(*lock));
        ++winners;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
}

// RFC 1939 §7's example.
TEST(Pop3Apop, DigestOfTheRfcExample) {
  EXPECT_EQ(ApopDigest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb");
}

TEST(Pop3Apop, VerifiesOnlyUsersWithSecrets) {
  ApopSecrets secrets({{"mrose", "hash-not-used", "tanstaaf"}, {"bob", "hash", ""}});
  EXPECT_FALSE(secrets.empty());
  const std::string ts = "<1896.697170952@dbc.mtview.ca.us>";
  EXPECT_TRUE(secrets.Verify("mrose", ts, "c4c9334bac560ecc979e58001b3e22fb"));
  EXPECT_TRUE(secrets.Verify("mrose", ts, "C4C9334BAC560ECC979E58001B3E22FB"));
  EXPECT_FALSE(secrets.Verify("mrose", "<other@host>", "c4c9334bac560ecc979e58001b3e22fb"));
  EXPECT_FALSE(secrets.Verify("bob", ts, ApopDigest(ts, "")));
  EXPECT_FALSE(secrets.Verify("nobody", ts, ApopDigest(ts, "\x01")));
  EXPECT_TRUE(ApopSecrets({{"bob", "hash", ""}}).empty());
}

TEST(Pop3Apop, TimestampsAreMsgIdsAndFresh) {
  std::string a = ApopTimestamp("pop.example");
  std::string b = ApopTimestamp("pop.example");
  EXPECT_EQ(a.front(), '<');
  EXPECT_EQ(a.back(), '>');
  EXPECT_NE(a.find("@pop.example>"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace salvo::pop3
