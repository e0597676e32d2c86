// Spool::Core: the spool's state behind its public face (internal).
//
// Ownership and locking: `mu` guards the in-memory index (schedule, domains,
// contents). Ring and API threads take it briefly (TakeDue, RecordOutcome's
// checks); the writer thread takes it once per group to prepare and once to
// apply. RocksDB is used by the writer thread (group commits), the reader
// thread (reads) and, before either starts, by recovery.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "queue/campaign_table.h"
#include "queue/codec.h"
#include "queue/executor.h"
#include "queue/feedback_records.h"
#include "queue/group_commit.h"
#include "queue/mailbox.h"
#include "queue/rocks.h"
#include "queue/schedule.h"
#include "queue/spool.h"
#include "queue/suppression_filter.h"
#include "queue/tables.h"

namespace salvo::queue {

using StatusDone = absl::AnyInvocable<void(absl::Status)>;

inline UnixSeconds ToIndexSeconds(absl::Time t) {
  int64_t s = absl::ToUnixSeconds(t);
  return s < 0 ? 0 : s > UINT32_MAX ? UINT32_MAX : static_cast<UnixSeconds>(s);
}

// Recipients of one accept, encoded on the caller's thread.
struct EncodedRecipients {
  std::vector<RecipientId> ids;
  std::string values;          // the encoded records, back to back
  std::vector<uint32_t> ends;  // end offset of each record in `values`
  std::string domains;         // their lower-cased domains, back to back
  std::vector<uint32_t> domain_ends;

  static std::string_view Slice(const std::string& all, const std::vector<uint32_t>& ends,
                                size_t i) {
    uint32_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(all).substr(begin, ends[i] - begin);
  }
  std::string_view value(size_t i) const { return Slice(values, ends, i); }
  std::string_view domain(size_t i) const { return Slice(domains, domain_ends, i); }
};

struct NewContent {
  ContentId id;
  ContentMeta meta;
  std::string body;
  std::optional<CampaignSettings> campaign;  // for a campaign: its settings record
};

// What RecordOutcome decided on the caller's thread.
struct OutcomePlan {
  Schedule::Slot slot = 0;
  RecipientId id;
  ContentId content;
  uint32_t content_index = 0;
  int attempts = 0;  // including this one
  RecipientState state = RecipientState::kDeferred;
  absl::Time now;
  absl::Time next_attempt;  // for kDeferred
  RemoteResponse response;
  std::string reason;
  std::string address;  // from DeliveryOutcome; empty: read from the record
  EventId event;
};

// Recipients the spool expires itself.
struct ExpiryItem {
  Schedule::Slot slot;
  RecipientId id;
  ContentId content;
  uint32_t content_index;
  int attempts;
};

struct Spool::Core {
  SpoolOptions options;
  // Replaced only by the writer thread (reopening after a write error),
  // under an exclusive db_mu; readers hold db_mu shared. Null while a reopen
  // has failed.
  std::unique_ptr<RocksDb> db;
  std::shared_mutex db_mu;

  mutable std::mutex mu;
  Schedule schedule;               // guarded by mu
  DomainTable domains;             // guarded by mu
  ContentTable contents;           // guarded by mu
  CampaignTable campaigns;         // guarded by mu
  SuppressionFilter suppressions;  // its own lock; fed by CommitGroup

  // Soft-bounce records changed by requests of the group being prepared
  // (address -> new value, "" when deleted): a later request of the same
  // group reads them instead of what it loaded. Cleared after each group.
  absl::flat_hash_map<std::string, std::string> soft_in_group;  // guarded by mu
  // Attribution records feedback requests of the group being prepared wrote
  // (key -> record), so that a duplicate in the same group is seen.
  absl::flat_hash_map<std::string, Attribution> attributions_in_group;  // guarded by mu

  std::atomic<uint64_t> expired{0};
  std::atomic<uint64_t> leases_lost{0};
  RecoveryReport recovery;

  std::unique_ptr<GroupCommitter> committer;
  std::unique_ptr<Executor> reader;

  // Writer thread only: the last write error, while RocksDB is stopped by it.
  absl::Status write_error;
  // Free space a reopen needs beyond min_free_bytes: the failed database's
  // unflushed memtables (replayed and flushed by the reopen) and its file
  // preallocations. A reopen that fails leaves no database to read from.
  uint64_t reopen_room = 0;
  absl::Time last_resume = absl::InfinitePast();
  // CheckSpace's last statvfs (writer thread only).
  static constexpr absl::Duration kFreeSpaceRecheck = absl::Milliseconds(20);
  struct FreeSpace {
    uint64_t seen = 0;           // bytes free then
    uint64_t written_since = 0;  // batch bytes written after it
    absl::Time at = absl::InfinitePast();
  } free_space;

  std::mutex notifier_mu;          // held while the notifier runs
  Spool::ExpiryNotifier notifier;  // guarded by notifier_mu

  std::thread sweeper;
  std::mutex sweep_mu;
  std::condition_variable sweep_cv;
  bool stopping = false;                                   // guarded by sweep_mu
  absl::Time last_feedback_expiry = absl::InfinitePast();  // sweeper thread only

  // Writes one group (GroupCommitter's CommitFn).
  void CommitGroup(GroupCommitter::Group& group, bool sync);
  // Fsyncs outcome writes the group commit left unsynced.
  void SyncLog();
  // Free space is above options.min_free_bytes plus what RocksDB may still
  // take (RocksDb::PendingSpace) (writer thread).
  absl::Status CheckSpace();
  // After a failed write, RocksDB's WAL writer is unusable: reopen the
  // database (at most every 250 ms, and only once there is space again).
  // OK when the database can take the next write.
  absl::Status RecoverFromWriteError();

  // RecordOutcome's decision: takes the lease (kCommitting) and works out
  // the recipient's next state.
  absl::StatusOr<OutcomePlan> PlanOutcome(const DueRecipient& due, DeliveryOutcome outcome,
                                          absl::Time now);
  uint32_t MaxAgeSeconds(const ContentSlot& c) const;
  // The time past which the recipient in `e` expires (mu held).
  UnixSeconds ExpiryOf(const ScheduleEntry& e) const;
  // The sweep's rule (under mu): queued/paused past the maximum age, or
  // leased with the lease run out (*lost) and past it.
  bool ShouldExpire(const ScheduleEntry& e, UnixSeconds now_s, bool* lost) const;
  void SubmitExpiry(std::vector<ExpiryItem> items);
  // Spool::SweepExpired.
  size_t Sweep(absl::Time now);
  // Runs ExpireFeedback when feedback_maintenance_interval has passed.
  void MaintainFeedback(absl::Time now);
  void SweepLoop();

  // Last: destroyed first, while the database is still open.
  std::unique_ptr<Mailbox> mailbox;
};

// Walks the schedule in slices of kContentWalkSlots slots; `visit(slot,
// entry, content index)` runs under mu for every entry of the content `id`
// (while it is still the content at the index found first) and returns false
// to stop the slice early. Returns false once the walk is done.
inline constexpr Schedule::Slot kContentWalkSlots = Schedule::Slot{1} << 16;
template <typename Visit>
bool WalkContent(Spool::Core& core, ContentId id, Schedule::Slot& next, Visit visit) {
  std::lock_guard<std::mutex> lock(core.mu);
  int64_t index = core.contents.Find(id);
  if (index < 0) return false;
  Schedule::Slot end = std::min(core.schedule.slot_limit(), next + kContentWalkSlots);
  for (; next < end; ++next) {
    ScheduleEntry& e = core.schedule.at(next);
    if (e.state != EntryState::kFree && e.content == static_cast<uint32_t>(index)) {
      if (!visit(next, e, static_cast<uint32_t>(index))) {
        ++next;
        return true;
      }
    }
  }
  return next < core.schedule.slot_limit();
}

// Runs `read(db)` on the reader thread and hands its result to the op's caller.
template <typename R, typename Fn>
SpoolOp<R> OnReader(Spool::Core* core, Fn read) {
  return SpoolOp<R>([core, read = std::move(read)](typename SpoolOp<R>::Done done) mutable {
    struct Job {
      Fn read;
      typename SpoolOp<R>::Done done;
    };
    auto job = std::make_shared<Job>(Job{std::move(read), std::move(done)});
    bool posted = core->reader->Post([core, job] {
      std::shared_lock<std::shared_mutex> lock(core->db_mu);
      if (core->db == nullptr) {
        job->done(absl::UnavailableError("spool database is being reopened"));
        return;
      }
      job->done(job->read(*core->db));
    });
    if (!posted) {
      job->done(absl::UnavailableError("spool is shutting down"));
    }
  });
}

// Write requests (spool_writes.cc). Each completes `done` with the status of
// its durable write.
std::unique_ptr<WriteRequest> NewAcceptRequest(Spool::Core& core, std::optional<NewContent> content,
                                               ContentId target, EncodedRecipients recipients,
                                               StatusDone done);
std::unique_ptr<WriteRequest> NewCloseCampaignRequest(Spool::Core& core, ContentId campaign,
                                                      StatusDone done);
std::unique_ptr<WriteRequest> NewOutcomeRequest(Spool::Core& core, OutcomePlan plan,
                                                StatusDone done);
std::unique_ptr<WriteRequest> NewExpiryRequest(Spool::Core& core, std::vector<ExpiryItem> items);
// Finalises recipients of a cancelled campaign (kFailed, "cancelled").
std::unique_ptr<WriteRequest> NewCancelRequest(Spool::Core& core, std::vector<ExpiryItem> items,
                                               StatusDone done);
// Deletes the content's records when `c` has just lost its last recipient
// and no more can come (mu held). Returns whether it did.
bool DeleteContentIfDone(ContentSlot& c, BatchWriter& b);
// Puts (value set) or deletes (no value) one record, e.g. a suppression.
std::unique_ptr<WriteRequest> NewRecordRequest(Cf cf, std::string key,
                                               std::optional<std::string> value, StatusDone done);

// Campaign control (campaign_writes.cc). Pause/resume/cancel write the
// campaign's flags durably, then (resume) put its parked recipients back in
// the heap, or (cancel) finalise its recipients in bounded batches; `done`
// gets the campaign as it is then.
using CampaignDone = absl::AnyInvocable<void(absl::StatusOr<CampaignInfo>)>;
void ControlCampaign(Spool::Core& core, CampaignId id, CampaignControl control, CampaignDone done);
// Finalises as cancelled every queued or parked recipient of the content
// `id` (its Hold already kCancelled), in bounded batches, each submitted once
// the previous one is durable; recipients leased at the time are counted as
// in flight and left to their attempt (TakeDue and a deferral's Apply cancel
// them when they come back).
struct CancelTally {
  size_t cancelled = 0;
  size_t in_flight = 0;
};
using CancelDone = absl::AnyInvocable<void(absl::StatusOr<CancelTally>)>;
void StartCancel(Spool::Core& core, ContentId id, CancelDone done);
// Finalises as cancelled the recipients TakeDue found of a cancelled campaign.
void SubmitCancels(Spool::Core& core, std::vector<ExpiryItem> items);
// At start-up: finishes the cancels (of campaigns and of single messages) a
// crash or a stop interrupted.
void ResumeInterruptedCancels(Spool::Core& core);
// Spool::ExpireFeedback (feedback_writes.cc): scans the soft-bounce counts
// on the reader thread, then submits their deletion and the attribution
// DeleteRange.
void ExpireFeedback(Spool::Core& core, absl::Time now, StatusDone done);
// Puts several records of one column family in one atomic write.
std::unique_ptr<WriteRequest> NewRecordsRequest(Cf cf,
                                                std::vector<std::pair<std::string, std::string>> kv,
                                                StatusDone done);
// The campaign index entry and counter change of one event, put in `b`
// (mu held). Returns the delta applied, for Undo.
CampaignCounters IndexCampaignEvent(CampaignState& campaign, const DeliveryEvent& event,
                                    bool was_deferred, BatchWriter& b);

// Rebuilds the index from RocksDB (recovery.cc); before the threads start.
absl::Status Recover(Spool::Core& core);
// The consistency check behind Spool::Audit (recovery.cc).
AuditReport AuditSpool(Spool::Core& core);

}  // namespace salvo::queue
