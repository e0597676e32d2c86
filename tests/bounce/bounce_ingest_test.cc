// The bounce ingester on a real spool and bounce mailbox (RocksDB in a temp
// dir): the DSN corpus of tests/dsn, each message addressed to a real
// HMAC-signed VERP address, is filed into the right category folder, stamped,
// and suppresses exactly the hard-bounced and complained-about addresses;
// forged tokens attribute nothing; soft bounces suppress only at the limit;
// a 20 MB bounce is stored unparsed, a 51 MB one refused, and a 10,000-part
// MIME bomb stored in bounded work.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bounce/bounce_ingester.h"
#include "engine/loop/ring.h"
#include "engine/render/verp.h"
#include "queue/ids.h"
#include "queue/mailbox.h"
#include "queue/spool.h"
#include "tests/engine/ring_fixture.h"

namespace salvo::bounce {
namespace {

namespace fs = std::filesystem;
constexpr char kSecret[] = "5f0c2a6e9b8d4f1a3c7e5b9d2f4a6c8e";
constexpr char kCorpusToken[] =
    "bounce+a2b4c6d8e0f2g4h6i8j0k2l4m6n8o0p2q4r6s8t@bounces.example.com";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ReplaceAll(std::string text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The VERP return path of spool recipient `id` (a made-up one by default).
std::string VerpAddress(queue::RecipientId id = queue::NewId<queue::RecipientId>()) {
  std::string bytes = id.Bytes();
  render::RecipientKey key;
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return render::VerpCodec(kSecret).ReturnPath(key, "bounces.example.com");
}

class BounceIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("salvo-bounce-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    queue::SpoolOptions options;
    options.path = dir_.string();
    auto spool = queue::Spool::Open(std::move(options));
    ASSERT_TRUE(spool.ok()) << spool.status();
    spool_ = std::move(spool).value();
  }
  void TearDown() override {
    ingester_.reset();
    spool_.reset();
    fs::remove_all(dir_);
  }

  void ReopenSpool() {
    ingester_.reset();
    spool_.reset();
    queue::SpoolOptions options;
    options.path = dir_.string();
    auto spool = queue::Spool::Open(std::move(options));
    ASSERT_TRUE(spool.ok()) << spool.status();
    spool_ = std::move(spool).value();
  }

  // A campaign whose one recipient was delivered; returns its ids.
  std::pair<queue::CampaignId, queue::RecipientId> DeliveredCampaignRecipient() {
    auto id = spool_->CreateCampaign(queue::Campaign{}).Wait();
    EXPECT_TRUE(id.ok()) << id.status();
    std::vector<queue::NewRecipient> rcpts = {{.address = "someone@example.org"}};
    EXPECT_TRUE(spool_->AddCampaignRecipients(*id, std::move(rcpts)).Wait().ok());
    EXPECT_TRUE(spool_->CloseCampaign(*id).Wait().ok());
    std::vector<queue::DueRecipient> due = spool_->TakeDue(10);
    EXPECT_EQ(due.size(), 1u);
    queue::DeliveryOutcome delivered{.kind = queue::DeliveryOutcome::Kind::kDelivered,
                                     .response = {.code = 250}};
    EXPECT_TRUE(spool_->RecordOutcome(due.at(0), delivered).Wait().ok());
    return {*id, due.at(0).id};
  }

  std::vector<queue::DeliveryEvent> FeedbackEvents(queue::CampaignId id) {
    auto events = spool_->ReadCampaignEvents(id, queue::EventId(), 100).Wait();
    EXPECT_TRUE(events.ok()) << events.status();
    std::vector<queue::DeliveryEvent> out;
    for (auto& e : *events) {
      if (e.feedback) out.push_back(e);
    }
    return out;
  }

  BounceIngester& Ingester(int soft_limit = 5) {
    BounceIngesterOptions o;
    o.spool = spool_.get();
    o.verp_secret = kSecret;
    o.soft_bounce_limit = soft_limit;
    ingester_ = std::make_unique<BounceIngester>(std::move(o));
    return *ingester_;
  }

  absl::StatusOr<IngestResult> Ingest(std::string content, std::string envelope_recipient) {
    absl::StatusOr<IngestResult> out = absl::UnknownError("not run");
    testing::RunOnRing([&]() -> Task<void> {
      auto op = ingester_->Ingest(std::move(content), {std::move(envelope_recipient)});
      out = co_await op;
    }());
    return out;
  }

  std::string Stored(const std::string& folder, uint32_t uid) {
    absl::StatusOr<std::string> out = absl::UnknownError("not run");
    testing::RunOnRing([&]() -> Task<void> {
      auto op = spool_->mailbox().Read(folder, uid);
      out = co_await op;
    }());
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : std::string();
  }

  std::optional<queue::SuppressionEntry> Suppression(const std::string& address) {
    auto found = spool_->FindSuppression(queue::NormalizeAddress(address)).Wait();
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? *found : std::nullopt;
  }

  fs::path dir_;
  std::unique_ptr<queue::Spool> spool_;
  std::unique_ptr<BounceIngester> ingester_;
};

std::string ExpectedFolder(const std::string& kind, const std::string& category) {
  if (kind == "arf_complaint") return "Complaints";
  if (kind == "auto_reply") return "AutoReplies";
  if (kind == "dsn" && category == "hard") return "Hard";
  if (kind == "dsn" && category == "soft") return "Soft";
  return "Unparsed";
}

TEST_F(BounceIngestTest, CorpusIsFiledStampedAndSuppressedByCategory) {
  Ingester(/*soft_limit=*/100);
  fs::path corpus = fs::path(SALVO_SOURCE_DIR) / "tests/dsn/corpus";
  std::ifstream tsv(corpus / "expected.tsv");
  std::string line;
  int total = 0, filed_right = 0;
  while (std::getline(tsv, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream cols(line);
    for (std::string c; std::getline(cols, c, '\t');) f.push_back(c);
    ASSERT_GE(f.size(), 5u) << line;
    const std::string &file = f[0], &kind = f[1], &category = f[2], &address = f[4];
    std::string verp = VerpAddress();
    std::string content = ReplaceAll(ReadFile(corpus / file), kCorpusToken, verp);
    absl::StatusOr<IngestResult> r = Ingest(content, verp);
    ASSERT_TRUE(r.ok()) << file << ": " << r.status();
    ++total;
    std::string expected = ExpectedFolder(kind, category);
    if (r->folder == expected) {
      ++filed_right;
    } else {
      ADD_FAILURE() << file << ": filed in " << r->folder << ", expected " << expected;
    }
    EXPECT_TRUE(r->stamp.verified) << file;
    std::string stored = Stored("INBOX", r->inbox_uid);
    EXPECT_EQ(stored.rfind("X-Salvo-Category: " + r->stamp.category + "\r\n", 0), 0u) << file;
    EXPECT_NE(stored.find("X-Salvo-Verp: verified\r\n"), std::string::npos) << file;
    EXPECT_EQ(Stored(r->folder, r->folder_uid), stored) << file;
    // Hard address failures and complaints suppress; soft failures,
    // auto-replies and non-bounces never do (the soft limit is out of reach
    // here). Reports with several recipients are judged per recipient.
    std::vector<std::string> expect_suppressed, expect_kept;
    if (file == "postfix_dsn_two_recipients.eml") {  // carol 5.2.2 full, dave 5.1.1
      expect_kept = {"carol@example.net"};
      expect_suppressed = {"dave@example.net"};
    } else if (file == "postfix_plain_two_recipients.eml") {  // jack 5.7.1 policy, kate 5.1.1
      expect_kept = {"jack@example.org"};
      expect_suppressed = {"kate@example.org"};
    } else if (address != "-") {
      bool hard_address =
          kind == "dsn" && category == "hard" &&
          (f[3] == "no_such_user" || f[3] == "bad_domain" || f[3] == "inactive_mailbox");
      (hard_address || kind == "arf_complaint" ? expect_suppressed : expect_kept)
          .push_back(address);
    }
    for (const std::string& a : expect_suppressed) {
      std::optional<queue::SuppressionEntry> entry = Suppression(a);
      ASSERT_TRUE(entry.has_value()) << file << ": " << a << " not suppressed";
      EXPECT_EQ(entry->source, kind == "arf_complaint" ? "complaint" : "bounce") << file;
    }
    for (const std::string& a : expect_kept) {
      EXPECT_FALSE(Suppression(a).has_value()) << file << ": " << a << " suppressed";
    }
    EXPECT_EQ(r->suppressed.size(), expect_suppressed.size()) << file;
  }
  std::printf("bounce corpus: %d/%d filed in the expected folder\n", filed_right, total);
  EXPECT_EQ(total, 30);
  absl::StatusOr<mailbox::FolderStatus> inbox = spool_->mailbox().Status("INBOX");
  ASSERT_TRUE(inbox.ok());
  EXPECT_EQ(inbox->messages, static_cast<uint32_t>(total));
}

TEST_F(BounceIngestTest, ForgedTokenIsStoredButSuppressesNoOne) {
  Ingester();
  std::string verp = VerpAddress();
  // Flip one character of the token: the HMAC no longer matches.
  size_t plus = verp.find('+');
  verp[plus + 3] = verp[plus + 3] == 'a' ? 'b' : 'a';
  std::string content = ReplaceAll(
      ReadFile(fs::path(SALVO_SOURCE_DIR) / "tests/dsn/corpus/postfix_dsn_user_unknown.eml"),
      kCorpusToken, verp);
  absl::StatusOr<IngestResult> r = Ingest(content, verp);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->folder, "Hard");
  EXPECT_FALSE(r->stamp.verified);
  EXPECT_TRUE(r->suppressed.empty());
  EXPECT_FALSE(Suppression("alice@example.net").has_value());
  EXPECT_NE(Stored("Hard", r->folder_uid).find("X-Salvo-Verp: none\r\n"), std::string::npos);
}

TEST_F(BounceIngestTest, SoftBouncesSuppressOnlyAtTheLimit) {
  Ingester(/*soft_limit=*/2);
  std::string raw =
      ReadFile(fs::path(SALVO_SOURCE_DIR) / "tests/dsn/corpus/yahoo_plain_mailbox_full.eml");
  std::string verp = VerpAddress();
  absl::StatusOr<IngestResult> first = Ingest(ReplaceAll(raw, kCorpusToken, verp), verp);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->folder, "Soft");
  ASSERT_FALSE(first->stamp.recipient.empty());
  EXPECT_TRUE(first->suppressed.empty());
  EXPECT_FALSE(Suppression(first->stamp.recipient).has_value());
  absl::StatusOr<IngestResult> second = Ingest(ReplaceAll(raw, kCorpusToken, verp), verp);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->suppressed.size(), 1u);
  std::optional<queue::SuppressionEntry> entry = Suppression(first->stamp.recipient);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->source, "soft-bounce");
}

TEST_F(BounceIngestTest, HugeBounceAndMimeBombAreStoredInBoundedWork) {
  Ingester();
  std::string verp = VerpAddress();
  std::string huge = "From: MAILER-DAEMON@example.net\r\nTo: " + verp +
                     "\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n";
  huge.append(20u << 20, 'x');
  absl::StatusOr<IngestResult> big = Ingest(huge, verp);
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->folder, "Unparsed");  // over the 10 MiB parse limit: stored, not parsed
  // Past the mailbox's 50 MiB limit it is refused (the SMTP session's 452),
  // not stored in part.
  huge.append(31u << 20, 'x');
  absl::StatusOr<IngestResult> refused = Ingest(huge, verp);
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();

  std::string bomb = "From: MAILER-DAEMON@example.net\r\nTo: " + verp +
                     "\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n";
  for (int i = 0; i < 10'000; ++i) bomb += "--b\r\nContent-Type: text/plain\r\n\r\npart\r\n";
  bomb += "--b--\r\n";
  absl::StatusOr<IngestResult> parts = Ingest(bomb, verp);
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(Stored("INBOX", parts->inbox_uid).size(),
            bomb.size() + StampHeaders(parts->stamp).size());
}

TEST_F(BounceIngestTest, ABounceOfADeliveredCampaignRecipientReachesItsCampaign) {
  auto [campaign, recipient] = DeliveredCampaignRecipient();
  Ingester();
  std::string raw =
      ReadFile(fs::path(SALVO_SOURCE_DIR) / "tests/dsn/corpus/postfix_dsn_user_unknown.eml");
  std::string verp = VerpAddress(recipient);
  absl::StatusOr<IngestResult> r = Ingest(ReplaceAll(raw, kCorpusToken, verp), verp);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->feedback.has_value());
  EXPECT_EQ(*r->feedback, queue::FeedbackKind::kBounced);
  EXPECT_EQ(r->feedback_category, "bad-mailbox");
  EXPECT_EQ(r->stamp.campaign, campaign.ToString());
  EXPECT_NE(Stored("Hard", r->folder_uid).find("X-Salvo-Campaign: " + campaign.ToString()),
            std::string::npos);
  EXPECT_EQ(spool_->GetCampaign(campaign)->counters.bounced, 1u);
  std::vector<queue::DeliveryEvent> events = FeedbackEvents(campaign);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].recipient, recipient);
  EXPECT_EQ(events[0].category, "bad-mailbox");
  EXPECT_EQ(events[0].address, queue::NormalizeAddress(r->stamp.recipient));

  // A complaint about the same recipient.
  std::string arf =
      ReadFile(fs::path(SALVO_SOURCE_DIR) / "tests/dsn/corpus/yahoo_arf_complaint.eml");
  absl::StatusOr<IngestResult> c = Ingest(ReplaceAll(arf, kCorpusToken, verp), verp);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->feedback.has_value());
  EXPECT_EQ(*c->feedback, queue::FeedbackKind::kComplained);
  EXPECT_EQ(spool_->GetCampaign(campaign)->counters.complained, 1u);
  EXPECT_EQ(FeedbackEvents(campaign).size(), 2u);
}

TEST_F(BounceIngestTest, AnUnattributableBounceIsStillStoredAndSuppresses) {
  Ingester();
  std::string raw =
      ReadFile(fs::path(SALVO_SOURCE_DIR) / "tests/dsn/corpus/postfix_dsn_user_unknown.eml");
  std::string verp = VerpAddress();  // verified, but no such spool recipient
  absl::StatusOr<IngestResult> r = Ingest(ReplaceAll(raw, kCorpusToken, verp), verp);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->stamp.verified);
  EXPECT_FALSE(r->feedback.has_value());
  EXPECT_TRUE(r->stamp.campaign.empty());
  EXPECT_EQ(r->folder, "Hard");
  EXPECT_EQ(r->suppressed.size(), 1u);
}

TEST_F(BounceIngestTest, SoftBounceCountsSurviveASpoolRestart) {
  auto [campaign, recipient] = DeliveredCampaignRecipient();
  // The same address in a later campaign, soft-bounced after the restart.
  auto [later_campaign, later_recipient] = DeliveredCampaignRecipient();
  Ingester(/*soft_limit=*/2);
  std::string raw =
      ReadFile(fs::path(SALVO_SOURCE_DIR) / "tests/dsn/corpus/yahoo_plain_mailbox_full.eml");
  std::string verp = VerpAddress(recipient);
  absl::StatusOr<IngestResult> first = Ingest(ReplaceAll(raw, kCorpusToken, verp), verp);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->suppressed.empty());
  ASSERT_TRUE(first->feedback.has_value());
  EXPECT_EQ(first->feedback_category, "quota-issues");
  ReopenSpool();
  Ingester(/*soft_limit=*/2);
  std::string later_verp = VerpAddress(later_recipient);
  absl::StatusOr<IngestResult> second =
      Ingest(ReplaceAll(raw, kCorpusToken, later_verp), later_verp);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->suppressed.size(), 1u);
  EXPECT_EQ(Suppression(first->stamp.recipient)->source, "soft-bounce");
  EXPECT_EQ(spool_->GetCampaign(campaign)->counters.bounced, 1u);
  EXPECT_EQ(spool_->GetCampaign(later_campaign)->counters.bounced, 1u);
}

// A remote MTA that sends its DSN again (it saw no 250 in time) must not
// count the bounce, or its soft bounce, a second time.
TEST_F(BounceIngestTest, ADsnSentTwiceCountsOnce) {
  auto [campaign, recipient] = DeliveredCampaignRecipient();
  Ingester(/*soft_limit=*/2);
  std::string raw =
      ReadFile(fs::path(SALVO_SOURCE_DIR) / "tests/dsn/corpus/yahoo_plain_mailbox_full.eml");
  std::string verp = VerpAddress(recipient);
  std::string dsn = ReplaceAll(raw, kCorpusToken, verp);
  absl::StatusOr<IngestResult> first = Ingest(dsn, verp);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<IngestResult> again = Ingest(dsn, verp);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->suppressed.empty());  // one soft bounce, below the limit of 2
  EXPECT_EQ(again->stamp.campaign, campaign.ToString());
  EXPECT_EQ(spool_->GetCampaign(campaign)->counters.bounced, 1u);
  EXPECT_EQ(FeedbackEvents(campaign).size(), 1u);
}

}  // namespace
}  // namespace salvo::bounce
