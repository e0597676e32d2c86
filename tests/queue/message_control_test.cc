// Spool::ViewMessage and Spool::CancelMessage on a real RocksDB spool: one
// message's recipients by state across more slots than one hold of the lock
// covers, `postsuper -d` finalising the queued ones durably (a "cancelled"
// failed event each, nothing back after a reopen), a recipient in flight
// cancelled when its attempt defers or, after a restart, at start-up, and the
// errors for campaigns and for messages no longer queued. Times are passed explicitly: nothing
// sleeps.
#include <gtest/gtest.h>

#include <set>

#include "queue/spool.h"
#include "spool_fixture.h"

namespace salvo::queue {
namespace {

using testing::AllEvents;
using testing::Deferred;
using testing::Delivered;
using testing::SpoolTest;

TEST_F(SpoolTest, ViewMessageCountsItsRecipientsByStateAndListsThem) {
  Open();
  AcceptedMessage other = Accept(3, "other.example");
  // 70,000 slots of other messages first: the message's entries lie beyond
  // the first slice of the walk.
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(
        spool_->AcceptMessage(testing::SampleMessage(), testing::Recipients(10'000, "bulk.example"))
            .Wait()
            .ok());
  }
  AcceptedMessage m = Accept(1'200, "Dest.Example");
  absl::Time now = absl::Now();

  absl::StatusOr<MessageView> v = spool_->ViewMessage(m.id).Wait();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->id, m.id);
  EXPECT_EQ(v->recipients, 1'200u);
  EXPECT_EQ(v->queued, 1'200u);
  EXPECT_EQ(v->in_flight, 0u);
  EXPECT_FALSE(v->cancelled);
  EXPECT_LE(v->accepted, now);
  EXPECT_GT(v->accepted, now - absl::Minutes(5));
  ASSERT_EQ(v->pending.size(), MessageView::kMaxPendingListed);
  std::set<RecipientId> accepted(m.recipients.begin(), m.recipients.end());
  for (const PendingRecipient& p : v->pending) {
    EXPECT_TRUE(accepted.count(p.id)) << p.id.ToString();
    EXPECT_EQ(p.domain, "dest.example");
    EXPECT_FALSE(p.in_flight);
    EXPECT_LE(p.next_attempt, now);
  }

  // A message at the start of the schedule: the walk stops once it has
  // seen its three.
  absl::StatusOr<MessageView> first = spool_->ViewMessage(other.id).Wait();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->recipients, 3u);
  EXPECT_EQ(first->pending.size(), 3u);

  // Lease the other messages' and this one's; defer one of this message's.
  std::vector<DueRecipient> due = spool_->TakeDue(100'000, now);
  ASSERT_EQ(due.size(), 71'203u);
  const DueRecipient* mine = nullptr;
  for (const DueRecipient& d : due) {
    if (d.content == m.id) mine = &d;
  }
  ASSERT_NE(mine, nullptr);
  ASSERT_TRUE(spool_->RecordOutcome(*mine, Deferred(), now).Wait().ok());
  v = spool_->ViewMessage(m.id).Wait();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->recipients, 1'200u);
  EXPECT_EQ(v->in_flight, 1'199u);
  EXPECT_EQ(v->queued, 1u);
  EXPECT_EQ(v->deferred, 1u);

  // Another message delivered in full is no longer in the queue.
  for (const DueRecipient& d : due) {
    if (d.content == other.id) {
      ASSERT_TRUE(spool_->RecordOutcome(d, Delivered(), now).Wait().ok());
    }
  }
  EXPECT_EQ(spool_->ViewMessage(other.id).Wait().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(spool_->ViewMessage(NewId<MessageId>()).Wait().status().code(),
            absl::StatusCode::kNotFound);
  ExpectConsistent();
}

TEST_F(SpoolTest, CancelMessageFinalisesTheQueuedDurablyAndTheInFlightWhenTheyDefer) {
  Open();
  AcceptedMessage keep = Accept(2, "keep.example");
  AcceptedMessage m = Accept(5, "gone.example");
  absl::Time now = absl::Now();
  // Two of the message's recipients are being delivered; the rest go back.
  std::vector<DueRecipient> due = spool_->TakeDue(100, now);
  ASSERT_EQ(due.size(), 7u);
  std::vector<DueRecipient> leased;
  for (const DueRecipient& d : due) {
    if (d.content == m.id && leased.size() < 2) {
      leased.push_back(d);
    } else {
      ASSERT_TRUE(spool_->Release(d, now).ok());
    }
  }
  ASSERT_EQ(leased.size(), 2u);

  absl::StatusOr<MessageCancel> c = spool_->CancelMessage(m.id).Wait();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, m.id);
  EXPECT_EQ(c->cancelled, 3u);
  EXPECT_EQ(c->in_flight, 2u);
  absl::StatusOr<MessageView> v = spool_->ViewMessage(m.id).Wait();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->cancelled);
  EXPECT_EQ(v->recipients, 2u);
  EXPECT_EQ(v->in_flight, 2u);

  size_t cancelled_events = 0;
  for (const DeliveryEvent& e : AllEvents(*spool_)) {
    if (e.content != m.id) continue;
    EXPECT_EQ(e.kind, RecipientState::kFailed);
    EXPECT_EQ(e.reason, "cancelled");
    EXPECT_EQ(e.address.substr(e.address.find('@')), "@gone.example");
    ++cancelled_events;
  }
  EXPECT_EQ(cancelled_events, 3u);

  // One in-flight recipient is delivered; the other defers and comes back
  // at once, to be cancelled.
  ASSERT_TRUE(spool_->RecordOutcome(leased[0], Delivered(), now).Wait().ok());
  absl::StatusOr<OutcomeResult> r = spool_->RecordOutcome(leased[1], Deferred(), now).Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<DueRecipient> next = spool_->TakeDue(100, now);
  for (const DueRecipient& d : next) EXPECT_NE(d.content, m.id);
  // TakeDue submitted that cancel: a repeat finds nothing left to cancel
  // (or, once that write is done, no message).
  absl::StatusOr<MessageCancel> again = spool_->CancelMessage(m.id).Wait();
  if (again.ok()) {
    EXPECT_EQ(again->cancelled, 0u);
  } else {
    EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
  }

  // Durable (closing the spool commits what was submitted): after a reopen
  // the message is gone and the other one is whole.
  Reopen();
  EXPECT_EQ(spool_->ViewMessage(m.id).Wait().status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<MessageView> kept = spool_->ViewMessage(keep.id).Wait();
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->recipients, 2u);
  std::vector<DueRecipient> after = spool_->TakeDue(100, absl::Now());
  ASSERT_EQ(after.size(), 2u);
  for (const DueRecipient& d : after) EXPECT_EQ(d.content, keep.id);
  size_t failed = 0, delivered = 0;
  for (const DeliveryEvent& e : AllEvents(*spool_)) {
    if (e.content != m.id) continue;
    failed += e.kind == RecipientState::kFailed;
    delivered += e.kind == RecipientState::kDelivered;
  }
  EXPECT_EQ(failed, 4u);
  EXPECT_EQ(delivered, 1u);
  ExpectConsistent();
}

TEST_F(SpoolTest, ACancelledMessageStaysCancelledAcrossARestart) {
  Open();
  AcceptedMessage keep = Accept(1, "keep.example");
  AcceptedMessage m = Accept(3, "gone.example");
  absl::Time now = absl::Now();
  std::vector<DueRecipient> due = spool_->TakeDue(100, now);
  ASSERT_EQ(due.size(), 4u);
  for (const DueRecipient& d : due) {
    if (d.content == keep.id) {
      ASSERT_TRUE(spool_->Release(d, now).ok());
    }
  }
  // All three are being delivered when the message is removed...
  absl::StatusOr<MessageCancel> c = spool_->CancelMessage(m.id).Wait();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cancelled, 0u);
  EXPECT_EQ(c->in_flight, 3u);
  // ...and the process stops before their attempts end: after the restart
  // they are not handed out again but cancelled.
  Reopen();
  absl::StatusOr<MessageView> v = spool_->ViewMessage(m.id).Wait();
  if (v.ok()) {
    EXPECT_TRUE(v->cancelled);
  }
  std::vector<DueRecipient> after = spool_->TakeDue(100, absl::Now());
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].content, keep.id);
  Reopen();  // closing commits every cancel submitted
  EXPECT_EQ(spool_->ViewMessage(m.id).Wait().status().code(), absl::StatusCode::kNotFound);
  size_t cancelled = 0;
  for (const DeliveryEvent& e : AllEvents(*spool_)) {
    if (e.content == m.id && e.kind == RecipientState::kFailed && e.reason == "cancelled") {
      ++cancelled;
    }
  }
  EXPECT_EQ(cancelled, 3u);
  ExpectConsistent();
}

TEST_F(SpoolTest, MessageRoutesRefuseACampaign) {
  Open();
  absl::StatusOr<CampaignId> id = spool_->CreateCampaign(testing::SampleCampaign("autumn")).Wait();
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(
      spool_->AddCampaignRecipients(*id, testing::Recipients(2, "list.example")).Wait().ok());
  EXPECT_EQ(spool_->ViewMessage(*id).Wait().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(spool_->CancelMessage(*id).Wait().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(spool_->TakeDue(10, absl::Now()).size(), 2u);  // untouched
}

}  // namespace
}  // namespace salvo::queue
