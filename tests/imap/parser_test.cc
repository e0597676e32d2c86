// The I/O-free IMAP command parser: every split point, one byte at a time,
// literals (synchronizing and LITERAL+), limits, and bounded random input;
// sequence sets.
#include <random>

#include "engine/imap/command_parser.h"
#include "engine/imap/sequence_set.h"
#include "gtest/gtest.h"

namespace salvo::imap {
namespace {

struct Outcome {
  std::vector<ImapCommand> commands;
  std::vector<ParseError> errors;
  int continuations = 0;
};

// Feeds `input` in pieces of the given sizes (the last piece repeats).
Outcome FeedInPieces(std::string_view input, const ImapLimits& limits,
                     const std::vector<size_t>& pieces) {
  CommandParser p(limits);
  Outcome out;
  size_t k = 0;
  while (!input.empty()) {
    size_t n = std::min(input.size(), pieces[std::min(k++, pieces.size() - 1)]);
    std::string_view chunk = input.substr(0, n);
    input.remove_prefix(n);
    while (!chunk.empty()) {
      ParseStep s = p.Feed(chunk);
      chunk.remove_prefix(s.consumed);
      if (s.event == ParseEvent::kCommand) out.commands.push_back(p.Take());
      if (s.event == ParseEvent::kContinue) ++out.continuations;
      if (s.event == ParseEvent::kError) out.errors.push_back(p.error());
      if (s.event == ParseEvent::kNeedMore) {
        EXPECT_TRUE(chunk.empty());
      }
    }
  }
  return out;
}

const char kPipelined[] =
    "a1 LOGIN {7}\r\nbounces \"se\\\"cret\"\r\n"
    "a2 SELECT INBOX\r\n"
    "a3 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>)\r\n"
    "a4 APPEND Hard (\\Seen) {5+}\r\nhello\r\n"
    "a5 SEARCH OR (FROM x) NOT SEEN HEADER X-Salvo-Category hard\r\n";

void CheckPipelined(const Outcome& o) {
  ASSERT_EQ(o.commands.size(), 5u);
  EXPECT_TRUE(o.errors.empty());
  EXPECT_EQ(o.continuations, 1);
  const ImapCommand& login = o.commands[0];
  EXPECT_EQ(login.tag, "a1");
  EXPECT_EQ(login.name, "LOGIN");
  ASSERT_EQ(login.args.size(), 2u);
  EXPECT_EQ(login.args[0].text, "bounces");
  EXPECT_TRUE(login.args[0].literal);
  EXPECT_EQ(login.args[1].text, "se\"cret");
  EXPECT_EQ(o.commands[1].args[0].text, "INBOX");
  const ImapCommand& fetch = o.commands[2];
  EXPECT_EQ(fetch.name, "UID FETCH");
  ASSERT_EQ(fetch.args.size(), 2u);
  EXPECT_EQ(fetch.args[0].text, "1:*");
  ASSERT_EQ(fetch.args[1].kind, ImapArg::kList);
  ASSERT_EQ(fetch.args[1].list.size(), 2u);
  EXPECT_EQ(fetch.args[1].list[1].text, "BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>");
  const ImapCommand& append = o.commands[3];
  ASSERT_EQ(append.args.size(), 3u);
  EXPECT_EQ(append.args[1].list[0].text, "\\Seen");
  EXPECT_EQ(append.args[2].text, "hello");
  EXPECT_EQ(o.commands[4].args.size(), 7u);
}

TEST(CommandParserTest, PipelinedAtEverySplitPoint) {
  ImapLimits limits;
  std::string input = kPipelined;
  for (size_t split = 0; split <= input.size(); ++split) {
    SCOPED_TRACE(split);
    CheckPipelined(FeedInPieces(input, limits, {split == 0 ? input.size() : split, input.size()}));
  }
}

TEST(CommandParserTest, OneByteAtATime) {
  ImapLimits limits;
  CheckPipelined(FeedInPieces(kPipelined, limits, {1}));
}

TEST(CommandParserTest, StopsAfterEachCommand) {
  ImapLimits limits;
  CommandParser p(limits);
  std::string input = "a NOOP\r\nb IDLE\r\nDONE\r\n";
  ParseStep s = p.Feed(input);
  EXPECT_EQ(s.event, ParseEvent::kCommand);
  EXPECT_EQ(s.consumed, 8u);
  EXPECT_TRUE(p.idle());
}

TEST(CommandParserTest, BareLfAndEmptyLines) {
  ImapLimits limits;
  Outcome o = FeedInPieces("\r\n\na NOOP\nb CHECK\r\n", limits, {100});
  ASSERT_EQ(o.commands.size(), 2u);
  EXPECT_EQ(o.commands[0].name, "NOOP");
  EXPECT_EQ(o.commands[1].name, "CHECK");
}

TEST(CommandParserTest, SyntaxErrorsKeepTheTag) {
  ImapLimits limits;
  Outcome o = FeedInPieces(
      "t1 LOGIN \"unterminated\r\nt2 FETCH 1 (FLAGS\r\nt3 X \"bad\\q\"\r\nNOTAG\r\n"
      "t4 NOOP \0x\r\nt5 NOOP\r\n",
      limits, {1000});
  ASSERT_EQ(o.errors.size(), 4u);
  EXPECT_EQ(o.errors[0].tag, "t1");
  EXPECT_EQ(o.errors[1].tag, "t2");
  EXPECT_EQ(o.errors[2].tag, "t3");
  EXPECT_EQ(o.errors[3].tag, "NOTAG");
  ASSERT_EQ(o.commands.size(), 0u);  // the NUL cut the C string: t4/t5 not fed
}

// '[' is an atom character (RFC 3501 §9); only a fetch attribute's
// "[...]" is a section, read whole with its spaces (found by fuzzing: the
// parser took every '[' for a section and refused "a[b").
TEST(CommandParserTest, BracketOpensASectionOnlyAfterAFetchAttribute) {
  ImapLimits limits;
  Outcome o = FeedInPieces(
      "s1 SELECT a[b\r\ns2 RENAME [x y]\r\n"
      "s3 FETCH 1 (binary.peek[1 2] BODY[TEXT]<0.5> BINARY.SIZE[1])\r\ns4 FETCH 1 body[1\r\n",
      limits, {1000});
  ASSERT_EQ(o.commands.size(), 3u);
  EXPECT_EQ(o.commands[0].args[0].text, "a[b");
  ASSERT_EQ(o.commands[1].args.size(), 2u);
  EXPECT_EQ(o.commands[1].args[0].text, "[x");
  EXPECT_EQ(o.commands[1].args[1].text, "y]");
  const ImapArg& items = o.commands[2].args[1];
  ASSERT_EQ(items.list.size(), 3u);
  EXPECT_EQ(items.list[0].text, "binary.peek[1 2]");
  EXPECT_EQ(items.list[1].text, "BODY[TEXT]<0.5>");
  EXPECT_EQ(items.list[2].text, "BINARY.SIZE[1]");
  ASSERT_EQ(o.errors.size(), 1u);
  EXPECT_EQ(o.errors[0].tag, "s4");
}

TEST(CommandParserTest, NulIsRejected) {
  ImapLimits limits;
  std::string input("t4 NOOP \0x\r\nt5 NOOP\r\n", 21);
  Outcome o = FeedInPieces(input, limits, {3});
  ASSERT_EQ(o.errors.size(), 1u);
  EXPECT_EQ(o.errors[0].tag, "t4");
  ASSERT_EQ(o.commands.size(), 1u);
  EXPECT_EQ(o.commands[0].tag, "t5");
}

TEST(CommandParserTest, LineLimitDiscardsToEndOfLine) {
  ImapLimits limits;
  limits.max_line = 100;
  std::string input = "big NOOP " + std::string(5000, 'x') + "\r\nok NOOP\r\n";
  for (size_t piece : {1ul, 7ul, 4096ul}) {
    Outcome o = FeedInPieces(input, limits, {piece});
    ASSERT_EQ(o.errors.size(), 1u) << piece;
    EXPECT_EQ(o.errors[0].tag, "big");
    EXPECT_TRUE(o.errors[0].too_big);
    EXPECT_FALSE(o.errors[0].fatal);
    ASSERT_EQ(o.commands.size(), 1u);
    EXPECT_EQ(o.commands[0].tag, "ok");
  }
}

TEST(CommandParserTest, LiteralLimits) {
  ImapLimits limits;
  limits.max_literal = 10;
  limits.max_append = 20;
  Outcome o = FeedInPieces("a LOGIN {11}\r\nb APPEND INBOX {20}\r\n", limits, {1000});
  ASSERT_EQ(o.errors.size(), 1u);
  EXPECT_EQ(o.errors[0].tag, "a");
  EXPECT_FALSE(o.errors[0].fatal);
  EXPECT_EQ(o.continuations, 1);  // b's literal fits the APPEND limit
  o = FeedInPieces("c LOGIN {11+}\r\n", limits, {1000});
  ASSERT_EQ(o.errors.size(), 1u);
  EXPECT_TRUE(o.errors[0].fatal);
}

TEST(CommandParserTest, NestingAndArgumentLimits) {
  ImapLimits limits;
  limits.max_nesting = 4;
  limits.max_arguments = 10;
  Outcome o = FeedInPieces("a X (((((1)))))\r\nb X ((((1))))\r\nc X 1 2 3 4 5 6 7 8 9 10 11\r\n",
                           limits, {1000});
  ASSERT_EQ(o.errors.size(), 2u);
  EXPECT_EQ(o.errors[0].tag, "a");
  EXPECT_EQ(o.errors[1].tag, "c");
  ASSERT_EQ(o.commands.size(), 1u);
  EXPECT_EQ(o.commands[0].tag, "b");
}

TEST(CommandParserTest, CommandLimitCountsLiterals) {
  ImapLimits limits;
  limits.max_command = 100;
  limits.max_literal = 1000;
  Outcome o = FeedInPieces("a LOGIN {200}\r\n", limits, {1000});
  ASSERT_EQ(o.errors.size(), 1u);
  EXPECT_TRUE(o.errors[0].too_big);
}

TEST(CommandParserTest, RandomInputNeverCrashesAndStaysBounded) {
  ImapLimits limits;
  limits.max_line = 200;
  limits.max_literal = 300;
  limits.max_command = 2000;
  std::mt19937 rng(12345);
  const std::string alphabet = "ab1 *:(){}[]<>\"\\+\r\n.%\x80\x00";
  for (int round = 0; round < 2000; ++round) {
    std::string input;
    size_t len = rng() % 400;
    for (size_t i = 0; i < len; ++i) input += alphabet[rng() % alphabet.size()];
    CommandParser p(limits);
    std::string_view rest = input;
    int steps = 0;
    while (!rest.empty() && steps++ < 10000) {
      ParseStep s = p.Feed(rest.substr(0, 1 + rng() % 17));
      rest.remove_prefix(s.consumed);
      if (s.event == ParseEvent::kCommand) {
        ImapCommand c = p.Take();
        EXPECT_FALSE(c.tag.empty());
        EXPECT_LE(c.args.size(), limits.max_arguments);
      }
    }
    EXPECT_TRUE(rest.empty());
  }
}

TEST(SequenceSetTest, ParseAndSelect) {
  auto s = SequenceSet::Parse("1,3:5,7:*");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->Expand(8), (std::vector<uint32_t>{1, 3, 4, 5, 7, 8}));
  EXPECT_TRUE(s->Contains(8, 8));
  EXPECT_FALSE(s->Contains(6, 8));
  auto r = SequenceSet::Parse("5:2");
  EXPECT_EQ(r->Expand(10), (std::vector<uint32_t>{2, 3, 4, 5}));
  std::vector<uint32_t> uids = {10, 20, 30, 40};
  EXPECT_EQ(SequenceSet::Parse("15:30")->Select(uids), (std::vector<size_t>{1, 2}));
  EXPECT_EQ(SequenceSet::Parse("*")->Select(uids), (std::vector<size_t>{3}));
  // RFC 3501: "n:*" with n above the largest UID still matches the last.
  EXPECT_EQ(SequenceSet::Parse("50:*")->Select(uids), (std::vector<size_t>{3}));
  EXPECT_EQ(SequenceSet::Parse("4294967295")->Expand(3), std::vector<uint32_t>{});
  for (const char* bad : {"", "0", "1:", ":2", "a", "1,,2", "4294967296", "01"}) {
    EXPECT_FALSE(SequenceSet::Parse(bad)) << bad;
  }
  EXPECT_EQ(SequenceSet::Of({5, 1, 2, 3, 9}).ToString(), "1:3,5,9");
}

}  // namespace
}  // namespace salvo::imap
