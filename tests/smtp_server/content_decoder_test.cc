// ContentDecoder: dot-unstuffing, the only end of DATA (CRLF.CRLF), the SMTP
// smuggling sequences, bare CR/LF policies, size and line limits — fed in
// one piece, one byte at a time, and split at every point.
#include "engine/smtp/server/content_decoder.h"

#include "gtest/gtest.h"

namespace salvo::smtp {
namespace {

struct Decoded {
  std::string content;
  size_t consumed = 0;
  bool done = false;
  std::string verdict;  // "ok" or "550 5.6.0"
};

std::string VerdictOf(const ContentDecoder& d) {
  auto v = d.Verdict();
  return v ? std::to_string(v->code) + " " + v->enhanced : "ok";
}

// Feeds `input` in the pieces given by `cuts` (offsets, ascending).
Decoded Feed(std::string_view input, const std::vector<size_t>& cuts,
             ContentDecoder::Mode mode = ContentDecoder::Mode::kDotTerminated,
             ContentLimits limits = {}) {
  Decoded out;
  ContentDecoder d(mode, limits, &out.content);
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    if (d.done()) break;
    out.consumed += d.Feed(input.substr(start, end - start));
    start = end;
  }
  if (mode == ContentDecoder::Mode::kCounted) d.Finish();
  out.done = d.done();
  out.verdict = VerdictOf(d);
  return out;
}

Decoded Whole(std::string_view input, ContentLimits limits = {}) {
  return Feed(input, {}, ContentDecoder::Mode::kDotTerminated, limits);
}

// Checks that every way of cutting `input` into two pieces, and feeding it
// one byte at a time, gives the same result as feeding it whole.
void ExpectSplitInvariant(std::string_view input, ContentLimits limits = {},
                          ContentDecoder::Mode mode = ContentDecoder::Mode::kDotTerminated) {
  Decoded whole = Feed(input, {}, mode, limits);
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    Decoded split = Feed(input, {cut}, mode, limits);
    ASSERT_EQ(split.content, whole.content) << "cut at " << cut;
    ASSERT_EQ(split.consumed, whole.consumed) << "cut at " << cut;
    ASSERT_EQ(split.verdict, whole.verdict) << "cut at " << cut;
  }
  std::vector<size_t> bytes;
  for (size_t i = 1; i < input.size(); ++i) bytes.push_back(i);
  Decoded one = Feed(input, bytes, mode, limits);
  EXPECT_EQ(one.content, whole.content);
  EXPECT_EQ(one.consumed, whole.consumed);
  EXPECT_EQ(one.verdict, whole.verdict);
}

TEST(ContentDecoder, EndsAtCrlfDotCrlfAndUnstuffs) {
  std::string in = "Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n";
  Decoded d = Whole(in);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.content, "Subject: x\r\n\r\n.leading dot\r\n");
  EXPECT_EQ(d.consumed, in.size() - 6);  // "QUIT\r\n" is the next command
  EXPECT_EQ(d.verdict, "ok");
  ExpectSplitInvariant(in);
}

TEST(ContentDecoder, EmptyMessageAndDotOnlyLines) {
  EXPECT_EQ(Whole(".\r\n").content, "");
  EXPECT_TRUE(Whole(".\r\n").done);
  Decoded d = Whole("a\r\n..\r\n...\r\n.\r\n");
  EXPECT_EQ(d.content, "a\r\n.\r\n..\r\n");
  ExpectSplitInvariant("a\r\n..\r\n...\r\n.\r\n");
}

TEST(ContentDecoder, NeedsMoreWithoutTheEnd) {
  Decoded d = Whole("line\r\n.");
  EXPECT_FALSE(d.done);
  EXPECT_EQ(d.consumed, 7u);
  d = Whole("line\r\n.\r");
  EXPECT_FALSE(d.done);
}

// SMTP smuggling (SEC Consult, 2023): none of these ends DATA; with the
// default policy each refuses the message, and what follows the fake end
// (a smuggled MAIL FROM...) stays inside the refused message.
TEST(ContentDecoder, SmugglingSequencesNeverEndData) {
  const std::vector<std::string> fake_ends = {"\n.\n",   "\r.\r",   "\n.\r\n", "\r.\r\n",
                                              "\r\n.\n", "\r\n.\r", "\n.\r",   "\r\n.\rX\n"};
  for (const std::string& fake : fake_ends) {
    std::string in = "Subject: a\r\n\r\nhello" + fake +
                     "MAIL FROM:<evil@x.test>\r\nRCPT TO:<v@y.test>\r\nDATA\r\nsmuggled\r\n.\r\n";
    Decoded d = Whole(in);
    EXPECT_TRUE(d.done) << ::testing::PrintToString(fake);
    EXPECT_EQ(d.consumed, in.size()) << ::testing::PrintToString(fake);
    EXPECT_EQ(d.verdict, "550 5.6.0") << ::testing::PrintToString(fake);
    EXPECT_EQ(d.content, "") << "refused content is not kept";
    ExpectSplitInvariant(in);
  }
}

TEST(ContentDecoder, NormalisePolicyRewritesButNeverEnds) {
  ContentLimits lim;
  lim.bare_newline = BareNewlinePolicy::kNormalize;
  std::string in = "a\nb\rc\r\n.\nz\r\n.\r\nQUIT\r\n";
  Decoded d = Whole(in, lim);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.verdict, "ok");
  // ".\n" after a real CRLF is a line "." (kept, not unstuffed, not an end).
  EXPECT_EQ(d.content, "a\r\nb\r\nc\r\n.\r\nz\r\n");
  EXPECT_EQ(d.consumed, in.size() - 6);
  ExpectSplitInvariant(in, lim);

  // After a normalised bare LF the next line is not a line start: ".\r\n"
  // there is content, not the end.
  in = "x\n.\r\ny\r\n.\r\n";
  d = Whole(in, lim);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.consumed, in.size());
  EXPECT_EQ(d.content, "x\r\n.\r\ny\r\n");
  ExpectSplitInvariant(in, lim);
}

TEST(ContentDecoder, SizeLimitCountsButDoesNotStore) {
  ContentLimits lim;
  lim.max_size = 10;
  std::string in = "0123456789ABCDEF\r\nmore\r\n.\r\n";
  Decoded d = Whole(in, lim);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.consumed, in.size());
  EXPECT_EQ(d.verdict, "552 5.3.4");
  EXPECT_EQ(d.content, "");
  ExpectSplitInvariant(in, lim);
  lim.max_size = 12;  // exactly "0123456789\r\n"
  EXPECT_EQ(Whole("0123456789\r\n.\r\n", lim).verdict, "ok");
}

TEST(ContentDecoder, LineLimit) {
  std::string ok_line(998, 'x');
  EXPECT_EQ(Whole(ok_line + "\r\n.\r\n").verdict, "ok");
  std::string long_line(999, 'x');
  Decoded d = Whole(long_line + "\r\n.\r\n");
  EXPECT_EQ(d.verdict, "550 5.6.0");
  EXPECT_TRUE(d.done);
  ContentLimits unlimited;
  unlimited.max_line = 0;
  EXPECT_EQ(Whole(std::string(100000, 'x') + "\r\n.\r\n", unlimited).verdict, "ok");
  // A stuffed dot does not count.
  EXPECT_EQ(Whole("." + ok_line + "\r\n.\r\n").verdict, "ok");
}

TEST(ContentDecoder, CountedModeForBdat) {
  std::string in = ".not stuffed\r\n.\r\nmore\r\n";
  Decoded d = Feed(in, {5, 14}, ContentDecoder::Mode::kCounted);
  EXPECT_EQ(d.content, in);  // no dot handling, no end marker
  EXPECT_EQ(d.consumed, in.size());
  EXPECT_EQ(d.verdict, "ok");
  ExpectSplitInvariant(in, {}, ContentDecoder::Mode::kCounted);
  // A CR at the end of one chunk and LF at the start of the next is a CRLF.
  EXPECT_EQ(Feed("a\r\nb\r\n", {4}, ContentDecoder::Mode::kCounted).verdict, "ok");
  EXPECT_EQ(Feed("a\nb\r\n", {}, ContentDecoder::Mode::kCounted).verdict, "550 5.6.0");
  EXPECT_EQ(Feed("a\r\nb\r", {}, ContentDecoder::Mode::kCounted).verdict, "550 5.6.0");
}

TEST(ContentDecoder, EightBitAndNulPassThrough) {
  std::string in = std::string("caf\xc3\xa9 \0 x\r\n", 11) + ".\r\n";
  Decoded d = Whole(in);
  EXPECT_EQ(d.content, std::string("caf\xc3\xa9 \0 x\r\n", 11));
  ExpectSplitInvariant(in);
}

}  // namespace
}  // namespace salvo::smtp
