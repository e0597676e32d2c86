// Spool: the durable queue of Salvo — messages, campaigns and their
// recipients, in RocksDB, with an in-memory schedule of who is due when.
//
// What is durable when:
//  - An accept (AcceptMessage, CreateCampaign, AddCampaignRecipients,
//    CloseCampaign) completes OK only after its records are in a synced WAL
//    write; a message and all its recipients, or one call's recipients, are
//    one atomic batch. Ids are returned only then, so a 250 or 202 given
//    after an OK can never be lost by kill -9 or power loss. A failed accept
//    wrote nothing.
//  - An outcome (RecordOutcome) is one atomic synced write: the recipient's
//    new state or its deletion, its delivery event, and, for the last
//    recipient of a sealed content, the content's deletion.
//  - Leases (TakeDue) live in memory only: after a crash every recipient
//    without a recorded outcome is due again (at-least-once delivery).
//  - Concurrent calls are group-committed: one fsync carries every request
//    that arrived while the previous one was being written.
//
// Threads: the SpoolOp calls are safe from any thread; on a ring thread
// co_await them (the coroutine resumes on its ring), elsewhere Wait(). TakeDue
// and Release only touch memory and never block on I/O. RocksDB is touched
// only by the spool's writer and reader threads.
//
// Errors: ResourceExhausted = the spool's disk is (nearly) full (SMTP 452,
// HTTP 507); Unavailable = a write failed or the spool is saturated or closing
// (SMTP 451, HTTP 503); NotFound / FailedPrecondition / InvalidArgument for
// bad requests. Nothing already accepted is harmed by a failed write, and
// writes resume once space returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "queue/campaign_info.h"
#include "queue/feedback.h"
#include "queue/ids.h"
#include "queue/queue_view.h"
#include "queue/records.h"
#include "queue/spool_op.h"
#include "queue/spool_options.h"

namespace salvo::queue {

class Mailbox;  // queue/mailbox.h

struct AcceptedMessage {
  MessageId id;
  std::vector<RecipientId> recipients;  // in the order given
};

// A recipient handed to the delivery engine by TakeDue(), leased until it
// reports an outcome (or Release()s it, or the lease runs out).
struct DueRecipient {
  RecipientId id;
  ContentId content;
  std::string_view domain;  // valid for the spool's lifetime
  int attempts = 0;         // attempts before this one
  absl::Time accepted_at;
  uint64_t lease = 0;           // opaque handle for RecordOutcome/Release
  bool single_message = false;  // its content is a single message, not a campaign
};

// A recipient's key in the spool.
struct RecipientRef {
  ContentId content;
  RecipientId id;
};

// What delivery reads for a hand-over of leased recipients (ReadForDelivery).
struct DeliveryRead {
  // [i] answers refs[i]: the stored record (address, variables, DSN
  // parameters) and whether the address is suppressed now; NotFound when the
  // recipient is gone. The schedule fields (state, attempts, last response)
  // are not read and keep their defaults: delivery has them from the lease.
  std::vector<absl::StatusOr<Recipient>> recipients;
  // [i] answers contents[i]: the content, or nullopt when it was not read
  // ahead (larger than the limits allow, or unreadable: the caller reads it
  // later with ReadContent, which reports why).
  std::vector<std::optional<Content>> contents;
};

struct ReadAheadLimits {
  size_t max_content_bytes = 0;  // a larger content is not read ahead
  size_t max_total_bytes = 0;    // contents read ahead in all
};

struct OutcomeResult {
  // kDelivered, kDeferred, kFailed, or kExpired when a deferral came past
  // the maximum age (the engine then owes the sender a DSN, as for kFailed).
  RecipientState state = RecipientState::kDeferred;
  std::optional<absl::Time> next_attempt;  // for kDeferred
  EventId event;
};

struct SpoolStats {
  size_t queued = 0;     // recipients in the schedule (any state)
  size_t in_flight = 0;  // leased to the delivery engine
  size_t contents = 0;
  size_t domains = 0;
  size_t index_bytes = 0;  // the in-memory schedule and its tables
  uint64_t groups = 0;     // synced writes so far
  uint64_t requests = 0;   // requests they carried
  uint64_t expired = 0;    // recipients expired by the spool itself
  uint64_t leases_lost = 0;
};

struct RecoveryReport {
  size_t recipients = 0;
  size_t deferred = 0;  // of which already tried
  size_t contents = 0;
  size_t repaired = 0;  // orphaned records removed
  absl::Duration took;
};

// A full consistency check of the spool against its index (tools, tests).
struct AuditReport {
  size_t recipients = 0;
  size_t schedule_records = 0;
  size_t contents = 0;
  size_t events = 0;
  std::vector<std::string> problems;  // empty when consistent
};

class Spool {
 public:
  // Opens (or creates) the spool at options.path and rebuilds the schedule
  // from it; logs how many recipients it found and how long that took.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(SpoolOptions options);
  // Writes what is already submitted, then closes. Callers' rings must still
  // be running if they await something.
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // --- accepts (durable on OK) ---
  // A single message with all of its recipients, sealed at once.
  SpoolOp<absl::StatusOr<AcceptedMessage>> AcceptMessage(Message message,
                                                         std::vector<NewRecipient> recipients);
  // A campaign, open for recipients until CloseCampaign().
  SpoolOp<absl::StatusOr<CampaignId>> CreateCampaign(Campaign campaign);
  SpoolOp<absl::StatusOr<std::vector<RecipientId>>> AddCampaignRecipients(
      CampaignId campaign, std::vector<NewRecipient> recipients);
  // No more recipients; the campaign's content goes with its last recipient.
  SpoolOp<absl::Status> CloseCampaign(CampaignId campaign);

  // --- delivery (memory only) ---
  // Leases up to `max` recipients due at `now`, earliest first. Recipients
  // past their maximum age are not returned: the spool expires them itself.
  std::vector<DueRecipient> TakeDue(size_t max, absl::Time now = absl::Now());
  // Gives a leased recipient back without an attempt (e.g. at shutdown); it
  // is due again at `due`.
  absl::Status Release(const DueRecipient& due, absl::Time due_at = absl::Now());
  // --- operators' view of the queue (queue_view.h; memory only, run on the
  // reader thread in slices of the spool lock) ---
  // Recipients by destination domain: totals, and the `limit` domains with
  // the most recipients.
  SpoolOp<absl::StatusOr<QueueSummary>> SummarizeQueue(size_t limit);
  // Every queued recipient whose next attempt is after `now` is due at `now`
  // (of `domain` only, lower-cased, when it is not empty); returns how many.
  // Paused campaigns' recipients stay paused. The engine still needs a Kick.
  SpoolOp<absl::StatusOr<size_t>> RetryNow(std::string domain, absl::Time now = absl::Now());
  // The earliest due time in the schedule, if any (for the engine's timer).
  std::optional<absl::Time> NextDue() const;

  // True when a deferral of the leased `due` recorded at `now` would expire
  // it (RecordOutcome would answer kExpired): the engine owes a DSN first.
  // Memory only; false if `due` is not leased.
  bool WouldExpire(const DueRecipient& due, absl::Time now) const;

  // --- outcomes (durable on OK) ---
  // A kFailed outcome whose reason is "suppressed" or starts "suppressed:"
  // counts as suppressed (not failed) in its campaign's counters and report.
  SpoolOp<absl::StatusOr<OutcomeResult>> RecordOutcome(const DueRecipient& due,
                                                       DeliveryOutcome outcome,
                                                       absl::Time now = absl::Now());

  // --- reads (on the spool's reader thread) ---
  SpoolOp<absl::StatusOr<Recipient>> ReadRecipient(ContentId content, RecipientId id);
  // What delivery needs of a hand-over, in one reader job: the records of
  // `refs` and, within `limits`, the `contents` (see DeliveryRead).
  SpoolOp<absl::StatusOr<DeliveryRead>> ReadForDelivery(std::vector<RecipientRef> refs,
                                                        std::vector<ContentId> contents,
                                                        ReadAheadLimits limits);
  SpoolOp<absl::StatusOr<Content>> ReadContent(ContentId content);
  SpoolOp<absl::StatusOr<std::vector<RecipientId>>> ListRecipients(ContentId content);
  // Events after `after` (exclusive; default: from the start), oldest first.
  SpoolOp<absl::StatusOr<std::vector<DeliveryEvent>>> ReadEvents(EventId after, size_t limit);

  // --- suppressions ---
  SpoolOp<absl::Status> AddSuppression(SuppressionEntry entry);
  SpoolOp<absl::Status> RemoveSuppression(std::string address);
  SpoolOp<absl::StatusOr<std::optional<SuppressionEntry>>> FindSuppression(std::string address);
  // Up to `limit` entries in address order, after `after` (exclusive; empty:
  // from the first).
  SpoolOp<absl::StatusOr<std::vector<SuppressionEntry>>> ListSuppressions(std::string after,
                                                                          size_t limit);
  // Several entries in one atomic write: all or none.
  SpoolOp<absl::Status> AddSuppressions(std::vector<SuppressionEntry> entries);

  // --- single messages (queue_view.h) ---
  // The message's recipients that are not final yet, from memory (walked in
  // slices of the lock, on the reader thread). NotFound when the queue holds
  // no message with this id (every recipient is final, or it never existed:
  // outcomes are in ReadEvents); FailedPrecondition for a campaign's id.
  SpoolOp<absl::StatusOr<MessageView>> ViewMessage(MessageId id);
  // Removes the message from the queue (Postfix's `postsuper -d`): a durable
  // mark in its content meta first, then every queued recipient is finalised
  // with a kFailed event, reason "cancelled" (no DSN), in durable batches;
  // the op completes after the last. Those in flight finish their attempt:
  // if it defers they are cancelled when they come back, and after a
  // restart at start-up. Repeating it is harmless. NotFound /
  // FailedPrecondition as for ViewMessage.
  SpoolOp<absl::StatusOr<MessageCancel>> CancelMessage(MessageId id);

  // --- campaigns (campaign_info.h) ---
  // Status, settings and counters, from memory (no I/O). NotFound if no
  // campaign has this id (a message id is not a campaign).
  absl::StatusOr<CampaignInfo> GetCampaign(CampaignId id) const;
  // Pause: its recipients stay queued but TakeDue does not hand them out
  // (those leased finish their attempt); durable. Resume: they are due again
  // at their own times. Cancel: durable at once (nothing more is handed out
  // or added), then every recipient not final and not leased is finalised
  // with a kFailed event, reason "cancelled", in batches of 4096; a recipient
  // leased at that moment finishes its attempt and, unless that is final,
  // is cancelled when it comes back. The op completes after the last batch.
  // Idempotent: pausing a paused, resuming a running, cancelling a cancelled
  // campaign is OK. FailedPrecondition for a completed campaign, or resuming
  // or pausing a cancelled one; NotFound for an unknown id.
  SpoolOp<absl::StatusOr<CampaignInfo>> ControlCampaign(CampaignId id, CampaignControl control);
  // The campaign's events after `after` (exclusive), oldest first, from its
  // index (no scan of other campaigns' events): delivery events and feedback
  // events (DeliveryEvent::feedback set; only here, not in ReadEvents).
  // Events written before schema 2 are not indexed.
  SpoolOp<absl::StatusOr<std::vector<DeliveryEvent>>> ReadCampaignEvents(CampaignId id,
                                                                         EventId after,
                                                                         size_t limit);
  // Streams the campaign's events through a CampaignReportBuilder on the
  // reader thread (bounded memory; time linear in the campaign's events).
  SpoolOp<absl::StatusOr<CampaignReport>> ReportCampaign(CampaignId id);

  // --- feedback (feedback.h; durable on OK) ---
  // Attributes a bounce, complaint or unsubscribe to its campaign: the
  // campaign (feedback.campaign, or the recipient's attribution record) gets
  // its counter raised and a feedback event in its event index
  // (ReadCampaignEvents, ReportCampaign), and with feedback.soft the address's
  // soft-bounce count is raised — all in one synced write. NotFound when the
  // recipient has no attribution (unknown, never delivered as a campaign
  // recipient, or past feedback_retention) or the campaign is unknown: then
  // nothing was written (count a soft bounce with CountSoftBounce instead).
  // Counted once per recipient and kind (while the attribution record is
  // kept): a repeat writes nothing and answers FeedbackResult::duplicate.
  SpoolOp<absl::StatusOr<FeedbackResult>> RecordCampaignFeedback(CampaignFeedback feedback);
  // Counts one soft bounce of `address` (normalised here) at `now`; true
  // when it reaches policy.limit within policy.window (the count then starts
  // again). Durable; survives restarts.
  SpoolOp<absl::StatusOr<bool>> CountSoftBounce(std::string address, SoftBouncePolicy policy,
                                                absl::Time now = absl::Now());
  // Drops the attribution records of recipients created before
  // now - feedback_retention (one DeleteRange) and the soft-bounce counts
  // whose window ended. The spool runs this itself at its first sweep after
  // opening and then every feedback_maintenance_interval.
  SpoolOp<absl::Status> ExpireFeedback(absl::Time now = absl::Now());

  // --- maintenance ---
  // Expires every queued recipient past its maximum age, and every leased
  // one whose lease ran out (the spool also runs this every sweep_interval).
  // Returns how many it submitted for expiry.
  size_t SweepExpired(absl::Time now = absl::Now());

  // A recipient a sweep is about to expire on its own (no delivery attempt
  // decided it: it sat queued or paused, or its lease ran out).
  struct ExpiringRecipient {
    ContentId content;
    RecipientId id;
    int attempts = 0;
    bool lease_lost = false;
  };
  // Called by every sweep (on the sweeper thread or SweepExpired's caller,
  // never under a spool lock; it may block on spool ops with Wait()) before
  // the expiries are written: the delivery engine makes the failure DSNs
  // they owe here. It returns the contents whose recipients must not expire
  // yet (their notice could not be queued): those stay as they are and come
  // back at the next sweep. Set before the sweeps matter; null clears it
  // (the caller must outlive its notifier or clear it).
  using ExpiryNotifier =
      std::function<std::vector<ContentId>(const std::vector<ExpiringRecipient>&)>;
  void set_expiry_notifier(ExpiryNotifier notifier);
  SpoolStats stats() const;
  const RecoveryReport& recovery() const;
  // Blocking: compares every record with the index. Tools and tests.
  AuditReport Audit();
  // Blocking: flushes memtables (so that on-disk size can be measured).
  absl::Status Flush();
  // Blocking: stops (and restarts) RocksDB's flushes and compactions, as a
  // stalled disk would. Writes go on until RocksDB's own write stall; then
  // the writer waits, and accepts beyond max_pending_bytes are refused with
  // Unavailable. Tools and tests.
  absl::Status PauseBackgroundWork();
  absl::Status ContinueBackgroundWork();

  // The bounce mailbox, in the same database (queue/mailbox.h).
  Mailbox& mailbox();

  struct Core;

 private:
  explicit Spool(std::unique_ptr<Core> core);
  std::unique_ptr<Core> core_;
};

}  // namespace salvo::queue
