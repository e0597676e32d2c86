// Campaigns in the spool on a real RocksDB: status and counters through a
// campaign's life, pause (TakeDue skips it, durable across reopen), resume,
// cancel (every recipient finalised with an event, leased ones finish), the
// per-campaign event index and report, and the suppression list.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cstdio>
#include <set>
#include <thread>

#include "queue/spool.h"
#include "spool_fixture.h"

namespace salvo::queue {
namespace {

using testing::Recipients;
using testing::SampleCampaign;
using testing::SpoolTest;

DeliveryOutcome Outcome(DeliveryOutcome::Kind kind, int code, std::string enhanced,
                        std::string reason = "") {
  return {.kind = kind,
          .response = {.host = "mx.example.com",
                       .code = code,
                       .enhanced_status = std::move(enhanced),
                       .text = "text"},
          .reason = std::move(reason)};
}

class CampaignTest : public SpoolTest {
 protected:
  CampaignId Create(int recipients, bool close = true, const std::string& domain = "example.com") {
    auto id = spool_->CreateCampaign(SampleCampaign()).Wait();
    EXPECT_TRUE(id.ok()) << id.status();
    if (recipients > 0) {
      auto added = spool_->AddCampaignRecipients(*id, Recipients(recipients, domain)).Wait();
      EXPECT_TRUE(added.ok()) << added.status();
    }
    if (close) {
      EXPECT_TRUE(spool_->CloseCampaign(*id).Wait().ok());
    }
    return *id;
  }
  CampaignInfo Info(CampaignId id) {
    auto info = spool_->GetCampaign(id);
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? *info : CampaignInfo{};
  }
  absl::StatusOr<CampaignInfo> Control(CampaignId id, CampaignControl c) {
    return spool_->ControlCampaign(id, c).Wait();
  }
  std::vector<DeliveryEvent> Events(CampaignId id) {
    auto events = spool_->ReadCampaignEvents(id, EventId(), 100000).Wait();
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? *events : std::vector<DeliveryEvent>{};
  }
};

TEST_F(CampaignTest, StatusAndCountersFollowOutcomesAndSurviveReopen) {
  Open();
  CampaignId id = Create(4, /*close=*/false);
  CampaignInfo info = Info(id);
  EXPECT_EQ(info.status, CampaignStatus::kOpen);
  EXPECT_EQ(info.settings.name, "spring");
  EXPECT_EQ(info.settings.metadata.size(), 1u);
  EXPECT_EQ(info.counters.accepted, 4u);
  EXPECT_EQ(info.counters.queued(), 4u);
  ASSERT_TRUE(spool_->CloseCampaign(id).Wait().ok());
  EXPECT_EQ(Info(id).status, CampaignStatus::kClosed);

  auto due = spool_->TakeDue(10);
  ASSERT_EQ(due.size(), 4u);
  using K = DeliveryOutcome::Kind;
  ASSERT_TRUE(spool_->RecordOutcome(due[0], Outcome(K::kDelivered, 250, "2.0.0")).Wait().ok());
  ASSERT_TRUE(spool_->RecordOutcome(due[1], Outcome(K::kDeferred, 451, "4.7.1")).Wait().ok());
  ASSERT_TRUE(spool_->RecordOutcome(due[2], Outcome(K::kFailed, 550, "5.1.1")).Wait().ok());
  ASSERT_TRUE(spool_->RecordOutcome(due[3], Outcome(K::kFailed, 0, "", "suppressed: on the list"))
                  .Wait()
                  .ok());
  info = Info(id);
  EXPECT_EQ(info.status, CampaignStatus::kRunning);
  EXPECT_EQ(info.counters.delivered, 1u);
  EXPECT_EQ(info.counters.deferred, 1u);
  EXPECT_EQ(info.counters.deferrals, 1u);
  EXPECT_EQ(info.counters.failed, 1u);
  EXPECT_EQ(info.counters.suppressed, 1u);
  EXPECT_EQ(info.counters.queued(), 0u);
  CampaignFeedback bounce{.recipient = due[0].id, .kind = FeedbackKind::kBounced};
  ASSERT_TRUE(spool_->RecordCampaignFeedback(bounce).Wait().ok());

  Reopen();
  CampaignInfo again = Info(id);
  CampaignCounters expected = info.counters;
  expected.bounced = 1;
  EXPECT_EQ(again.counters, expected);
  EXPECT_EQ(again.counters.deferred, 1u);
  EXPECT_EQ(again.status, CampaignStatus::kRunning);
  EXPECT_EQ(again.settings.envelope_from, "news@shop.example");

  // The deferred one is delivered at its retry: the campaign completes and
  // its status outlives its content.
  due = spool_->TakeDue(10, absl::Now() + absl::Minutes(2));
  ASSERT_EQ(due.size(), 1u);
  ASSERT_TRUE(spool_->RecordOutcome(due[0], Outcome(K::kDelivered, 250, "2.0.0")).Wait().ok());
  info = Info(id);
  EXPECT_EQ(info.status, CampaignStatus::kCompleted);
  EXPECT_EQ(info.counters.delivered, 2u);
  EXPECT_EQ(info.counters.deferred, 0u);
  EXPECT_FALSE(spool_->ReadContent(id).Wait().ok());
  Reopen();
  EXPECT_EQ(Info(id).status, CampaignStatus::kCompleted);
  EXPECT_EQ(Control(id, CampaignControl::kPause).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Events(id).size(), 6u);  // five delivery events and the bounce
  ExpectConsistent();
}

TEST_F(CampaignTest, PausedCampaignIsNotHandedOutEvenAfterReopen) {
  Open();
  CampaignId paused = Create(3);
  AcceptedMessage single = Accept(1);
  auto info = Control(paused, CampaignControl::kPause);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->status, CampaignStatus::kPaused);
  EXPECT_TRUE(Control(paused, CampaignControl::kPause).ok());  // idempotent
  auto due = spool_->TakeDue(10);
  ASSERT_EQ(due.size(), 1u);  // only the single message's recipient
  EXPECT_EQ(due[0].content, single.id);
  ASSERT_TRUE(spool_->Release(due[0]).ok());

  Reopen();
  EXPECT_EQ(Info(paused).status, CampaignStatus::kPaused);
  due = spool_->TakeDue(10, absl::Now() + absl::Minutes(1));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].content, single.id);
  EXPECT_EQ(spool_->stats().queued, 4u);  // still queued, only parked

  info = Control(paused, CampaignControl::kResume);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->status, CampaignStatus::kClosed);
  due = spool_->TakeDue(10, absl::Now() + absl::Minutes(1));
  EXPECT_EQ(due.size(), 3u);
  for (const DueRecipient& d : due) EXPECT_EQ(d.content, paused);
  EXPECT_EQ(Control(queue::ContentId(1, 2), CampaignControl::kPause).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Control(single.id, CampaignControl::kPause).status().code(),
            absl::StatusCode::kNotFound);  // a message is not a campaign
  ExpectConsistent();
}

TEST_F(CampaignTest, CancelFinalisesEveryRecipientWithAnEvent) {
  Open();
  CampaignId id = Create(10000, /*close=*/false);
  auto leased = spool_->TakeDue(2);
  ASSERT_EQ(leased.size(), 2u);
  using K = DeliveryOutcome::Kind;
  ASSERT_TRUE(spool_->RecordOutcome(leased[1], Outcome(K::kDeferred, 451, "4.7.1")).Wait().ok());
  absl::Time start = absl::Now();
  auto info = Control(id, CampaignControl::kCancel);
  std::printf("cancel of 9,999 queued recipients: %.0f ms\n",
              absl::ToDoubleMilliseconds(absl::Now() - start));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->status, CampaignStatus::kCancelled);
  EXPECT_EQ(info->counters.cancelled, 9999u);  // all but the one still leased
  EXPECT_EQ(info->counters.deferred, 0u);
  // The leased one finishes its attempt; a deferral brings it back to be
  // cancelled on its next turn.
  ASSERT_TRUE(spool_->RecordOutcome(leased[0], Outcome(K::kDeferred, 451, "4.7.1")).Wait().ok());
  EXPECT_TRUE(spool_->TakeDue(10, absl::Now() + absl::Hours(1) - absl::Seconds(1)).empty());
  for (int i = 0; i < 100 && spool_->stats().queued > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  info = Info(id);
  EXPECT_EQ(info->counters.cancelled, 10000u);
  EXPECT_EQ(info->counters.queued(), 0u);
  EXPECT_EQ(spool_->stats().queued, 0u);
  EXPECT_FALSE(spool_->ReadContent(id).Wait().ok());  // content gone with its last recipient

  start = absl::Now();
  auto report = spool_->ReportCampaign(id).Wait();
  std::printf("report over 10,002 events: %.0f ms\n",
              absl::ToDoubleMilliseconds(absl::Now() - start));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->outcomes.cancelled, 10000u);
  EXPECT_EQ(report->outcomes.deferred, 2u);
  std::vector<DeliveryEvent> events = Events(id);
  size_t cancelled = 0;
  std::set<RecipientId> recipients;
  for (const DeliveryEvent& e : events) {
    if (e.reason == "cancelled") {
      ++cancelled;
      EXPECT_EQ(e.kind, RecipientState::kFailed);
      EXPECT_FALSE(e.address.empty());
      recipients.insert(e.recipient);
    }
  }
  EXPECT_EQ(cancelled, 10000u);
  EXPECT_EQ(recipients.size(), 10000u);
  EXPECT_EQ(Control(id, CampaignControl::kResume).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Control(id, CampaignControl::kCancel).ok());  // idempotent
  EXPECT_FALSE(spool_->AddCampaignRecipients(id, Recipients(1)).Wait().ok());
  Reopen();
  EXPECT_EQ(Info(id).status, CampaignStatus::kCancelled);
  EXPECT_EQ(Info(id).counters.cancelled, 10000u);
  ExpectConsistent();
}

TEST_F(CampaignTest, CancelTakesAPausedCampaignsParkedRecipients) {
  Open();
  CampaignId id = Create(50);
  ASSERT_TRUE(Control(id, CampaignControl::kPause).ok());
  EXPECT_TRUE(spool_->TakeDue(100).empty());  // parks them
  ASSERT_TRUE(Control(id, CampaignControl::kCancel).ok());
  EXPECT_EQ(Info(id).counters.cancelled, 50u);
  Reopen();
  EXPECT_EQ(spool_->stats().queued, 0u);
  ExpectConsistent();
}

TEST_F(CampaignTest, EventsAreIndexedPerCampaignAndReported) {
  Open();
  CampaignId a = Create(6, true, "a.example");
  CampaignId b = Create(2, true, "b.example");
  auto due = spool_->TakeDue(100);
  ASSERT_EQ(due.size(), 8u);
  using K = DeliveryOutcome::Kind;
  int n = 0;
  for (const DueRecipient& d : due) {
    DeliveryOutcome o = d.content == b || n++ % 2 == 0 ? Outcome(K::kDelivered, 250, "2.0.0")
                                                       : Outcome(K::kFailed, 550, "5.1.1");
    ASSERT_TRUE(spool_->RecordOutcome(d, o, d.accepted_at + absl::Seconds(30)).Wait().ok());
  }
  std::vector<DeliveryEvent> events = Events(a);
  ASSERT_EQ(events.size(), 6u);
  for (const DeliveryEvent& e : events) EXPECT_EQ(e.content, a);
  auto page = spool_->ReadCampaignEvents(a, events[2].id, 2).Wait();
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, events[3].id);

  auto report = spool_->ReportCampaign(a).Wait();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->events, 6u);
  EXPECT_EQ(report->outcomes.delivered, 3u);
  EXPECT_EQ(report->outcomes.failed, 3u);
  ASSERT_EQ(report->domains.size(), 1u);
  EXPECT_EQ(report->domains[0].first, "a.example");
  ASSERT_EQ(report->replies.size(), 2u);
  EXPECT_EQ(report->replies[0].second, 3u);
  ASSERT_TRUE(report->p50.has_value());
  // 30 s (plus the id's sub-second part), within the histogram's 5%.
  EXPECT_GE(*report->p50, absl::Seconds(29));
  EXPECT_LE(*report->p99, absl::Seconds(33));
  EXPECT_EQ(spool_->ReportCampaign(ContentId(7, 7)).Wait().status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CampaignTest, SuppressionsArePagedInAddressOrderAndAddedAtomically) {
  Open();
  std::vector<SuppressionEntry> entries;
  for (int i = 0; i < 25; ++i) {
    entries.push_back(
        {.address = fmt::format("U{:02}@Example.com", i), .reason = "r", .source = "api"});
  }
  ASSERT_TRUE(spool_->AddSuppressions(entries).Wait().ok());
  std::vector<std::string> seen;
  std::string after;
  for (int page = 0; page < 10; ++page) {
    auto list = spool_->ListSuppressions(after, 10).Wait();
    ASSERT_TRUE(list.ok()) << list.status();
    if (list->empty()) break;
    for (const auto& e : *list) seen.push_back(e.address);
    after = list->back().address;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "u00@example.com");
  EXPECT_EQ(seen.back(), "u24@example.com");
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

// A schema 1 spool (no campaign records, no event index) is upgraded at
// open: its campaigns get records with what is still queued.
TEST_F(CampaignTest, ASchemaOneSpoolIsUpgraded) {
  Open();
  CampaignId id = Create(3);
  spool_.reset();
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), Options().path, &names).ok());
    for (const std::string& name : names) cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), Options().path, cfs, &handles, &raw).ok());
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "campaigns") {
        ASSERT_TRUE(raw->DropColumnFamily(handles[i]).ok());
      }
    }
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), "schema", "\x01").ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  Open();
  CampaignInfo info = Info(id);
  EXPECT_EQ(info.settings.name, "spring");
  EXPECT_EQ(info.counters.accepted, 3u);
  EXPECT_EQ(info.status, CampaignStatus::kClosed);
  Reopen();  // the records were written
  EXPECT_EQ(Info(id).counters.accepted, 3u);
  ExpectConsistent();
}

}  // namespace
}  // namespace salvo::queue
