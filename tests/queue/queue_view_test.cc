// Spool::SummarizeQueue and Spool::RetryNow on a real RocksDB spool: counts
// by domain and state across more slots than one hold of the spool lock
// covers, the order and limit of the destinations, and a retry that makes
// deferred recipients due now (of one domain, or all), leaving leased and
// paused ones alone. Times are passed explicitly: nothing sleeps.
#include <gtest/gtest.h>

#include <map>

#include "queue/spool.h"
#include "spool_fixture.h"

namespace salvo::queue {
namespace {

using testing::SpoolTest;

DeliveryOutcome TryLater() {
  return {.kind = DeliveryOutcome::Kind::kDeferred,
          .response = {.host = "mx.example.com",
                       .ip = "127.0.0.1",
                       .code = 451,
                       .enhanced_status = "4.7.1",
                       .text = "try later"}};
}

QueueSummary Summary(Spool& spool, size_t limit = 100) {
  absl::StatusOr<QueueSummary> s = spool.SummarizeQueue(limit).Wait();
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : QueueSummary{};
}

size_t Retry(Spool& spool, std::string domain, absl::Time now) {
  absl::StatusOr<size_t> n = spool.RetryNow(std::move(domain), now).Wait();
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? *n : 0;
}

std::map<std::string, DestinationSummary> ByDomain(const QueueSummary& s) {
  std::map<std::string, DestinationSummary> out;
  for (const DestinationSummary& d : s.destinations) out[d.domain] = d;
  return out;
}

TEST_F(SpoolTest, QueueSummaryCountsByDomainAndStateAcrossManySlots) {
  Open();
  // 40,000 recipients for big.example span two slices of the walk.
  for (int i = 0; i < 4; ++i) {
    auto r =
        spool_->AcceptMessage(testing::SampleMessage(), testing::Recipients(10'000, "Big.Example"))
            .Wait();
    ASSERT_TRUE(r.ok()) << r.status();
  }
  Accept(3, "small.example");
  Accept(3, "tied.example");
  Accept(1, "one.example");

  QueueSummary s = Summary(*spool_);
  EXPECT_EQ(s.recipients, 40'007u);
  EXPECT_EQ(s.queued, 40'007u);
  EXPECT_EQ(s.deferred, 0u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.domains, 4u);
  ASSERT_EQ(s.destinations.size(), 4u);
  // Most recipients first; a tie by name.
  EXPECT_EQ(s.destinations[0].domain, "big.example");
  EXPECT_EQ(s.destinations[0].recipients, 40'000u);
  EXPECT_EQ(s.destinations[1].domain, "small.example");
  EXPECT_EQ(s.destinations[2].domain, "tied.example");
  EXPECT_EQ(s.destinations[3].domain, "one.example");
  absl::Time now = absl::Now();
  EXPECT_LE(s.destinations[0].next_attempt, now);
  EXPECT_GT(s.destinations[0].oldest_accepted, now - absl::Minutes(5));
  EXPECT_LE(s.destinations[0].oldest_accepted, s.destinations[3].oldest_accepted);

  QueueSummary top = Summary(*spool_, 2);
  EXPECT_EQ(top.domains, 4u);  // totals still cover every domain
  EXPECT_EQ(top.recipients, 40'007u);
  ASSERT_EQ(top.destinations.size(), 2u);
  EXPECT_EQ(top.destinations[1].domain, "small.example");

  // Lease everything: all in flight.
  std::vector<DueRecipient> due = spool_->TakeDue(50'000, now);
  ASSERT_EQ(due.size(), 40'007u);
  s = Summary(*spool_);
  EXPECT_EQ(s.in_flight, 40'007u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(ByDomain(s)["big.example"].next_attempt, absl::InfiniteFuture());
  ExpectConsistent();
}

TEST_F(SpoolTest, RetryNowMakesDeferredRecipientsDueAndLeavesTheRestAlone) {
  Open();
  Accept(3, "down.example");
  Accept(2, "other.example");
  absl::Time now = absl::Now();
  std::vector<DueRecipient> due = spool_->TakeDue(100, now);
  ASSERT_EQ(due.size(), 5u);
  for (const DueRecipient& d : due) {
    auto r = spool_->RecordOutcome(d, TryLater(), now).Wait();
    ASSERT_TRUE(r.ok()) << r.status();
  }
  // Deferred by the retry schedule (1 minute): nothing due now.
  EXPECT_TRUE(spool_->TakeDue(100, now).empty());
  QueueSummary s = Summary(*spool_);
  EXPECT_EQ(s.deferred, 5u);
  DestinationSummary down = ByDomain(s)["down.example"];
  EXPECT_EQ(down.deferred, 3u);
  EXPECT_EQ(down.max_attempts, 1);
  EXPECT_GE(down.next_attempt, now + absl::Seconds(59));

  EXPECT_EQ(Retry(*spool_, "nowhere.example", now), 0u);
  EXPECT_EQ(Retry(*spool_, "DOWN.example", now), 3u);
  std::vector<DueRecipient> again = spool_->TakeDue(100, now);
  ASSERT_EQ(again.size(), 3u);
  // Leased now: a second retry moves nothing.
  EXPECT_EQ(Retry(*spool_, "down.example", now), 0u);
  s = Summary(*spool_);
  EXPECT_EQ(ByDomain(s)["down.example"].in_flight, 3u);
  EXPECT_EQ(ByDomain(s)["other.example"].queued, 2u);

  // Everything else, with the empty domain.
  EXPECT_EQ(Retry(*spool_, "", now), 2u);
  EXPECT_EQ(spool_->TakeDue(100, now).size(), 2u);
  ExpectConsistent();
}

TEST_F(SpoolTest, RetryNowLeavesPausedCampaignsParked) {
  Open();
  auto id = spool_->CreateCampaign(testing::SampleCampaign()).Wait();
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(
      spool_->AddCampaignRecipients(*id, testing::Recipients(4, "list.example")).Wait().ok());
  ASSERT_TRUE(spool_->ControlCampaign(*id, CampaignControl::kPause).Wait().ok());
  absl::Time now = absl::Now();
  EXPECT_TRUE(spool_->TakeDue(100, now).empty());  // parks them
  QueueSummary s = Summary(*spool_);
  EXPECT_EQ(s.paused, 4u);
  EXPECT_EQ(Retry(*spool_, "list.example", now + absl::Minutes(1)), 0u);
  EXPECT_TRUE(spool_->TakeDue(100, now + absl::Minutes(1)).empty());
  EXPECT_EQ(Summary(*spool_).paused, 4u);
}

}  // namespace
}  // namespace salvo::queue
