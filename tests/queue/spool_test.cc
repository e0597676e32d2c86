// The spool on a real RocksDB: accepts, leases, outcomes, expiry, refcounted
// content removal and recovery. Times are passed explicitly where the test
// needs to be in the future, so nothing sleeps.
#include "queue/spool.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <sstream>
#include <thread>

#include "spool_fixture.h"

namespace salvo::queue {
namespace {

using testing::AllEvents;
using testing::Deferred;
using testing::Delivered;
using testing::Failed;
using testing::Recipients;
using testing::SampleMessage;
using testing::SpoolTest;

TEST_F(SpoolTest, AcceptedMessageIsStoredOnceForAllItsRecipients) {
  Open();
  AcceptedMessage m = Accept(3);
  ASSERT_EQ(m.recipients.size(), 3u);
  auto content = spool_->ReadContent(m.id).Wait();
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_EQ(std::get<Message>(*content), SampleMessage());
  for (int i = 0; i < 3; ++i) {
    auto r = spool_->ReadRecipient(m.id, m.recipients[i]).Wait();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->address, "user" + std::to_string(i) + "@example.com");
    EXPECT_EQ(r->variables, (Variables{{"name", "User " + std::to_string(i)}}));
    EXPECT_EQ(r->dsn.orcpt, "rfc822;orig" + std::to_string(i));
    EXPECT_EQ(r->state, RecipientState::kQueued);
    EXPECT_EQ(r->attempts, 0);
    EXPECT_EQ(r->next_attempt, r->accepted_at);
  }
  auto listed = spool_->ListRecipients(m.id).Wait();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, m.recipients);  // time order
  EXPECT_EQ(spool_->stats().queued, 3u);
  ExpectConsistent();
}

TEST_F(SpoolTest, RejectsBadRequestsWithoutWritingAnything) {
  Open();
  auto none = spool_->AcceptMessage(SampleMessage(), {}).Wait();
  EXPECT_TRUE(absl::IsInvalidArgument(none.status())) << none.status();
  for (std::string bad :
       {"", "no-at-sign", "@example.com", "user@", "a b@example.com", "user@exa\r\nmple.com"}) {
    auto r = spool_->AcceptMessage(SampleMessage(), {{.address = bad}}).Wait();
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << bad;
  }
  auto unknown = spool_->AddCampaignRecipients(NewId<ContentId>(), Recipients(1)).Wait();
  EXPECT_TRUE(absl::IsNotFound(unknown.status())) << unknown.status();
  EXPECT_TRUE(absl::IsNotFound(spool_->CloseCampaign(NewId<ContentId>()).Wait()));
  EXPECT_EQ(spool_->stats().queued, 0u);
  EXPECT_EQ(spool_->stats().contents, 0u);
  ExpectConsistent();
}

TEST_F(SpoolTest, TakeDueLeasesEachRecipientOnceUntilItsLeaseEnds) {
  Open();
  AcceptedMessage m = Accept(5, "Example.COM");
  absl::Time now = absl::Now() + absl::Seconds(1);
  auto due = spool_->TakeDue(3, now);
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].domain, "example.com");
  EXPECT_EQ(due[0].content, m.id);
  EXPECT_EQ(due[0].attempts, 0);
  EXPECT_EQ(spool_->TakeDue(10, now).size(), 2u);
  EXPECT_TRUE(spool_->TakeDue(10, now).empty());
  EXPECT_EQ(spool_->stats().in_flight, 5u);
  // Nobody reported back within the lease: they are handed out again.
  auto again = spool_->TakeDue(10, now + Options().lease + absl::Seconds(2));
  EXPECT_EQ(again.size(), 5u);
  EXPECT_EQ(spool_->stats().leases_lost, 5u);
  // The old leases are void.
  auto stale = spool_->RecordOutcome(due[0], Delivered()).Wait();
  EXPECT_TRUE(absl::IsFailedPrecondition(stale.status())) << stale.status();
}

TEST_F(SpoolTest, DeliveredRecipientsLeaveAndTheLastTakesTheContent) {
  Open();
  AcceptedMessage m = Accept(2);
  auto due = spool_->TakeDue(10, absl::Now() + absl::Seconds(1));
  ASSERT_EQ(due.size(), 2u);
  auto r1 = spool_->RecordOutcome(due[0], Delivered()).Wait();
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->state, RecipientState::kDelivered);
  EXPECT_TRUE(spool_->ReadContent(m.id).Wait().ok());  // one recipient left
  EXPECT_TRUE(absl::IsNotFound(spool_->ReadRecipient(m.id, due[0].id).Wait().status()));
  auto twice = spool_->RecordOutcome(due[0], Delivered()).Wait();
  EXPECT_TRUE(absl::IsFailedPrecondition(twice.status()));
  ASSERT_TRUE(spool_->RecordOutcome(due[1], Failed()).Wait().ok());
  EXPECT_TRUE(absl::IsNotFound(spool_->ReadContent(m.id).Wait().status()));
  EXPECT_EQ(spool_->stats().queued, 0u);
  EXPECT_EQ(spool_->stats().contents, 0u);
  auto events = AllEvents(*spool_);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, RecipientState::kDelivered);
  EXPECT_EQ(events[0].address, "user0@example.com");
  EXPECT_EQ(events[0].response.code, 250);
  EXPECT_EQ(events[0].attempts, 1);
  EXPECT_EQ(events[1].kind, RecipientState::kFailed);
  EXPECT_EQ(events[1].response.enhanced_status, "5.1.1");
  EXPECT_LT(events[0].id, events[1].id);
  ExpectConsistent();
}

// Delivery reads the records of a whole hand-over in one reader job; each
// answer belongs to its own recipient, in the order asked. The same job reads
// ahead the contents asked for, within the limits given.
TEST_F(SpoolTest, DeliveryReadsAHandOverInOneJob) {
  Open();
  AcceptedMessage m = Accept(3);
  AcceptedMessage other = Accept(2, "example.org");
  auto due = spool_->TakeDue(1, absl::Now() + absl::Seconds(1));
  ASSERT_EQ(due.size(), 1u);
  ASSERT_EQ(due[0].id, m.recipients[0]);
  EXPECT_TRUE(due[0].single_message);
  // The spool is given the address it has already read: the event has it.
  DeliveryOutcome delivered = Delivered();
  delivered.address = "user0@example.com";
  ASSERT_TRUE(spool_->RecordOutcome(due[0], delivered).Wait().ok());
  ASSERT_TRUE(spool_
                  ->AddSuppression(
                      {.address = "user2@example.com", .reason = "complained", .source = "api"})
                  .Wait()
                  .ok());
  std::vector<RecipientRef> refs = {{other.id, other.recipients[1]},
                                    {m.id, m.recipients[0]},      // delivered: gone
                                    {m.id, m.recipients[2]},      // suppressed since
                                    {m.id, other.recipients[0]},  // not m's
                                    {m.id, m.recipients[1]}};
  ContentId unknown = NewId<ContentId>();
  auto read = spool_
                  ->ReadForDelivery(refs, {other.id, unknown, m.id},
                                    {.max_content_bytes = 1 << 20, .max_total_bytes = 1 << 20})
                  .Wait();
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->recipients.size(), refs.size());
  const auto& r = read->recipients;
  ASSERT_TRUE(r[0].ok()) << r[0].status();
  EXPECT_EQ(r[0]->address, "user1@example.org");
  EXPECT_EQ(r[0]->id, other.recipients[1]);
  EXPECT_EQ(r[0]->content, other.id);
  EXPECT_FALSE(r[0]->suppressed);
  EXPECT_TRUE(absl::IsNotFound(r[1].status())) << r[1].status();
  ASSERT_TRUE(r[2].ok()) << r[2].status();
  EXPECT_TRUE(r[2]->suppressed);
  EXPECT_EQ(r[2]->suppression, "complained (api)");
  EXPECT_TRUE(absl::IsNotFound(r[3].status())) << r[3].status();
  ASSERT_TRUE(r[4].ok()) << r[4].status();
  EXPECT_EQ(r[4]->address, "user1@example.com");
  EXPECT_EQ(r[4]->variables, (Variables{{"name", "User 1"}}));
  EXPECT_EQ(r[4]->dsn.orcpt, "rfc822;orig1");
  ASSERT_EQ(read->contents.size(), 3u);
  ASSERT_TRUE(read->contents[0].has_value());
  EXPECT_EQ(std::get<Message>(*read->contents[0]), SampleMessage());
  EXPECT_FALSE(read->contents[1].has_value()) << "not in the spool";
  ASSERT_TRUE(read->contents[2].has_value());
  EXPECT_EQ(std::get<Message>(*read->contents[2]), SampleMessage());
  auto events = AllEvents(*spool_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].address, "user0@example.com");
}

TEST_F(SpoolTest, ContentsAreReadAheadOnlyWithinTheLimits) {
  Open();
  // Records of about 1,000 bytes: a little more than their message text.
  std::string body = "Subject: big\r\n\r\n" + std::string(1000, 'x') + "\r\n";
  size_t one = body.size();
  auto accept = [&] {
    auto r = spool_->AcceptMessage(SampleMessage(body), Recipients(1)).Wait();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : AcceptedMessage{};
  };
  AcceptedMessage a = accept(), b = accept(), c = accept();
  auto limited = [&](ReadAheadLimits limits) {
    auto read = spool_->ReadForDelivery({}, {a.id, b.id, c.id}, limits).Wait();
    EXPECT_TRUE(read.ok()) << read.status();
    int n = 0;
    for (const auto& content : read->contents) n += content.has_value();
    return n;
  };
  EXPECT_EQ(limited({.max_content_bytes = 4 * one, .max_total_bytes = 100 * one}), 3);
  EXPECT_EQ(limited({.max_content_bytes = one / 2, .max_total_bytes = 100 * one}), 0)
      << "each larger than the per-content limit";
  EXPECT_EQ(limited({.max_content_bytes = 4 * one, .max_total_bytes = one + one / 2}), 1)
      << "the total allows one and a half";
  EXPECT_EQ(limited({.max_content_bytes = 4 * one, .max_total_bytes = 0}), 0);
  auto none = spool_->ReadForDelivery({}, {}, {}).Wait();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->recipients.empty());
  EXPECT_TRUE(none->contents.empty());
}

TEST_F(SpoolTest, DeferredRecipientsFollowTheRetrySchedule) {
  Open();
  AcceptedMessage m = Accept(1);
  absl::Time t0 = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) + 1);
  auto due = spool_->TakeDue(1, t0);
  ASSERT_EQ(due.size(), 1u);
  auto r = spool_->RecordOutcome(due[0], Deferred(), t0).Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, RecipientState::kDeferred);
  EXPECT_EQ(r->next_attempt, t0 + absl::Minutes(1));
  auto stored = spool_->ReadRecipient(m.id, due[0].id).Wait();
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->state, RecipientState::kDeferred);
  EXPECT_EQ(stored->attempts, 1);
  EXPECT_EQ(stored->next_attempt, t0 + absl::Minutes(1));
  ASSERT_TRUE(stored->last_response.has_value());
  EXPECT_EQ(stored->last_response->code, 451);
  EXPECT_EQ(stored->last_response->text, "greylisted");

  EXPECT_TRUE(spool_->TakeDue(1, t0 + absl::Seconds(59)).empty());
  due = spool_->TakeDue(1, t0 + absl::Seconds(60));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].attempts, 1);
  // Second deferral: the next interval (10 min).
  r = spool_->RecordOutcome(due[0], Deferred("busy"), t0 + absl::Minutes(1)).Wait();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->next_attempt, t0 + absl::Minutes(11));
  // An explicit retry time wins over the policy.
  due = spool_->TakeDue(1, t0 + absl::Minutes(11));
  ASSERT_EQ(due.size(), 1u);
  DeliveryOutcome later = Deferred();
  later.retry_at = t0 + absl::Minutes(13);
  r = spool_->RecordOutcome(due[0], later, t0 + absl::Minutes(11)).Wait();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->next_attempt, t0 + absl::Minutes(13));
  auto events = AllEvents(*spool_);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kind, RecipientState::kDeferred);
  EXPECT_EQ(events[2].attempts, 3);
  EXPECT_EQ(events[2].next_attempt, t0 + absl::Minutes(13));
  ExpectConsistent();
}

TEST_F(SpoolTest, NoRecipientOutlivesItsMaximumAgeInAnyState) {
  Open();
  // Deferred past the max age (1 h): the last deferral turns into expiry.
  AcceptedMessage a = Accept(1);
  absl::Time now = absl::Now() + absl::Seconds(1);
  auto due = spool_->TakeDue(1, now);
  ASSERT_EQ(due.size(), 1u);
  auto r = spool_->RecordOutcome(due[0], Deferred(), now + absl::Minutes(61)).Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, RecipientState::kExpired);

  // A next attempt beyond the max age is pulled in to it, and then it expires.
  AcceptedMessage b = Accept(1);
  due = spool_->TakeDue(1, now);
  ASSERT_EQ(due.size(), 1u);
  r = spool_->RecordOutcome(due[0], Deferred(), now + absl::Seconds(59 * 60 + 30)).Wait();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->state, RecipientState::kDeferred);
  EXPECT_EQ(*r->next_attempt, absl::FromUnixSeconds(b.recipients[0].unix_ms() / 1000 + 3600));

  // Queued and never tried; and one leased but never reported back.
  AcceptedMessage c = Accept(1);
  AcceptedMessage d = Accept(1);
  due = spool_->TakeDue(10, now);
  ASSERT_EQ(due.size(), 2u);
  ASSERT_TRUE(spool_->Release(due[0], now).ok());  // c back to queued
  // Past the max age nothing is handed out: all three expire, at the sweep
  // (which first has the failure DSNs they owe made).
  EXPECT_TRUE(spool_->TakeDue(10, now + absl::Hours(2)).empty());
  EXPECT_EQ(spool_->SweepExpired(now + absl::Hours(2)), 3u);  // b, c and d
  for (int i = 0; i < 500 && spool_->stats().queued > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(spool_->stats().queued, 0u);
  EXPECT_EQ(spool_->stats().contents, 0u);
  std::set<RecipientId> expired;
  for (const auto& e : AllEvents(*spool_)) {
    if (e.kind == RecipientState::kExpired) expired.insert(e.recipient);
  }
  EXPECT_EQ(expired, (std::set<RecipientId>{a.recipients[0], b.recipients[0], c.recipients[0],
                                            d.recipients[0]}));
  ExpectConsistent();
}

TEST_F(SpoolTest, TheSweepExpiresQueuedRecipientsNobodyAskedFor) {
  Open();
  Accept(3);
  AcceptedMessage young =
      spool_->AcceptMessage(Message{.content = "x", .max_age = absl::Hours(48)}, Recipients(1))
          .Wait()
          .value();
  EXPECT_EQ(spool_->SweepExpired(absl::Now()), 0u);
  EXPECT_EQ(spool_->SweepExpired(absl::Now() + absl::Hours(2)), 3u);
  for (int i = 0; i < 500 && spool_->stats().queued > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(spool_->stats().queued, 1u);  // its own max age is 48 h
  EXPECT_EQ(spool_->stats().expired, 3u);
  EXPECT_TRUE(spool_->ReadContent(young.id).Wait().ok());
  ExpectConsistent();
}

TEST_F(SpoolTest, CampaignContentStaysUntilClosedAndItsLastRecipientIsDone) {
  Open();
  Campaign c;
  c.message_template.headers = {{"Subject", "Hi {{name}}"}};
  c.message_template.text = "Hello {{name}}";
  c.settings.name = "spring";
  auto id = spool_->CreateCampaign(c).Wait();
  ASSERT_TRUE(id.ok()) << id.status();
  auto first = spool_->AddCampaignRecipients(*id, Recipients(2, "a.example")).Wait();
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = spool_->AddCampaignRecipients(*id, Recipients(2, "b.example")).Wait();
  ASSERT_TRUE(second.ok());
  auto stored = spool_->ReadContent(*id).Wait();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(std::get<Campaign>(*stored), c);
  // Deliver everyone while the campaign is still open: the template stays.
  auto due = spool_->TakeDue(10, absl::Now() + absl::Seconds(1));
  ASSERT_EQ(due.size(), 4u);
  for (const auto& d : due) ASSERT_TRUE(spool_->RecordOutcome(d, Delivered()).Wait().ok());
  EXPECT_TRUE(spool_->ReadContent(*id).Wait().ok());
  ASSERT_TRUE(spool_->AddCampaignRecipients(*id, Recipients(1)).Wait().ok());
  ASSERT_TRUE(spool_->CloseCampaign(*id).Wait().ok());
  ASSERT_TRUE(spool_->CloseCampaign(*id).Wait().ok());  // idempotent
  auto closed = spool_->AddCampaignRecipients(*id, Recipients(1)).Wait();
  EXPECT_TRUE(absl::IsFailedPrecondition(closed.status())) << closed.status();
  due = spool_->TakeDue(10, absl::Now() + absl::Seconds(1));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(spool_->ReadContent(*id).Wait().ok());
  ASSERT_TRUE(spool_->RecordOutcome(due[0], Delivered()).Wait().ok());
  EXPECT_TRUE(absl::IsNotFound(spool_->ReadContent(*id).Wait().status()));

  // Closing a campaign whose recipients are all done removes it at once.
  auto empty = spool_->CreateCampaign(c).Wait();
  ASSERT_TRUE(empty.ok());
  ASSERT_TRUE(spool_->CloseCampaign(*empty).Wait().ok());
  EXPECT_TRUE(absl::IsNotFound(spool_->ReadContent(*empty).Wait().status()));
  EXPECT_EQ(spool_->stats().contents, 0u);
  ExpectConsistent();
}

TEST_F(SpoolTest, RecoveryRebuildsTheScheduleFromDisk) {
  Open();
  AcceptedMessage m1 = Accept(3, "one.example");
  AcceptedMessage m2 = Accept(2, "two.example");
  auto campaign = spool_->CreateCampaign(Campaign{}).Wait();
  ASSERT_TRUE(campaign.ok());
  ASSERT_TRUE(spool_->AddCampaignRecipients(*campaign, Recipients(2, "three.example")).Wait().ok());
  absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) + 1);
  auto due = spool_->TakeDue(2, now);  // m1's first two
  ASSERT_EQ(due.size(), 2u);
  ASSERT_TRUE(spool_->RecordOutcome(due[0], Delivered(), now).Wait().ok());
  ASSERT_TRUE(spool_->RecordOutcome(due[1], Deferred(), now).Wait().ok());
  spool_->TakeDue(1, now);  // leased when the process "dies": due again after restart

  Reopen();
  const RecoveryReport& rep = spool_->recovery();
  EXPECT_EQ(rep.recipients, 6u);
  EXPECT_EQ(rep.deferred, 1u);
  EXPECT_EQ(rep.contents, 3u);
  EXPECT_EQ(rep.repaired, 0u);
  ExpectConsistent();
  auto ready = spool_->TakeDue(100, now);
  EXPECT_EQ(ready.size(), 5u);  // all but the deferred one
  auto later = spool_->TakeDue(100, now + absl::Minutes(1));
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].id, due[1].id);
  EXPECT_EQ(later[0].attempts, 1);
  EXPECT_EQ(later[0].domain, "one.example");
  // The campaign is still open; m2 is untouched.
  EXPECT_TRUE(spool_->AddCampaignRecipients(*campaign, Recipients(1)).Wait().ok());
  EXPECT_TRUE(spool_->ReadContent(m2.id).Wait().ok());
  // Outcomes work on recovered recipients, and refcounts were rebuilt.
  for (const auto& d : ready) {
    if (d.content == m2.id) {
      ASSERT_TRUE(spool_->RecordOutcome(d, Delivered()).Wait().ok());
    }
  }
  EXPECT_TRUE(absl::IsNotFound(spool_->ReadContent(m2.id).Wait().status()));
  ExpectConsistent();
}

TEST_F(SpoolTest, RecoveryLogsHowManyRecipientsAndHowLong) {
  Open();
  Accept(3);
  Accept(2);
  spool_.reset();
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  Open();
  spdlog::set_default_logger(previous);
  EXPECT_NE(log.str().find("spool: recovered 5 recipients"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find(" ms "), std::string::npos) << log.str();
  EXPECT_EQ(spool_->recovery().recipients, 5u);
  EXPECT_GE(spool_->recovery().took, absl::ZeroDuration());
}

TEST_F(SpoolTest, DeferralsAreSpreadByTheJitter) {
  SpoolOptions o = Options();
  o.retry.intervals = {absl::Minutes(10)};
  o.retry.jitter = 0.5;
  Open(o);
  constexpr int kCount = 200;
  auto m = spool_->AcceptMessage(SampleMessage(), Recipients(kCount)).Wait();
  ASSERT_TRUE(m.ok()) << m.status();
  absl::Time t0 = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) + 1);
  auto due = spool_->TakeDue(kCount, t0);
  ASSERT_EQ(due.size(), size_t{kCount});
  // All outcomes at once (they share group commits), then wait for them.
  std::mutex mu;
  std::vector<absl::Time> next;
  std::atomic<int> failed{0};
  for (const auto& d : due) {
    spool_->RecordOutcome(d, Deferred(), t0).Then([&](absl::StatusOr<OutcomeResult> r) {
      if (!r.ok() || !r->next_attempt) {
        ++failed;
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      next.push_back(*r->next_attempt);
    });
  }
  for (int i = 0; i < 2000; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (next.size() + failed == size_t{kCount}) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(failed, 0);
  ASSERT_EQ(next.size(), size_t{kCount});
  std::sort(next.begin(), next.end());
  EXPECT_GE(next.front(), t0 + absl::Minutes(5));
  EXPECT_LE(next.back(), t0 + absl::Minutes(15));
  EXPECT_LT(next.front(), t0 + absl::Minutes(8));  // 200 draws really spread
  EXPECT_GT(next.back(), t0 + absl::Minutes(12));
  EXPECT_GT(std::unique(next.begin(), next.end()) - next.begin(), kCount / 2);
  // The schedule follows them: few are due early, all by the latest.
  EXPECT_TRUE(spool_->TakeDue(kCount, t0 + absl::Minutes(5) - absl::Seconds(1)).empty());
  EXPECT_EQ(spool_->TakeDue(kCount, next.back()).size(), size_t{kCount});
}

TEST_F(SpoolTest, TheSweepAlsoExpiresRecipientsWhoseLeaseRanOut) {
  Open();
  Accept(2);
  absl::Time now = absl::Now() + absl::Seconds(1);
  auto due = spool_->TakeDue(2, now);
  ASSERT_EQ(due.size(), 2u);
  // The engine holds the leases and never calls TakeDue again (paused):
  // within its lease a recipient is left alone, after it the sweep expires it.
  EXPECT_EQ(spool_->SweepExpired(now + absl::Minutes(14)), 0u);
  EXPECT_EQ(spool_->SweepExpired(now + absl::Hours(2)), 2u);
  for (int i = 0; i < 500 && spool_->stats().queued > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(spool_->stats().queued, 0u);
  EXPECT_EQ(spool_->stats().in_flight, 0u);
  auto late = spool_->RecordOutcome(due[0], Delivered()).Wait();
  EXPECT_TRUE(absl::IsFailedPrecondition(late.status())) << late.status();
  ExpectConsistent();
}

TEST_F(SpoolTest, TheIndexCostsAtMost64BytesPerQueuedRecipient) {
  Open();
  auto campaign = spool_->CreateCampaign(Campaign{}).Wait();
  ASSERT_TRUE(campaign.ok());
  constexpr int kBatches = 20, kBatch = 5000;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<NewRecipient> rcpts;
    for (int i = 0; i < kBatch; ++i) {
      int k = b * kBatch + i;
      rcpts.push_back({.address = fmt::format("u{}@d{}.example", k, k % 500),
                       .variables = {{"id", std::to_string(k)}}});
    }
    ASSERT_TRUE(spool_->AddCampaignRecipients(*campaign, std::move(rcpts)).Wait().ok());
  }
  SpoolStats s = spool_->stats();
  ASSERT_EQ(s.queued, size_t{kBatches * kBatch});
  EXPECT_EQ(s.domains, 500u);
  double per = static_cast<double>(s.index_bytes) / s.queued;
  std::printf("index: %.1f bytes per queued recipient (live)\n", per);
  EXPECT_LE(per, 64.0);
  Reopen();  // recovery sizes the heap exactly
  s = spool_->stats();
  ASSERT_EQ(s.queued, size_t{kBatches * kBatch});
  per = static_cast<double>(s.index_bytes) / s.queued;
  std::printf("index: %.1f bytes per queued recipient (recovered)\n", per);
  EXPECT_LE(per, 64.0);
}

// Recipients are deleted as fast as they are written: a table file full of
// their tombstones is compacted away on its own (CompactOnDeletionCollector),
// not left until enough files pile up to trigger an ordinary compaction.
TEST_F(SpoolTest, TablesOfDeletedRecipientsAreCompactedAway) {
  Open();
  auto campaign = spool_->CreateCampaign(Campaign{}).Wait();
  ASSERT_TRUE(campaign.ok());
  for (int b = 0; b < 4; ++b) {
    ASSERT_TRUE(spool_->AddCampaignRecipients(*campaign, Recipients(5000)).Wait().ok());
  }
  ASSERT_TRUE(spool_->Flush().ok());  // the recipients reach a table file
  EXPECT_EQ(spool_->SweepExpired(absl::Now() + absl::Hours(2)), 20000u);
  for (int i = 0; i < 1000 && spool_->stats().queued > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(spool_->stats().queued, 0u);
  ASSERT_TRUE(spool_->Flush().ok());  // and so do their 20,000 tombstones
  // Look from a read-only instance (it takes no lock) until the recipients'
  // tables hold no tombstones any more; bounded.
  uint64_t deletions = 0;
  int files = 0;
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int i = 0; i < 100 && std::chrono::steady_clock::now() < give_up; ++i) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), Options().path, &names).ok());
    for (const std::string& name : names) cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), Options().path, cfs, &handles, &raw)
            .ok());
    std::vector<rocksdb::LiveFileMetaData> live;
    raw->GetLiveFilesMetaData(&live);
    deletions = 0;
    files = 0;
    for (const auto& f : live) {
      if (f.column_family_name != "recipients") continue;
      ++files;
      deletions += f.num_deletions;
    }
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
    if (deletions == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(deletions, 0u) << files << " recipients table file(s) still hold tombstones";
  ExpectConsistent();
}

TEST_F(SpoolTest, ConcurrentAcceptsShareSyncedWrites) {
  Open();
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::vector<AcceptedMessage>> accepted(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = spool_->AcceptMessage(SampleMessage(), Recipients(2)).Wait();
        ASSERT_TRUE(r.ok()) << r.status();
        accepted[t].push_back(*r);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<RecipientId> ids;
  for (auto& v : accepted) {
    for (auto& m : v) ids.insert(m.recipients.begin(), m.recipients.end());
  }
  EXPECT_EQ(ids.size(), size_t{kThreads * kEach * 2});
  SpoolStats s = spool_->stats();
  EXPECT_EQ(s.queued, ids.size());
  EXPECT_LT(s.groups, s.requests);
  Reopen();
  EXPECT_EQ(spool_->recovery().recipients, ids.size());
  ExpectConsistent();
}

TEST_F(SpoolTest, AcceptsAreRefusedBelowTheFreeSpaceReserveButOutcomesGoThrough) {
  Open();
  AcceptedMessage m = Accept(1);
  spool_.reset();
  SpoolOptions o = Options();
  o.min_free_bytes = uint64_t{1} << 60;  // more than any disk has
  Open(o);
  auto refused = spool_->AcceptMessage(SampleMessage(), Recipients(1)).Wait();
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("disk full"), absl::string_view::npos);
  auto due = spool_->TakeDue(1, absl::Now() + absl::Seconds(1));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(spool_->RecordOutcome(due[0], Delivered()).Wait().ok());
  EXPECT_TRUE(absl::IsNotFound(spool_->ReadContent(m.id).Wait().status()));
}

TEST_F(SpoolTest, SuppressionsAreCaseInsensitive) {
  Open();
  ASSERT_TRUE(spool_
                  ->AddSuppression(
                      {.address = "Bad@Example.COM", .reason = "550 5.1.1", .source = "bounce"})
                  .Wait()
                  .ok());
  auto found = spool_->FindSuppression("bad@example.com").Wait();
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->address, "bad@example.com");
  EXPECT_EQ((*found)->source, "bounce");
  EXPECT_FALSE(spool_->FindSuppression("good@example.com").Wait()->has_value());
  ASSERT_TRUE(spool_->RemoveSuppression("BAD@example.com").Wait().ok());
  EXPECT_FALSE(spool_->FindSuppression("bad@example.com").Wait()->has_value());
}

// Lookups first ask an in-memory filter (queue/suppression_filter.h): every
// way a suppression gets written must reach it, and a reopened spool must
// load it from RocksDB, or a suppressed address would be mailed.
TEST_F(SpoolTest, SuppressionsWrittenAnyWayAreFoundAgainAfterReopen) {
  Open();
  AcceptedMessage m = Accept(3);  // user0..user2@example.com, not yet suppressed
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(spool_->ReadRecipient(m.id, m.recipients[i]).Wait()->suppressed);
  }
  ASSERT_TRUE(
      spool_->AddSuppression({.address = "user0@example.com", .source = "api"}).Wait().ok());
  ASSERT_TRUE(spool_
                  ->AddSuppressions({{.address = "USER1@example.com", .source = "bulk"},
                                     {.address = "other@example.org", .source = "bulk"}})
                  .Wait()
                  .ok());
  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    for (const char* a : {"user0@example.com", "user1@example.com", "Other@Example.org"}) {
      auto found = spool_->FindSuppression(a).Wait();
      ASSERT_TRUE(found.ok()) << found.status();
      EXPECT_TRUE(found->has_value()) << a;
    }
    EXPECT_FALSE(spool_->FindSuppression("user2@example.com").Wait()->has_value());
    // Suppressed after the accept: delivery's load sees it.
    EXPECT_TRUE(spool_->ReadRecipient(m.id, m.recipients[0]).Wait()->suppressed);
    EXPECT_TRUE(spool_->ReadRecipient(m.id, m.recipients[1]).Wait()->suppressed);
    EXPECT_FALSE(spool_->ReadRecipient(m.id, m.recipients[2]).Wait()->suppressed);
  };
  check("open");
  Reopen();
  check("reopened");
  // Removed and added again: found, also across another reopen.
  ASSERT_TRUE(spool_->RemoveSuppression("user0@example.com").Wait().ok());
  EXPECT_FALSE(spool_->FindSuppression("user0@example.com").Wait()->has_value());
  ASSERT_TRUE(
      spool_->AddSuppression({.address = "user0@example.com", .source = "api"}).Wait().ok());
  Reopen();
  check("re-added");
}

TEST_F(SpoolTest, ReleaseReturnsARecipientWithoutCountingAnAttempt) {
  Open();
  Accept(1);
  absl::Time now = absl::Now() + absl::Seconds(1);
  auto due = spool_->TakeDue(1, now);
  ASSERT_EQ(due.size(), 1u);
  ASSERT_TRUE(spool_->Release(due[0], now + absl::Minutes(5)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(spool_->Release(due[0], now)));
  EXPECT_TRUE(spool_->TakeDue(1, now + absl::Minutes(4)).empty());
  auto again = spool_->TakeDue(1, now + absl::Minutes(5));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 0);
  EXPECT_EQ(*spool_->NextDue(),
            absl::FromUnixSeconds(absl::ToUnixSeconds(now + absl::Minutes(5) + Options().lease)));
}

TEST_F(SpoolTest, ASpoolFromANewerSalvoIsNotOpened) {
  Open();
  spool_.reset();
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), Options().path, &names).ok());
    for (const std::string& name : names) cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), Options().path, cfs, &handles, &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), "schema", "\x63").ok());  // v99
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  auto s = Spool::Open(Options());
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_NE(s.status().message().find("newer"), absl::string_view::npos);
}

}  // namespace
}  // namespace salvo::queue
