// OutcomeRecorder: stores every outcome through Spool::RecordOutcome (one
// atomic synced write, group-committed with everything else in flight) and,
// once it is durable, writes the delivery-log line and counts it.
//
// Sessions do not wait for the write: the next transaction goes out while
// the outcome is being committed (a crash in between means the recipient is
// tried again: at-least-once). The recorder counts what is outstanding, and
// a shard stops only after Drain() saw every write finish.
// Single-threaded: one per shard; completions come back through Ring::Post.
#pragma once

#include <string>

#include "engine/delivery/alarm.h"
#include "engine/delivery/engine_core.h"
#include "engine/delivery/lease.h"
#include "engine/loop/task.h"
#include "queue/records.h"

namespace salvo::delivery {

// What the log line says besides the outcome.
struct AttemptContext {
  std::string site;
  std::string source;  // local address, "" if the kernel picked it
  bool tls = false;
};

class OutcomeRecorder {
 public:
  OutcomeRecorder(EngineCore& core, Ring& ring) : core_(core), ring_(ring) {}

  void Record(const LeasedRecipient& r, queue::DeliveryOutcome outcome,
              const AttemptContext& context);
  size_t outstanding() const { return outstanding_; }
  // Waits until every recorded outcome's write has finished.
  Task<void> Drain();

 private:
  struct Pending;
  void Finish(const Pending& p, const absl::StatusOr<queue::OutcomeResult>& result);

  EngineCore& core_;
  Ring& ring_;
  size_t outstanding_ = 0;
  Alarm drained_;
};

// The delivery-log JSON line (without newline) for one outcome.
std::string DeliveryLogLine(const LeasedRecipient& r, const queue::DeliveryOutcome& outcome,
                            const AttemptContext& context,
                            const absl::StatusOr<queue::OutcomeResult>& result);

}  // namespace salvo::delivery
