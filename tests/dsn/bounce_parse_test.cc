// Bounces in: every corpus file classified as tests/dsn/corpus/expected.tsv
// says (the accuracy is printed), and the bounds: size, MIME bombs, recipient
// floods end in a clear truncated result, in bounded time and memory.
#include "engine/dsn/bounce_parse.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace salvo::dsn {
namespace {

const std::string kCorpus = std::string(SALVO_SOURCE_DIR) + "/tests/dsn/corpus/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct Expectation {
  std::string file, kind, category, reason, address, status;
};

std::vector<Expectation> LoadExpectations() {
  std::vector<Expectation> out;
  std::istringstream lines(ReadFile(kCorpus + "expected.tsv"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Expectation e;
    std::getline(fields, e.file, '\t');
    std::getline(fields, e.kind, '\t');
    std::getline(fields, e.category, '\t');
    std::getline(fields, e.reason, '\t');
    std::getline(fields, e.address, '\t');
    std::getline(fields, e.status, '\t');
    out.push_back(e);
  }
  return out;
}

TEST(BounceCorpus, EveryFileClassifiedAsExpected) {
  std::vector<Expectation> expectations = LoadExpectations();
  ASSERT_GE(expectations.size(), 20u);
  int correct = 0;
  for (const Expectation& e : expectations) {
    std::string message = ReadFile(kCorpus + e.file);
    ASSERT_FALSE(message.empty()) << e.file;
    BounceReport r = ParseBounce(message);
    std::string address = r.recipients.empty() ? "-" : r.recipients[0].address;
    std::string status =
        r.recipients.empty() || r.recipients[0].status.empty() ? "-" : r.recipients[0].status;
    bool ok = KindName(r.kind) == e.kind && CategoryName(r.classification.category) == e.category &&
              ReasonName(r.classification.reason) == e.reason && address == e.address &&
              status == e.status && !r.truncated;
    EXPECT_TRUE(ok) << e.file << ": got " << KindName(r.kind) << " "
                    << CategoryName(r.classification.category) << " "
                    << ReasonName(r.classification.reason) << " " << address << " " << status
                    << (r.truncated ? " truncated" : "")
                    << "; diagnostic: " << (r.recipients.empty() ? "" : r.recipients[0].diagnostic);
    correct += ok;
    // Bounces and auto-replies sent to our VERP address carry the token back.
    if (message.find("To: bounce+") != std::string::npos && e.kind != "arf_complaint") {
      EXPECT_EQ(r.verp_address.rfind("bounce+a2b4c6", 0), 0u) << e.file;
    }
  }
  std::printf("bounce corpus accuracy: %d/%zu\n", correct, expectations.size());
}

TEST(BounceCorpus, MultiRecipientReportsKeepEveryRecipient) {
  BounceReport two = ParseBounce(ReadFile(kCorpus + "postfix_dsn_two_recipients.eml"));
  ASSERT_EQ(two.recipients.size(), 2u);
  EXPECT_EQ(two.recipients[0].classification.reason, BounceReason::kMailboxFull);
  EXPECT_EQ(two.recipients[0].classification.category, BounceCategory::kSoft);
  EXPECT_EQ(two.recipients[1].address, "dave@example.net");
  EXPECT_EQ(two.recipients[1].classification.category, BounceCategory::kHard);
  EXPECT_EQ(two.original_message_id, "<c41.7f3a@sender.example.com>");
  BounceReport exim = ParseBounce(ReadFile(kCorpus + "exim_plain_quota_two.eml"));
  ASSERT_EQ(exim.recipients.size(), 2u);
  EXPECT_TRUE(exim.non_standard);
  EXPECT_EQ(exim.recipients[1].address, "niaj@example.com");
  EXPECT_EQ(exim.recipients[1].remote_mta, "mx.example.com");
  BounceReport postfix = ParseBounce(ReadFile(kCorpus + "postfix_plain_two_recipients.eml"));
  ASSERT_EQ(postfix.recipients.size(), 2u);
  EXPECT_EQ(postfix.recipients[0].classification.reason, BounceReason::kPolicy);
  EXPECT_EQ(postfix.recipients[0].remote_mta, "mx1.example.org");
  EXPECT_EQ(postfix.recipients[1].address, "kate@example.org");
  EXPECT_EQ(postfix.recipients[1].classification.reason, BounceReason::kNoSuchUser);
}

TEST(BounceCorpus, ComplaintNamesTheComplainer) {
  BounceReport arf = ParseBounce(ReadFile(kCorpus + "yahoo_arf_complaint.eml"));
  EXPECT_EQ(arf.feedback_type, "abuse");
  EXPECT_EQ(arf.original_message_id, "<c41.7f3a@sender.example.com>");
  EXPECT_EQ(arf.verp_address.rfind("bounce+a2b4c6", 0), 0u);
}

TEST(BounceLimits, OversizedMessageIsNotParsed) {
  BounceLimits limits;
  limits.max_message_bytes = 1 << 20;
  std::string big = "From: MAILER-DAEMON@x.example\nSubject: Undeliverable\n\n";
  big.append(limits.max_message_bytes, 'a');
  BounceReport r = ParseBounce(big, limits);
  EXPECT_EQ(r.kind, BounceKind::kUnknown);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.truncation, "size");
}

TEST(BounceLimits, FiftyMegabyteBounceIsRefusedByDefault) {
  std::string big = "From: MAILER-DAEMON@x.example\n\n";
  big.append(50u << 20, 'x');
  BounceReport r = ParseBounce(big);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.truncation, "size");
}

TEST(BounceLimits, DeeplyNestedMimeBombIsRefused) {
  std::string bomb = "From: MAILER-DAEMON@x.example\nMIME-Version: 1.0\n";
  for (int i = 0; i < 10000; ++i) {
    bomb += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" +
            std::to_string(i) + "\n";
  }
  BounceReport r = ParseBounce(bomb);
  EXPECT_EQ(r.kind, BounceKind::kUnknown);
  EXPECT_TRUE(r.truncated);
}

TEST(BounceLimits, ModeratelyNestedMimeStopsAtDepth) {
  std::string nested = "From: MAILER-DAEMON@x.example\nMIME-Version: 1.0\n";
  for (int i = 0; i < 40; ++i) {
    nested += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" +
              std::to_string(i) + "\n";
  }
  nested += "Content-Type: text/plain\n\nhello\n";
  BounceReport r = ParseBounce(nested);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.truncation, "depth");
}

TEST(BounceLimits, TenThousandPartsAreWalkedOnlyUpToTheLimit) {
  std::string wide =
      "From: MAILER-DAEMON@x.example\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"w\"\n\n";
  for (int i = 0; i < 10000; ++i) wide += "--w\nContent-Type: text/plain\n\npart\n";
  wide += "--w--\n";
  BounceReport r = ParseBounce(wide);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.truncation, "parts");
}

TEST(BounceLimits, RecipientFloodIsCapped) {
  std::string dsn =
      "From: MAILER-DAEMON@x.example\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n"
      "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x.example\n";
  for (int i = 0; i < 1000; ++i) {
    dsn += "\nFinal-Recipient: rfc822; u" + std::to_string(i) +
           "@example.com\nAction: failed\nStatus: 5.1.1\n";
  }
  dsn += "\n--r--\n";
  BounceLimits limits;
  BounceReport r = ParseBounce(dsn, limits);
  EXPECT_EQ(r.kind, BounceKind::kDsn);
  EXPECT_EQ(r.recipients.size(), limits.max_recipients);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.truncation, "recipients");
}

TEST(BounceClassify, SynchronousRepliesUseTheSameRules) {
  EXPECT_EQ(ClassifyFailure("5.1.1", 550, "550 5.1.1 user unknown").category,
            BounceCategory::kHard);
  EXPECT_EQ(ClassifyFailure("", 550, "550 Requested action not taken: mailbox unavailable").reason,
            BounceReason::kNoSuchUser);
  EXPECT_EQ(ClassifyFailure("4.7.0", 421, "421 4.7.0 Try again later, rate limit").category,
            BounceCategory::kSoft);
  EXPECT_EQ(ClassifyFailure("5.7.1", 554, "554 5.7.1 listed in bl.example").reason,
            BounceReason::kSpamBlock);
  EXPECT_EQ(ClassifyFailure("5.1.10", 550, "550 5.1.10 null MX").reason, BounceReason::kBadDomain);
  EXPECT_EQ(ClassifyFailure("", 0, "").category, BounceCategory::kUnknown);
  EXPECT_EQ(ClassifyFailure("5.9.9", 0, "strange").category, BounceCategory::kHard);
}

TEST(BounceClassify, OperatorRulesExtendTheBuiltInOnes) {
  absl::StatusOr<BounceRules> rules = BounceRules::Parse(
      "# site rules\n"
      "mailbox_full  storage allocation exceeded\n"
      "\n"
      "spam_block\tcontent looks like bulk\n");
  ASSERT_TRUE(rules.ok()) << rules.status();
  const char* text = "552 5.3.4 storage allocation exceeded for this user";
  EXPECT_EQ(ClassifyFailure("5.3.4", 552, text).reason, BounceReason::kContent);
  Classification c = rules->Classify("5.3.4", 552, text);
  EXPECT_EQ(c.reason, BounceReason::kMailboxFull);
  EXPECT_EQ(c.category, BounceCategory::kSoft);
  // And through ParseBounce, for a DSN whose wording the built-in rules miss.
  std::string dsn =
      "From: MAILER-DAEMON@x.example\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n"
      "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x.example\n\n"
      "Final-Recipient: rfc822; u@example.com\nAction: failed\nStatus: 5.0.0\n"
      "Diagnostic-Code: smtp; 550 content looks like bulk\n\n--r--\n";
  EXPECT_EQ(ParseBounce(dsn).classification.reason, BounceReason::kOther);
  BounceLimits limits;
  limits.rules = &*rules;
  EXPECT_EQ(ParseBounce(dsn, limits).classification.reason, BounceReason::kSpamBlock);

  absl::StatusOr<BounceRules> bad = BounceRules::Parse("mailbox_full ok\nfull_mailbox nope\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("line 2"), std::string::npos);
  EXPECT_FALSE(BounceRules::Parse("no_such_user\n").ok());
}

}  // namespace
}  // namespace salvo::dsn
