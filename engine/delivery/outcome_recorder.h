// OutcomeRecorder: stores every outcome through Spool::RecordOutcome (one
// atomic synced write, group-committed with everything else in flight) and,
// once it is durable, writes the delivery-log line and counts it. It is also
// where delivery status notifications are born (dsn_builder.h, docs/dsn.md).
//
// Sessions do not wait for the write: the next transaction goes out while
// the outcome is being committed (a crash in between means the recipient is
// tried again: at-least-once). The recorder counts what is outstanding, and
// a shard stops only after Drain() saw every write finish.
//
// DSNs. An outcome that may owe the sender a notice (a failure, a deferral
// that expires, a deferral or delivery the recipient's NOTIFY asks about) is
// held until the end of the current ring turn, so that every such outcome of
// one content handed over together (a transaction's replies, a batch's DNS
// failure) is decided together; then the content is read (a per-recorder
// cache) and:
//  - failures (5xx, expiry, local permanent failures) of a single message
//    that dsn::ShouldSendDsn allows share ONE failure DSN, which is accepted
//    into the spool (from <>, NOTIFY=NEVER) BEFORE their outcomes are
//    recorded. If that accept fails (spool full), the outcomes are recorded
//    as deferrals instead: the recipients are tried again and the DSN is made
//    then. A crash between the accept and the outcome write repeats the
//    attempt: a duplicate DSN is possible, a lost one is not.
//  - success ("relayed", when the next hop did not take NOTIFY over) and
//    delay notices are composed after the outcome is durable, one per
//    recipient; a crash in between loses that notice (accepted: informational).
// Campaign recipients never get DSN mail (they get events).
// Single-threaded: one per shard; completions come back through Ring::Post.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/delivery/alarm.h"
#include "engine/delivery/dsn_builder.h"
#include "engine/delivery/engine_core.h"
#include "engine/delivery/lease.h"
#include "engine/delivery/message_renderer.h"
#include "engine/loop/gate.h"
#include "engine/loop/task.h"
#include "queue/records.h"

namespace salvo::delivery {

// What the log line says besides the outcome.
struct AttemptContext {
  std::string site;
  std::string source;  // local address, "" if the kernel picked it
  bool tls = false;
  // The next hop advertised DSN (RFC 3461): NOTIFY went on with the mail, so
  // a success notice is the next hop's business, not ours.
  bool peer_dsn = false;
};

class OutcomeRecorder {
 public:
  OutcomeRecorder(EngineCore& core, Ring& ring);
  ~OutcomeRecorder();

  void Record(const LeasedRecipient& r, queue::DeliveryOutcome outcome,
              const AttemptContext& context);
  size_t outstanding() const { return outstanding_; }
  // Waits until every recorded outcome's write (and every notice) has finished.
  Task<void> Drain();

 private:
  struct Pending;
  using PendingPtr = std::unique_ptr<Pending>;

  // True when `outcome` may owe the sender a notice (needs the content).
  bool MayNotify(const LeasedRecipient& r, const queue::DeliveryOutcome& outcome,
                 const AttemptContext& context) const;
  void Hold(PendingPtr p);
  void DecideHeld(queue::ContentId content);
  Task<void> Decide(queue::ContentId content, std::vector<PendingPtr> items);
  // Sets p's notice (if any) from its outcome; true when it owes a failure DSN now.
  bool Classify(Pending& p, const queue::Message& message, bool crossed_delay_warning);
  // Whether the recipient first reached delay_warning at this attempt.
  Task<bool> CrossedDelayWarning(const Pending& p, const DsnSettings& settings);
  void Commit(PendingPtr p);
  void Finish(PendingPtr p, const absl::StatusOr<queue::OutcomeResult>& result);
  // A success or delay notice for one recipient, after its outcome is durable.
  void SendNotice(const Pending& p, queue::RecipientState state);
  void Done();

  EngineCore& core_;
  Ring& ring_;
  size_t outstanding_ = 0;
  Alarm drained_;
  ContentCache contents_;  // the contents DSNs are about
  Gate tasks_;
  absl::flat_hash_map<queue::ContentId, std::vector<PendingPtr>> held_;
};

// The delivery-log JSON line (without newline) for one outcome.
std::string DeliveryLogLine(const LeasedRecipient& r, const queue::DeliveryOutcome& outcome,
                            const AttemptContext& context,
                            const absl::StatusOr<queue::OutcomeResult>& result);

}  // namespace salvo::delivery
