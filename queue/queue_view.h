// The operators' view of the queue: recipients by destination domain,
// "retry now" (Postfix's `postqueue -f` / `-s site`, PowerMTA's `schedule`)
// for after a remote site or a route has been fixed, and one message's
// recipients still queued, and their removal (`postqueue -p` for one queue
// id, `postsuper -d`).
//
// Both read and change only the in-memory schedule (no RocksDB read): they
// walk it in slices of the spool lock, so accepts and the delivery engine
// wait at most one slice. A retry moves the next attempt of queued
// recipients to now in memory only; after a restart each recipient is due
// again at the time its last deferral recorded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "queue/ids.h"

namespace salvo::queue {

// The recipients queued for one domain, by state.
struct DestinationSummary {
  std::string domain;
  size_t recipients = 0;  // all of the below
  size_t queued = 0;      // waiting for their next attempt (never tried or deferred)
  size_t deferred = 0;    // of the queued, tried at least once
  size_t in_flight = 0;   // leased to the delivery engine, or their outcome being written
  size_t paused = 0;      // their campaign is paused
  absl::Time oldest_accepted = absl::InfiniteFuture();
  absl::Time next_attempt = absl::InfiniteFuture();  // earliest among the queued
  uint16_t max_attempts = 0;
};

struct QueueSummary {
  size_t recipients = 0;
  size_t queued = 0;
  size_t deferred = 0;
  size_t in_flight = 0;
  size_t paused = 0;
  size_t domains = 0;  // domains with at least one recipient
  // The domains with the most recipients first (ties: by name), at most the
  // limit asked for.
  std::vector<DestinationSummary> destinations;
};

// One recipient of a message that is not final yet.
struct PendingRecipient {
  RecipientId id;
  std::string domain;
  bool in_flight = false;  // being delivered, or its outcome being written
  int attempts = 0;        // attempts so far
  absl::Time next_attempt = absl::InfiniteFuture();  // when queued
};

// A single message's recipients still in the queue (Spool::ViewMessage).
struct MessageView {
  MessageId id;
  absl::Time accepted;
  size_t recipients = 0;  // not final: queued + in_flight
  size_t queued = 0;      // waiting for their next attempt
  size_t deferred = 0;    // of the queued, tried at least once
  size_t in_flight = 0;
  bool cancelled = false;  // CancelMessage ran; those in flight go when they come back
  // In schedule order, at most kMaxPendingListed; the counts cover all.
  std::vector<PendingRecipient> pending;
  static constexpr size_t kMaxPendingListed = 1000;
};

// What Spool::CancelMessage did.
struct MessageCancel {
  MessageId id;
  size_t cancelled = 0;  // finalised now: a kFailed event each, reason "cancelled"
  size_t in_flight = 0;  // being delivered: cancelled if their attempt defers
};

}  // namespace salvo::queue
