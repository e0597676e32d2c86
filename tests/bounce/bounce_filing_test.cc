// The pure parts of bounce filing: folders, category labels, the stamped
// header fields (no header injection). (The soft-bounce window is the
// spool's now: tests/queue/feedback_test.cc.)
#include "bounce/bounce_filing.h"

#include <gtest/gtest.h>

namespace salvo::bounce {
namespace {

dsn::BounceReport Report(dsn::BounceKind kind, dsn::BounceCategory category,
                         dsn::BounceReason reason) {
  dsn::BounceReport r;
  r.kind = kind;
  r.classification = {category, reason};
  return r;
}

TEST(BounceFiling, FoldersFollowKindThenCategory) {
  using dsn::BounceCategory;
  using dsn::BounceKind;
  using dsn::BounceReason;
  EXPECT_EQ(FolderFor(Report(BounceKind::kDsn, BounceCategory::kHard, BounceReason::kNoSuchUser)),
            "Hard");
  EXPECT_EQ(FolderFor(Report(BounceKind::kDsn, BounceCategory::kSoft, BounceReason::kMailboxFull)),
            "Soft");
  EXPECT_EQ(FolderFor(Report(BounceKind::kArfComplaint, BounceCategory::kComplaint,
                             BounceReason::kComplaint)),
            "Complaints");
  EXPECT_EQ(FolderFor(Report(BounceKind::kAutoReply, BounceCategory::kAutoReply,
                             BounceReason::kAutoReply)),
            "AutoReplies");
  EXPECT_EQ(FolderFor(Report(BounceKind::kUnknown, BounceCategory::kUnknown, BounceReason::kNone)),
            "Unparsed");
  EXPECT_EQ(FolderFor(Report(BounceKind::kDsn, BounceCategory::kUnknown, BounceReason::kNone)),
            "Unparsed");
}

TEST(BounceFiling, CategoryLabelsAreTheAnalystsNames) {
  using dsn::BounceCategory;
  using dsn::BounceReason;
  EXPECT_EQ(CategoryLabel({BounceCategory::kHard, BounceReason::kNoSuchUser}), "bad-mailbox");
  EXPECT_EQ(CategoryLabel({BounceCategory::kHard, BounceReason::kBadDomain}), "bad-domain");
  EXPECT_EQ(CategoryLabel({BounceCategory::kHard, BounceReason::kInactiveMailbox}),
            "inactive-mailbox");
  EXPECT_EQ(CategoryLabel({BounceCategory::kSoft, BounceReason::kMailboxFull}), "quota-issues");
  EXPECT_EQ(CategoryLabel({BounceCategory::kSoft, BounceReason::kSpamBlock}), "spam-related");
  EXPECT_EQ(CategoryLabel({BounceCategory::kSoft, BounceReason::kExpired}), "message-expired");
  EXPECT_EQ(CategoryLabel({BounceCategory::kSoft, BounceReason::kRelaying}), "relaying-issues");
  EXPECT_EQ(CategoryLabel({BounceCategory::kHard, BounceReason::kNone}), "other");
  EXPECT_EQ(CategoryLabel(
                Report(dsn::BounceKind::kUnknown, BounceCategory::kUnknown, BounceReason::kNone)),
            "unparsed");
}

TEST(BounceFiling, StampCannotInjectHeaderFields) {
  BounceStamp stamp;
  stamp.category = "bad-mailbox";
  stamp.kind = "dsn";
  stamp.recipient = "eve@example.com\r\nBcc: victim@example.org";
  stamp.verified = false;
  std::string headers = StampHeaders(stamp);
  EXPECT_EQ(headers,
            "X-Salvo-Category: bad-mailbox\r\n"
            "X-Salvo-Bounce-Kind: dsn\r\n"
            "X-Salvo-Recipient: eve@example.com Bcc: victim@example.org\r\n"
            "X-Salvo-Verp: none\r\n");
  EXPECT_EQ(OneLine(std::string(500, 'a'), 200).size(), 200u);
  EXPECT_EQ(OneLine(std::string("a\0b\x7f"
                                "c",
                                5)),
            "abc");
}

}  // namespace
}  // namespace salvo::bounce
