// Mutation fuzzing of the POP3 command parser: seeded mutations of valid
// command lines with a dictionary of POP3 tokens, bounded in count. The
// invariants (tests/fuzz/pop3_checks.h): errors are InvalidArgument, accepted
// commands are bounded, free of control bytes and round-trip through their
// canonical form; message numbers and line counts re-parse.
#include <gtest/gtest.h>

#include "tests/fuzz/mutator.h"
#include "tests/fuzz/pop3_checks.h"

namespace salvo::pop3 {
namespace {

const std::vector<std::string> kSeeds = {
    "USER bounces",
    "PASS my secret pass",
    "APOP mrose c4c9334bac560ecc979e58001b3e22fb",
    "AUTH PLAIN AGJvdW5jZXMAc2VjcmV0",
    "CAPA",
    "STLS",
    "STAT",
    "LIST 1",
    "UIDL",
    "TOP 3 10",
    "RETR 4294967295",
    "DELE 2",
    "NOOP",
    "RSET",
    "QUIT",
    "list",
};

const std::vector<std::string> kTokens = {
    " ",
    "\t",
    "0",
    "9",
    "4294967296",
    "18446744073709551616",
    "-1",
    std::string(41, 'a'),
    "\r",
    "\n",
    std::string(1, '\0'),
    "\x7f",
    "\xff",
    "TOP",
    "PASS ",
    "AUTH ",
    "=",
};

TEST(Pop3CommandFuzz, MutatedLinesKeepInvariants) {
  constexpr int kIterations = 30'000;
  fuzz::Mutator m(1939, kTokens);
  int accepted = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string line = m.Mutate(kSeeds[m.Below(kSeeds.size())], 4, 300);
    ASSERT_EQ(fuzz::CheckPop3Line(line), "") << "line: " << testing::PrintToString(line);
    absl::StatusOr<Command> c = ParseCommand(line);
    accepted += c.ok() && c->verb != Verb::kUnknown;
  }
  EXPECT_GT(accepted, kIterations / 10);
}

TEST(Pop3CommandFuzz, SeedsAreAcceptedAndRoundTrip) {
  for (const std::string& line : kSeeds) {
    EXPECT_TRUE(ParseCommand(line).ok()) << line;
    EXPECT_EQ(fuzz::CheckPop3Line(line), "") << line;
  }
}

}  // namespace
}  // namespace salvo::pop3
