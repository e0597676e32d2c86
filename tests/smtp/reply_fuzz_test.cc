// Mutation fuzzing of the client's view of a remote MTA: reply lines
// (ReplyParser) and the DATA payload (dot-stuffing). Seeded mutations of
// valid multi-line replies and message contents, bounded in count. The
// invariants are those of tests/fuzz/smtp_checks.h: a complete reply has a
// code in 200..599, at most kMaxLines lines and an enhanced status of its
// class, and it survives rendering by the server and re-parsing; an error
// is InvalidArgument or ResourceExhausted; any content, dot-stuffed by the
// client, is decoded by the server into the same content with CRLF endings.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/base/strings.h"
#include "tests/fuzz/mutator.h"
#include "tests/fuzz/smtp_checks.h"

namespace salvo::smtp {
namespace {

using fuzz::Mutator;

const std::vector<std::string> kReplySeeds = {
    "250-mx.example.com Hello\n250-SIZE 52428800\n250-8BITMIME\n250-ENHANCEDSTATUSCODES\n"
    "250-PIPELINING\n250 SMTPUTF8",
    "250 2.1.5 Ok",
    "550-5.1.1 The email account that you tried to reach does not exist.\n550-5.1.1 Please "
    "try\n550 5.1.1 double-checking https://support.example/?p=NoSuchUser",
    "421 4.7.0 Try again later, closing connection.",
    "220 mx.example.com ESMTP ready",
    "354 End data with <CR><LF>.<CR><LF>",
    "452-4.2.2 mailbox full\n452 4.2.2 over quota",
    "250",
    "250-\n250 ",
};

const std::vector<std::string> kReplyTokens = {"\n",   "-",  " ",   "2.", "5.1.1", ".",
                                               "250-", "99", "000", "\t", "\r",    "4.7.0 "};

std::vector<std::string> Lines(std::string_view text) { return absl::StrSplit(ToAbsl(text), '\n'); }

TEST(SmtpReplyFuzz, MutatedRepliesKeepInvariants) {
  constexpr int kIterations = 20'000;
  Mutator m(4954, kReplyTokens);
  int complete = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string text = m.Mutate(kReplySeeds[m.Below(kReplySeeds.size())], 4, 4000);
    std::vector<std::string> lines = Lines(text);
    ASSERT_EQ(fuzz::CheckReplyLines(lines), "") << "reply: " << testing::PrintToString(text);
    ReplyParser p;
    for (const std::string& l : lines) {
      absl::StatusOr<bool> r = p.Feed(l);
      if (!r.ok()) break;
      complete += *r;
    }
  }
  EXPECT_GT(complete, kIterations / 4);
}

TEST(SmtpReplyFuzz, OverlongRepliesAreRefused) {
  ReplyParser p;
  absl::StatusOr<bool> r = true;
  for (size_t i = 0; i <= ReplyParser::kMaxLines && r.ok(); ++i) r = p.Feed("250-x");
  EXPECT_TRUE(absl::IsResourceExhausted(r.status()));
  p.Reset();
  r = p.Feed(absl::StrCat("250-", std::string(ReplyParser::kMaxBytes, 'x')));
  EXPECT_TRUE(absl::IsResourceExhausted(r.status()));
}

const std::vector<std::string> kBodySeeds = {
    "Subject: x\r\n\r\nHello\r\n.\r\n..two\r\n",
    ".leading dot\nbare lf\rbare cr\r\n",
    "no final newline",
    "",
    "\r\n.\r\n",
};

TEST(SmtpDotStuffingFuzz, DataPayloadRoundTrips) {
  constexpr int kIterations = 10'000;
  Mutator m(5322, {".", "\r\n", "\n", "\r", "\r\n.\r\n", "..", "\r\n.", "\xff"});
  for (int i = 0; i < kIterations; ++i) {
    std::string content = m.Mutate(kBodySeeds[m.Below(kBodySeeds.size())], 6, 3000);
    ASSERT_EQ(fuzz::CheckDotStuffingRoundTrip(content), "")
        << "content: " << testing::PrintToString(content);
  }
}

}  // namespace
}  // namespace salvo::smtp
