// I/O-free SMTP client pieces: reply parsing, EHLO capabilities, dot-stuffing.
#include <random>

#include "engine/smtp/capabilities.h"
#include "engine/smtp/dot_stuffing.h"
#include "engine/smtp/reply.h"
#include "gtest/gtest.h"

namespace salvo::smtp {
namespace {

SmtpReply ParseAll(std::initializer_list<std::string_view> lines) {
  ReplyParser p;
  for (auto l : lines) {
    auto done = p.Feed(l);
    EXPECT_TRUE(done.ok()) << done.status();
    if (done.ok() && *done) return p.Take();
  }
  ADD_FAILURE() << "reply not complete";
  return {};
}

TEST(ReplyParser, SingleLineWithEnhancedStatus) {
  SmtpReply r = ParseAll({"550 5.1.1 <bob@example.com>: Recipient address rejected"});
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced, "5.1.1");
  EXPECT_EQ(r.Text(), "<bob@example.com>: Recipient address rejected");
  EXPECT_TRUE(r.permanent());
}

TEST(ReplyParser, MultiLineKeepsEveryLine) {
  SmtpReply r = ParseAll({"250-mx.example.com", "250-PIPELINING", "250 SIZE 1000"});
  EXPECT_EQ(r.code, 250);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[2], "SIZE 1000");
}

TEST(ReplyParser, EnhancedStatusOfOtherClassIsText) {
  SmtpReply r = ParseAll({"250 5.1.1 odd but text"});
  EXPECT_EQ(r.enhanced, "");
  EXPECT_EQ(r.Text(), "5.1.1 odd but text");
}

// Found by fuzzing: a status only on a later line was stripped and lost.
TEST(ReplyParser, EnhancedStatusOnlyOnALaterLineIsKept) {
  SmtpReply r = ParseAll({"550-mx.example.net says:", "550 5.1.1 no such user"});
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced, "5.1.1");
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[1], "no such user");
  SmtpReply first = ParseAll({"451-4.7.1 greylisted", "451 4.7.2 later"});
  EXPECT_EQ(first.enhanced, "4.7.1");  // the first one seen wins
}

TEST(ReplyParser, BareCodeIsAReply) {
  SmtpReply r = ParseAll({"354"});
  EXPECT_EQ(r.code, 354);
}

TEST(ReplyParser, RejectsGarbageAndCodeChanges) {
  ReplyParser p;
  EXPECT_FALSE(p.Feed("hello").ok());
  p.Reset();
  EXPECT_FALSE(p.Feed("199 too low").ok());
  p.Reset();
  EXPECT_FALSE(p.Feed("250xno separator").ok());
  p.Reset();
  ASSERT_TRUE(p.Feed("250-first").ok());
  EXPECT_FALSE(p.Feed("251 second").ok());
}

TEST(ReplyParser, BoundsLinesPerReply) {
  ReplyParser p;
  absl::StatusOr<bool> last = false;
  for (size_t i = 0; i < ReplyParser::kMaxLines + 5 && last.ok(); ++i) last = p.Feed("250-x");
  EXPECT_TRUE(absl::IsResourceExhausted(last.status()));
}

TEST(Capabilities, ParsesEhloKeywords) {
  SmtpReply r = ParseAll({"250-mx.example.com greets you", "250-PIPELINING", "250-SIZE 10240000",
                          "250-8BITMIME", "250-smtputf8", "250-CHUNKING", "250-DSN",
                          "250-ENHANCEDSTATUSCODES", "250-AUTH PLAIN LOGIN", "250 STARTTLS"});
  Capabilities c = Capabilities::FromEhlo(r);
  EXPECT_TRUE(c.pipelining);
  EXPECT_TRUE(c.size_advertised);
  EXPECT_EQ(c.max_size, 10240000u);
  EXPECT_TRUE(c.eightbitmime);
  EXPECT_TRUE(c.smtputf8);
  EXPECT_TRUE(c.chunking);
  EXPECT_TRUE(c.dsn);
  EXPECT_TRUE(c.enhanced_status_codes);
  EXPECT_TRUE(c.starttls);
  EXPECT_EQ(c.auth, (std::vector<std::string>{"PLAIN", "LOGIN"}));
}

TEST(Capabilities, GreetingLineIsNotAKeyword) {
  SmtpReply r = ParseAll({"250-PIPELINING", "250 8BITMIME"});
  Capabilities c = Capabilities::FromEhlo(r);
  EXPECT_FALSE(c.pipelining);  // first line is the server's greeting text
  EXPECT_TRUE(c.eightbitmime);
}

TEST(DotStuffing, WireReadyContentIsSentUnchanged) {
  std::string scratch;
  std::string_view content = "Subject: x\r\n\r\nhello\r\n";
  auto parts = DataPayload(content, scratch);
  EXPECT_EQ(parts[0].data(), content.data());  // no copy
  EXPECT_EQ(parts[1], ".\r\n");
  EXPECT_TRUE(scratch.empty());
}

TEST(DotStuffing, DoublesLeadingDotsAndNormalisesLineEndings) {
  std::string scratch;
  auto parts = DataPayload(".first\n..second\r\nthird\rx\n.", scratch);
  EXPECT_EQ(std::string(parts[0]) + std::string(parts[1]),
            "..first\r\n...second\r\nthird\r\nx\r\n..\r\n.\r\n");
}

TEST(DotStuffing, EveryLoneDotLineIsStuffedAtEverySplit) {
  // A body made only of dot lines must never contain CRLF.CRLF before the end.
  std::string body;
  for (int i = 0; i < 50; ++i) body += (i % 3 == 0) ? ".\r\n" : (i % 3 == 1 ? ".\n" : "a\r\n");
  std::string scratch;
  auto parts = DataPayload(body, scratch);
  std::string wire = std::string(parts[0]) + std::string(parts[1]);
  EXPECT_EQ(wire.find("\r\n.\r\n"), wire.size() - 5);
  EXPECT_EQ(wire.rfind(".\r\n", 0), std::string::npos);  // never starts with a lone dot line
}

// The block-at-a-time scan against RFC 5321's rules read byte by byte (and
// the 8-bit flag against Has8Bit), on
// strings of line-end bytes, dots and text long enough to cross several
// 16-byte blocks at every offset.
TEST(DotStuffing, LineEndScanMatchesAByteByByteReading) {
  std::mt19937 rng(5321);
  // Mostly well-formed content, so that one lone CR or LF (rarer pieces) is
  // often the only fault, wherever it falls in a block.
  static constexpr std::string_view kPieces[] = {"\r\n",          "\r\n", "a",     "aaa",
                                                 "aaaaaaaaaaaaa", ".",    "\r\n.", "\r\n\r\n",
                                                 "\xc3\xa9",      "\r",   "\n"};
  std::uniform_int_distribution<size_t> pick(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<int> length(0, 24);
  std::bernoulli_distribution lone(0.15);
  std::bernoulli_distribution eight_bit(0.1);
  for (int i = 0; i < 100000; ++i) {
    std::string c;
    for (int n = length(rng); n > 0; --n) {
      size_t k = pick(rng);
      if (k >= std::size(kPieces) - 2 && !lone(rng)) k = 0;
      if (k == std::size(kPieces) - 3 && !eight_bit(rng)) k = 2;  // one high byte is enough
      c += kPieces[k];
    }
    bool crlf_only = true;
    bool dot = !c.empty() && c[0] == '.';
    bool high = false;
    for (size_t k = 0; k < c.size(); ++k) {
      if ((c[k] & 0x80) != 0) high = true;
      if (c[k] == '\n' && (k == 0 || c[k - 1] != '\r')) crlf_only = false;
      if (c[k] == '\r' && (k + 1 == c.size() || c[k + 1] != '\n')) crlf_only = false;
      if (c[k] == '.' && k > 0 && c[k - 1] == '\n') dot = true;
    }
    LineEnds ends = ScanLineEnds(c);
    ASSERT_EQ(ends.crlf_only, crlf_only) << testing::PrintToString(c);
    ASSERT_EQ(ends.dot_at_line_start, dot) << testing::PrintToString(c);
    ASSERT_EQ(ends.eight_bit, high) << testing::PrintToString(c);
    ASSERT_EQ(ends.eight_bit, Has8Bit(c));
    ASSERT_EQ(IsWireReady(c), crlf_only && !dot) << testing::PrintToString(c);
  }
}

TEST(DotStuffing, BdatPayloadIsCrlfOnlyAndNeverStuffed) {
  std::string scratch;
  std::string_view ready = "Subject: x\r\n\r\n.dot\r\n";
  EXPECT_EQ(BdatPayload(ready, ScanLineEnds(ready), scratch).data(), ready.data());  // no copy
  EXPECT_TRUE(scratch.empty());
  EXPECT_EQ(BdatPayload("", ScanLineEnds(""), scratch), "");
  std::string_view bare = ".a\nb\rc";
  EXPECT_EQ(BdatPayload(bare, ScanLineEnds(bare), scratch), ".a\r\nb\r\nc\r\n");
  std::string_view unterminated = "a\r\nb";  // CRLF-only, but no final CRLF
  EXPECT_EQ(BdatPayload(unterminated, ScanLineEnds(unterminated), scratch), "a\r\nb\r\n");
}

TEST(DotStuffing, Detects8Bit) {
  EXPECT_FALSE(Has8Bit("plain ascii\r\n"));
  EXPECT_TRUE(Has8Bit("caf\xc3\xa9"));
  EXPECT_FALSE(Has8Bit(""));
  // Every length and every position of one high byte: the word-at-a-time
  // loop and its tail must agree with a byte-by-byte look.
  for (size_t len = 1; len <= 100; ++len) {
    std::string text(len, 'a');
    EXPECT_FALSE(Has8Bit(text)) << len;
    for (size_t at = 0; at < len; ++at) {
      text[at] = static_cast<char>(0x80 | (at % 128));
      EXPECT_TRUE(Has8Bit(text)) << len << " " << at;
      EXPECT_FALSE(Has8Bit(std::string_view(text).substr(0, at))) << len << " " << at;
      text[at] = 'a';
    }
  }
}

}  // namespace
}  // namespace salvo::smtp
