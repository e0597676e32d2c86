// Campaign feedback in the spool on a real RocksDB (queue/feedback.h): the
// attribution record written with a campaign recipient's delivered outcome
// (absent for failures and single messages, dropped by the retention
// DeleteRange, kept across reopen), RecordCampaignFeedback's counters,
// events and report rows, NotFound for what cannot be attributed, and the
// durable soft-bounce counts (limit within a window, across reopen, several
// in one group commit, expired records deleted).
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "queue/spool.h"
#include "spool_fixture.h"

namespace salvo::queue {
namespace {

using testing::Recipients;
using testing::SpoolTest;
using K = DeliveryOutcome::Kind;

DeliveryOutcome Outcome(K kind, int code) {
  return {.kind = kind, .response = {.host = "mx.example.com", .code = code, .text = "text"}};
}

CampaignFeedback Bounce(RecipientId id, std::string category = "bad-mailbox") {
  return {.recipient = id,
          .kind = FeedbackKind::kBounced,
          .category = std::move(category),
          .address = "User0@Example.COM",
          .detail = "5.1.1 user unknown"};
}

// Keys in one column family of a closed spool, read with RocksDB directly.
size_t CountKeys(const std::string& path, const std::string& cf_name) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, cfs, &handles, &raw).ok());
  size_t n = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != cf_name) continue;
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  }
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
  return n;
}

class FeedbackTest : public SpoolTest {
 protected:
  // A closed campaign of `n` recipients, all leased: `due_` holds them.
  CampaignId Campaign(int n) {
    auto id = spool_->CreateCampaign(queue::Campaign{}).Wait();
    EXPECT_TRUE(id.ok()) << id.status();
    EXPECT_TRUE(spool_->AddCampaignRecipients(*id, Recipients(n)).Wait().ok());
    EXPECT_TRUE(spool_->CloseCampaign(*id).Wait().ok());
    due_ = spool_->TakeDue(100);
    EXPECT_EQ(due_.size(), static_cast<size_t>(n));
    return *id;
  }
  void Record(const DueRecipient& due, K kind, int code) {
    auto r = spool_->RecordOutcome(due, Outcome(kind, code)).Wait();
    ASSERT_TRUE(r.ok()) << r.status();
  }
  CampaignCounters Counters(CampaignId id) { return spool_->GetCampaign(id).value().counters; }
  std::vector<DeliveryEvent> FeedbackEvents(CampaignId id) {
    auto events = spool_->ReadCampaignEvents(id, EventId(), 1000).Wait();
    EXPECT_TRUE(events.ok()) << events.status();
    std::vector<DeliveryEvent> out;
    for (auto& e : *events) {
      if (e.feedback) out.push_back(e);
    }
    return out;
  }

  std::vector<DueRecipient> due_;
};

TEST_F(FeedbackTest, ABounceOfADeliveredRecipientCountsAndLeavesAnEvent) {
  Open();
  CampaignId id = Campaign(3);
  Record(due_[0], K::kDelivered, 250);
  Record(due_[1], K::kFailed, 550);
  Record(due_[2], K::kDeferred, 451);

  auto r = spool_->RecordCampaignFeedback(Bounce(due_[0].id)).Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->campaign, id);
  // A synchronous failure and a deferral have no attribution record.
  EXPECT_TRUE(absl::IsNotFound(spool_->RecordCampaignFeedback(Bounce(due_[1].id)).Wait().status()));
  EXPECT_TRUE(absl::IsNotFound(spool_->RecordCampaignFeedback(Bounce(due_[2].id)).Wait().status()));
  EXPECT_TRUE(absl::IsNotFound(
      spool_->RecordCampaignFeedback(Bounce(NewId<RecipientId>())).Wait().status()));
  CampaignFeedback complaint{.recipient = due_[0].id,
                             .kind = FeedbackKind::kComplained,
                             .category = "complaint",
                             .address = "user0@example.com"};
  ASSERT_TRUE(spool_->RecordCampaignFeedback(complaint).Wait().ok());

  CampaignCounters c = Counters(id);
  EXPECT_EQ(c.bounced, 1u);
  EXPECT_EQ(c.complained, 1u);
  EXPECT_EQ(c.delivered, 1u);  // feedback is not an outcome
  std::vector<DeliveryEvent> events = FeedbackEvents(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, r->event);
  EXPECT_EQ(*events[0].feedback, FeedbackKind::kBounced);
  EXPECT_EQ(events[0].category, "bad-mailbox");
  EXPECT_EQ(events[0].address, "user0@example.com");  // normalised
  EXPECT_EQ(events[0].recipient, due_[0].id);
  EXPECT_EQ(events[0].content, id);
  EXPECT_EQ(events[0].reason, "5.1.1 user unknown");
  EXPECT_EQ(*events[1].feedback, FeedbackKind::kComplained);
  ExpectConsistent();
}

TEST_F(FeedbackTest, SingleMessagesAreNotAttributed) {
  Open();
  Accept(1);
  auto due = spool_->TakeDue(10);
  ASSERT_EQ(due.size(), 1u);
  Record(due[0], K::kDelivered, 250);
  EXPECT_TRUE(absl::IsNotFound(spool_->RecordCampaignFeedback(Bounce(due[0].id)).Wait().status()));
  spool_.reset();
  EXPECT_EQ(CountKeys(Options().path, "attributions"), 0u);
}

TEST_F(FeedbackTest, AttributionAndFeedbackSurviveReopen) {
  Open();
  CampaignId id = Campaign(2);
  Record(due_[0], K::kDelivered, 250);
  Record(due_[1], K::kDelivered, 250);
  Reopen();
  ASSERT_TRUE(spool_->RecordCampaignFeedback(Bounce(due_[0].id)).Wait().ok());
  ASSERT_TRUE(spool_->RecordCampaignFeedback(Bounce(due_[1].id, "quota-issues")).Wait().ok());
  Reopen();
  EXPECT_EQ(Counters(id).bounced, 2u);
  EXPECT_EQ(FeedbackEvents(id).size(), 2u);

  auto report = spool_->ReportCampaign(id).Wait();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->events, 2u);  // the delivery events, as before
  EXPECT_EQ(report->outcomes.delivered, 2u);
  EXPECT_EQ(report->feedback_events, 2u);
  EXPECT_EQ(report->feedback.bounced, 2u);
  ASSERT_EQ(report->feedback_categories.size(), 2u);
  EXPECT_EQ(report->feedback_categories[0].category, "bad-mailbox");
  EXPECT_EQ(report->feedback_categories[1].category, "quota-issues");
  EXPECT_EQ(report->feedback_categories[1].count, 1u);
}

TEST_F(FeedbackTest, TheRetentionDropsOldAttributions) {
  Open();
  CampaignId id = Campaign(2);
  Record(due_[0], K::kDelivered, 250);
  Record(due_[1], K::kDelivered, 250);
  // Within the retention (30 days): kept.
  ASSERT_TRUE(spool_->ExpireFeedback(absl::Now() + absl::Hours(24)).Wait().ok());
  ASSERT_TRUE(spool_->RecordCampaignFeedback(Bounce(due_[0].id)).Wait().ok());
  // Past it: one DeleteRange drops both.
  ASSERT_TRUE(spool_->ExpireFeedback(absl::Now() + absl::Hours(31 * 24)).Wait().ok());
  EXPECT_TRUE(absl::IsNotFound(spool_->RecordCampaignFeedback(Bounce(due_[1].id)).Wait().status()));
  EXPECT_EQ(Counters(id).bounced, 1u);
  spool_.reset();
  EXPECT_EQ(CountKeys(Options().path, "attributions"), 0u);
}

TEST_F(FeedbackTest, ZeroRetentionWritesNoAttribution) {
  SpoolOptions o = Options();
  o.feedback_retention = absl::ZeroDuration();
  Open(o);
  Campaign(1);
  Record(due_[0], K::kDelivered, 250);
  EXPECT_TRUE(absl::IsNotFound(spool_->RecordCampaignFeedback(Bounce(due_[0].id)).Wait().status()));
}

TEST_F(FeedbackTest, AnUnsubscribeNamesItsCampaign) {
  Open();
  CampaignId id = Campaign(1);  // not delivered yet: the token names the campaign
  CampaignFeedback unsubscribe{.recipient = due_[0].id,
                               .campaign = id,
                               .kind = FeedbackKind::kUnsubscribed,
                               .category = "one-click",
                               .address = "user0@example.com"};
  ASSERT_TRUE(spool_->RecordCampaignFeedback(unsubscribe).Wait().ok());
  EXPECT_EQ(Counters(id).unsubscribed, 1u);
  auto report = spool_->ReportCampaign(id).Wait();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->feedback.unsubscribed, 1u);
  unsubscribe.campaign = NewId<CampaignId>();
  EXPECT_TRUE(absl::IsNotFound(spool_->RecordCampaignFeedback(unsubscribe).Wait().status()));
  Reopen();
  EXPECT_EQ(Counters(id).unsubscribed, 1u);
}

// A DSN the remote MTA sends twice, or a second click on unsubscribe, must
// not count twice: the attribution record remembers what was counted.
TEST_F(FeedbackTest, TheSameFeedbackCountsOncePerRecipientAndKind) {
  Open();
  CampaignId id = Campaign(2);
  Record(due_[0], K::kDelivered, 250);
  Record(due_[1], K::kDelivered, 250);
  SoftBouncePolicy p{.limit = 2, .window = absl::Hours(24)};
  CampaignFeedback soft = Bounce(due_[0].id, "quota-issues");
  soft.soft = p;
  auto first = spool_->RecordCampaignFeedback(soft).Wait();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->duplicate);
  auto again = spool_->RecordCampaignFeedback(soft).Wait();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->campaign, id);
  EXPECT_FALSE(again->soft_limit_reached);  // the repeat counted no second soft bounce
  // Another kind for the same recipient, and the same kind for another one, count.
  CampaignFeedback complaint{.recipient = due_[0].id,
                             .kind = FeedbackKind::kComplained,
                             .category = "complaint",
                             .address = "user0@example.com"};
  ASSERT_FALSE(spool_->RecordCampaignFeedback(complaint).Wait()->duplicate);
  ASSERT_FALSE(spool_->RecordCampaignFeedback(Bounce(due_[1].id)).Wait()->duplicate);
  // An unsubscribe naming its campaign is deduplicated too, across a reopen.
  CampaignFeedback unsubscribe{.recipient = due_[1].id,
                               .campaign = id,
                               .kind = FeedbackKind::kUnsubscribed,
                               .category = "one-click",
                               .address = "user1@example.com"};
  ASSERT_FALSE(spool_->RecordCampaignFeedback(unsubscribe).Wait()->duplicate);
  Reopen();
  ASSERT_TRUE(spool_->RecordCampaignFeedback(unsubscribe).Wait()->duplicate);
  ASSERT_TRUE(spool_->RecordCampaignFeedback(soft).Wait()->duplicate);

  CampaignCounters c = Counters(id);
  EXPECT_EQ(c.bounced, 2u);
  EXPECT_EQ(c.complained, 1u);
  EXPECT_EQ(c.unsubscribed, 1u);
  EXPECT_EQ(FeedbackEvents(id).size(), 4u);
  // The soft bounce was counted once: one more reaches the limit of 2.
  auto second_soft = spool_->CountSoftBounce("user0@example.com", p).Wait();
  ASSERT_TRUE(second_soft.ok());
  EXPECT_TRUE(*second_soft);
  ExpectConsistent();
}

TEST_F(FeedbackTest, RepeatsInOneGroupCommitCountOnce) {
  Open();
  CampaignId id = Campaign(1);
  Record(due_[0], K::kDelivered, 250);
  constexpr int kConcurrent = 8;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, counted = 0;
  for (int i = 0; i < kConcurrent; ++i) {
    spool_->RecordCampaignFeedback(Bounce(due_[0].id)).Then([&](absl::StatusOr<FeedbackResult> r) {
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok() && !r->duplicate) ++counted;
      ++done;
      cv.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == kConcurrent; }));
  }
  EXPECT_EQ(counted, 1);
  EXPECT_EQ(Counters(id).bounced, 1u);
  EXPECT_EQ(FeedbackEvents(id).size(), 1u);
}

// The limit/window rule of the former in-memory counter, now durable.
TEST_F(FeedbackTest, SoftBouncesSuppressAtTheLimitWithinTheWindowAcrossReopen) {
  Open();
  SoftBouncePolicy p{.limit = 3, .window = absl::Hours(24)};
  absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  auto count = [&](const char* address, absl::Time t) {
    auto r = spool_->CountSoftBounce(address, p, t).Wait();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && *r;
  };
  EXPECT_FALSE(count("a@example.com", t0));
  EXPECT_FALSE(count("A@Example.com", t0 + absl::Hours(1)));
  EXPECT_FALSE(count("b@example.com", t0 + absl::Hours(1)));
  Reopen();
  EXPECT_TRUE(count("a@example.com", t0 + absl::Hours(2)));
  // The count starts again after a suppression.
  EXPECT_FALSE(count("a@example.com", t0 + absl::Hours(3)));
  // Bounces older than the window no longer count.
  EXPECT_FALSE(count("b@example.com", t0 + absl::Hours(30)));
  Reopen();
  EXPECT_FALSE(count("b@example.com", t0 + absl::Hours(31)));
  EXPECT_TRUE(count("b@example.com", t0 + absl::Hours(32)));
}

TEST_F(FeedbackTest, ASoftBounceCountsInTheFeedbackWrite) {
  Open();
  // Two deliveries to the same address (Bounce() names User0@Example.COM for
  // both), each soft-bounced once.
  CampaignId id = Campaign(2);
  Record(due_[0], K::kDelivered, 250);
  Record(due_[1], K::kDelivered, 250);
  CampaignFeedback fb = Bounce(due_[0].id, "quota-issues");
  fb.soft = SoftBouncePolicy{.limit = 2, .window = absl::Hours(24)};
  auto first = spool_->RecordCampaignFeedback(fb).Wait();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->soft_limit_reached);
  fb.recipient = due_[1].id;
  auto second = spool_->RecordCampaignFeedback(fb).Wait();
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->soft_limit_reached);
  EXPECT_EQ(Counters(id).bounced, 2u);
}

TEST_F(FeedbackTest, SoftBouncesInOneGroupCommitAllCount) {
  Open();
  SoftBouncePolicy p{.limit = 9, .window = absl::Hours(24)};
  constexpr int kConcurrent = 8;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, reached = 0;
  for (int i = 0; i < kConcurrent; ++i) {
    spool_->CountSoftBounce("same@example.com", p).Then([&](absl::StatusOr<bool> r) {
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_TRUE(r.ok());
      if (r.ok() && *r) ++reached;
      ++done;
      cv.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == kConcurrent; }));
  }
  EXPECT_EQ(reached, 0);
  auto ninth = spool_->CountSoftBounce("same@example.com", p).Wait();
  ASSERT_TRUE(ninth.ok());
  EXPECT_TRUE(*ninth);  // none of the eight was lost
}

TEST_F(FeedbackTest, ExpiredSoftBounceCountsAreDeleted) {
  Open();
  SoftBouncePolicy p{.limit = 5, .window = absl::Hours(24)};
  absl::Time t0 = absl::Now();
  for (int i = 0; i < 20; ++i) {
    std::string address = "user" + std::to_string(i) + "@example.com";
    ASSERT_TRUE(spool_->CountSoftBounce(address, p, t0 + absl::Hours(i < 10 ? 0 : 20)).Wait().ok());
  }
  ASSERT_TRUE(spool_->ExpireFeedback(t0 + absl::Hours(30)).Wait().ok());
  spool_.reset();
  EXPECT_EQ(CountKeys(Options().path, "soft_bounces"), 10u);  // the later ten remain
}

// A schema 2 spool (no attributions, no soft_bounces) opens as is: the new
// column families start empty and the schema becomes 3.
TEST_F(FeedbackTest, ASchemaTwoSpoolOpensAndIsMarkedThree) {
  Open();
  CampaignId id = Campaign(2);
  Record(due_[0], K::kDelivered, 250);
  spool_.reset();
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), Options().path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const std::string& name : names) cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), Options().path, cfs, &handles, &raw).ok());
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "attributions" || names[i] == "soft_bounces") {
        ASSERT_TRUE(raw->DropColumnFamily(handles[i]).ok());
      }
    }
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), "schema", "\x02").ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  Open();
  // The record written under schema 3 went with its column family.
  EXPECT_TRUE(absl::IsNotFound(spool_->RecordCampaignFeedback(Bounce(due_[0].id)).Wait().status()));
  auto due = spool_->TakeDue(10);
  ASSERT_EQ(due.size(), 1u);
  Record(due[0], K::kDelivered, 250);
  ASSERT_TRUE(spool_->RecordCampaignFeedback(Bounce(due[0].id)).Wait().ok());
  EXPECT_EQ(Counters(id).bounced, 1u);
  spool_.reset();
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), Options().path, &raw).ok());
  std::string schema;
  ASSERT_TRUE(raw->Get(rocksdb::ReadOptions(), "schema", &schema).ok());
  EXPECT_EQ(schema, "\x03");
  delete raw;
}

}  // namespace
}  // namespace salvo::queue
