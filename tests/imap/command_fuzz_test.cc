// Mutation fuzzing of the IMAP server's I/O-free parts: the command reader
// and tokenizer (pipelined commands with literals), sequence sets, SEARCH
// and FETCH arguments, imap_string, and MIME parsing with ENVELOPE and
// BODYSTRUCTURE. Seeded mutations of valid inputs with a dictionary of IMAP
// tokens, bounded in count. The invariants are those of
// tests/fuzz/imap_checks.h: split-invariant parsing, bounded commands that
// round-trip through imap_string, consistent sequence sets, SEARCH errors as
// InvalidArgument, FETCH sections MimeMessage can serve, MIME parts inside
// the content, and well-formed ENVELOPE/BODYSTRUCTURE.
#include <gtest/gtest.h>

#include "tests/fuzz/imap_checks.h"
#include "tests/fuzz/mutator.h"

namespace salvo::imap {
namespace {

const std::vector<std::string> kSeeds = {
    "a1 LOGIN {7}\r\nbounces \"se\\\"cret\"\r\na2 SELECT INBOX\r\n",
    "a3 UID FETCH 1:*,7 (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100> ENVELOPE)\r\n",
    "a4 APPEND Hard (\\Seen) {5+}\r\nhello\r\na5 NOOP\r\n",
    "a5 SEARCH CHARSET UTF-8 OR (FROM x) NOT SEEN HEADER X-Salvo-Category hard\r\n",
    "a6 UID SEARCH 1:5,9 SINCE 1-Feb-1994 LARGER 100 UID 2:* BODY \"x y\"\r\n",
    "a7 FETCH 2:4 (BODY[1.MIME] BODY[2.HEADER] RFC822.SIZE BODY[TEXT]<5.10>)\r\n",
    "a8 STORE 1,3:5 +FLAGS.SILENT (\\Deleted \\Seen)\r\na9 EXPUNGE\r\n",
    "b1 LIST \"\" \"*\"\r\nb2 STATUS INBOX (MESSAGES UNSEEN UIDNEXT)\r\n",
    "b3 UID COPY 4294967295:1 Soft\r\nb4 CATEGORY\r\n",
    "b5 SEARCH NOT (OR SMALLER 5 LARGER 10) ON 30-Dec-2023 TEXT {3}\r\nabc\r\n",
};

const std::vector<std::string> kTokens = {
    "\r\n",    " ",        "(",
    ")",       "{",        "}",
    "{0}\r\n", "{5+}\r\n", "{99999999999}\r\n",
    "\"",      "\\",       "[",
    "]",       "<",        ">",
    "*",       ":",        ",",
    "%",       "NIL",      "4294967296",
    "0",       ".",        "UID",
    "+",       "OR",       "NOT",
    "HEADER",  "BODY[",    "\x80",
    "\x7f",    "\n",       "\r",
    "1:*",     "$",        "ALL",
    "-",
};

TEST(ImapCommandFuzz, MutatedCommandsKeepInvariants) {
  constexpr int kIterations = 6'000;
  fuzz::Mutator m(3501, kTokens);
  ImapLimits limits;
  limits.max_line = 300;
  limits.max_literal = 200;
  limits.max_append = 1000;
  limits.max_command = 2000;
  limits.max_nesting = 6;
  limits.max_arguments = 60;
  int commands = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string input = m.Mutate(kSeeds[m.Below(kSeeds.size())], 5, 3000);
    std::vector<size_t> cuts = m.Splits(input.size());
    ASSERT_EQ(fuzz::CheckImapInput(input, cuts, limits), "")
        << "input: " << testing::PrintToString(input);
    commands += static_cast<int>(fuzz::FeedImap(input, {input.size()}, limits).commands.size());
  }
  EXPECT_GT(commands, kIterations / 2);
}

TEST(ImapCommandFuzz, SeedsParse) {
  ImapLimits limits;
  for (const std::string& s : kSeeds) {
    fuzz::ImapEvents e = fuzz::FeedImap(s, {s.size()}, limits);
    EXPECT_FALSE(e.commands.empty()) << s;
    EXPECT_EQ(fuzz::CheckImapInput(s, {1, 2, s.size()}, limits), "") << s;
  }
}

TEST(ImapStringFuzz, WrittenStringsReadBack) {
  constexpr int kIterations = 10'000;
  fuzz::Mutator m(9051, kTokens);
  const std::vector<std::string> seeds = {"INBOX", "Hard bounces",     "nil", "a\"b\\c",
                                          "",      "\xc3\xa9t\xc3\xa9"};
  for (int i = 0; i < kIterations; ++i) {
    std::string s = m.Mutate(seeds[m.Below(seeds.size())], 3, 1100);
    ASSERT_EQ(fuzz::CheckImapString(s), "") << testing::PrintToString(s);
  }
}

// Found by WrittenStringsReadBack: AppendAString wrote "niL" (a folder name in
// LIST/STATUS) as a bare atom, which reads as NIL.
TEST(ImapStringFuzz, NilInAnyCaseIsQuoted) {
  for (const char* s : {"NIL", "nil", "Nil", "niL", "nIl", "NIl", "nIL", "NiL"}) {
    std::string out;
    AppendAString(out, s);
    EXPECT_EQ(out, std::string("\"") + s + "\"");
  }
  std::string out;
  AppendAString(out, "NILS");
  EXPECT_EQ(out, "NILS");
}

// Found by imap_command_fuzzer: a bad specifier after an absent or
// non-message part ("3.MMME") was valid on an empty message (the session's
// probe) and invalid on a real one, so FETCH answered it with an empty
// literal instead of BAD.
TEST(MimeFuzz, SectionValidityDoesNotDependOnTheMessage) {
  MimeMessage empty("");
  MimeMessage sample(fuzz::kSampleMessage);
  for (const char* bad : {"3.MMME", "1.GARBAGE", "9.HEADER.FIELDS", "2.HEADER.FIELDS ()", "1.X"}) {
    EXPECT_FALSE(empty.Section(bad)) << bad;
    EXPECT_FALSE(sample.Section(bad)) << bad;
  }
  for (const char* good : {"3.HEADER", "1.TEXT", "9.HEADER.FIELDS (FROM)", "2.MIME", "7"}) {
    EXPECT_TRUE(empty.Section(good)) << good;
    EXPECT_TRUE(sample.Section(good)) << good;
  }
  EXPECT_EQ(*sample.Section("1.HEADER"), "");  // not message/rfc822: empty, as before
}

TEST(SequenceSetFuzz, MutatedSetsAreConsistent) {
  constexpr int kIterations = 20'000;
  fuzz::Mutator m(7162, {":", ",", "*", "0", "1", "4294967295", "4294967296", "$", "01"});
  const std::vector<std::string> seeds = {"1", "1,3:5,7:*", "*", "5:2", "4294967295:1", "2:*,*:1"};
  for (int i = 0; i < kIterations; ++i) {
    std::string s = m.Mutate(seeds[m.Below(seeds.size())], 4, 200);
    ASSERT_EQ(fuzz::CheckSequenceSet(s), "") << testing::PrintToString(s);
  }
}

TEST(MimeFuzz, MutatedMessagesKeepInvariants) {
  constexpr int kIterations = 5'000;
  fuzz::Mutator m(2045, {"\r\n", "\r\n\r\n", "--b1", "--b1--",
                         "Content-Type: multipart/mixed; boundary=b1\r\n", "message/rfc822",
                         "boundary=", "\"", ";", "=?utf-8?q?x?=", "(", "<", "@", ",", "\r\n "});
  const std::vector<std::string> seeds = {
      fuzz::kSampleMessage,
      "Subject: plain\r\n\r\nbody\r\n",
      "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n\r\none\r\n--b1\r\nContent-Type: "
      "multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\ntwo\r\n--b2--\r\n--b1--\r\n",
      "To: \"A, B\" <a@b.example>, group: c@d.example, e@f.example;, (comment) g@h.example\r\n\r\n",
  };
  for (int i = 0; i < kIterations; ++i) {
    std::string content = m.Mutate(seeds[m.Below(seeds.size())], 6, 4000);
    ASSERT_EQ(fuzz::CheckMime(content), "") << testing::PrintToString(content);
  }
}

}  // namespace
}  // namespace salvo::imap
