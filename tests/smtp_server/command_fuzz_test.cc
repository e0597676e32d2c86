// Mutation fuzzing of the server's I/O-free SMTP parsers: command lines
// (SplitCommand, ParseMail/Rcpt/Bdat/Auth/Helo) and message content
// (ContentDecoder, DATA and BDAT). Seeded mutations of valid inputs with a
// dictionary of SMTP tokens, bounded in count. The invariants are those of
// tests/fuzz/smtp_checks.h: errors are proper 5xx replies that survive the
// wire, successes round-trip and stay in bounds, and decoding content gives
// the same result however the bytes are split, ending DATA only at CRLF.CRLF.
#include <gtest/gtest.h>

#include "tests/fuzz/mutator.h"
#include "tests/fuzz/smtp_checks.h"

namespace salvo::smtp {
namespace {

using fuzz::Mutator;

const std::vector<std::string> kCommandSeeds = {
    "MAIL FROM:<alice@example.com> SIZE=1000 BODY=8BITMIME",
    "MAIL FROM:<> RET=HDRS ENVID=QQ314159+2B",
    "mail from: <@relay.test,@b.test:bob@example.org> SMTPUTF8 AUTH=<>",
    "MAIL FROM:<\"john doe\"@[192.0.2.1]>",
    "MAIL FROM:<j\xc3\xb6rg@b\xc3\xbc\x63her.test> SMTPUTF8",
    "RCPT TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.com",
    "RCPT TO:<Postmaster>",
    "rcpt to:<x@[IPv6:2001:db8::1]> NOTIFY=NEVER",
    "RCPT TO:<\"a\\\"b\"@example.net>",
    "EHLO mail.example.com",
    "HELO [192.0.2.7]",
    "EHLO [IPv6:::1]",
    "BDAT 1024 LAST",
    "BDAT 0",
    "AUTH PLAIN AGJvYgBzZWNyZXQ=",
    "AUTH LOGIN",
    "STARTTLS",
    "DATA",
    "GET / HTTP/1.1",
};

const std::vector<std::string> kCommandTokens = {
    "<",
    ">",
    "@",
    ":",
    ",",
    ".",
    "\"",
    "\\",
    "[",
    "]",
    "IPv6:",
    " ",
    "=",
    "+",
    "+2B",
    "SIZE=",
    "BODY=",
    "SMTPUTF8",
    "RET=",
    "ENVID=",
    "AUTH=",
    "NOTIFY=",
    "ORCPT=",
    "rfc822;",
    "FROM:",
    "TO:",
    "LAST",
    "\xc3\xa9",
    "\xff",
    "\t",
    "\r",
    "\n",
    std::string(1, '\0'),
    "99999999999999999999",
    "18446744073709551616",
    "Postmaster",
    "[::1]",
    "@a,@b:",
};

TEST(SmtpCommandFuzz, MutatedCommandLinesKeepInvariants) {
  constexpr int kIterations = 8'000;
  Mutator m(5321, kCommandTokens);
  int accepted = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string line = m.Mutate(kCommandSeeds[m.Below(kCommandSeeds.size())], 4, 1200);
    std::string err = fuzz::CheckCommandLine(line, 10'000'000);
    ASSERT_EQ(err, "") << "line: " << ::testing::PrintToString(line);
    MailCommand mail;
    RcptCommand rcpt;
    std::string_view args = SplitCommand(line).args;
    accepted += !ParseMail(args, 0, &mail) || !ParseRcpt(args, true, &rcpt);
  }
  EXPECT_GT(accepted, kIterations / 40);  // the fuzz gets past the path syntax
}

TEST(SmtpCommandFuzz, SeedsAreAccepted) {
  for (const std::string& line : kCommandSeeds) EXPECT_EQ(fuzz::CheckCommandLine(line, 0), "");
}

const std::vector<std::string> kContentSeeds = {
    "From: a@example.com\r\nSubject: hi\r\n\r\nHello\r\n..dot\r\n.\r\nQUIT\r\n",
    "Subject: x\r\n\r\nline\r\n.\r\n",
    ".\r\n",
    "a\r\n\r\n..\r\n...\r\nb\r\n.\r\nRSET\r\n",
    "bare\nlf\r\n.\n.\r\n.\r\n",
    "bare\rcr\r\n\r.\r\n.\r\n",
};

const std::vector<std::string> kContentTokens = {
    "\r\n", "\r\n.\r\n", ".", "\n", "\r", "\n.\n", "\r.\r", "\r\n.", ".\r\n", "..", "\n.\r\n",
};

TEST(SmtpContentFuzz, DecodingIsSplitInvariantAndSound) {
  constexpr int kIterations = 10'000;
  Mutator m(3030, kContentTokens);
  int done = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string wire = m.Mutate(kContentSeeds[m.Below(kContentSeeds.size())], 6, 3000);
    std::vector<size_t> cuts = m.Splits(wire.size());
    ContentLimits limits;
    limits.max_size = m.Below(3) == 0 ? 1 + m.Below(200) : 0;
    limits.max_line = m.Below(2) == 0 ? 1 + m.Below(80) : 998;
    limits.bare_newline = m.Below(2) ? BareNewlinePolicy::kReject : BareNewlinePolicy::kNormalize;
    for (auto mode : {ContentDecoder::Mode::kDotTerminated, ContentDecoder::Mode::kCounted}) {
      std::string err = fuzz::CheckContent(wire, cuts, mode, limits);
      ASSERT_EQ(err, "") << "wire: " << ::testing::PrintToString(wire);
    }
    done += fuzz::Decode(wire, {wire.size()}, ContentDecoder::Mode::kDotTerminated, limits).done;
  }
  EXPECT_GT(done, kIterations / 10);
}

}  // namespace
}  // namespace salvo::smtp
