// Settings of a Spool (see spool.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "queue/retry_policy.h"

namespace salvo::queue {

struct SpoolOptions {
  std::string path;  // the RocksDB directory; created if missing
  RetryPolicy retry;
  // How long the delivery engine may hold a recipient from TakeDue() without
  // reporting an outcome before the spool hands it out again.
  absl::Duration lease = absl::Minutes(15);
  // Accepts are refused (ResourceExhausted) while the spool's file system has
  // less free space than this; outcomes and deletions still go through, as
  // they are what frees space.
  uint64_t min_free_bytes = uint64_t{128} << 20;
  // Group commit: a group is cut at this many bytes of records; callers are
  // refused (Unavailable) while more than max_pending_bytes wait.
  size_t max_group_bytes = size_t{8} << 20;
  size_t max_pending_bytes = size_t{256} << 20;
  // How often the spool looks for recipients past their maximum age.
  absl::Duration sweep_interval = absl::Seconds(30);
  // How long after a campaign recipient was accepted a bounce, complaint or
  // unsubscribe can still be attributed to its campaign (feedback.h): each
  // delivered campaign recipient leaves a 32-byte record for that long. Zero
  // writes no records (feedback then attributes nothing but unsubscribes).
  absl::Duration feedback_retention = absl::Hours(30 * 24);
  // How often expired attribution records and soft-bounce counts are dropped.
  absl::Duration feedback_maintenance_interval = absl::Hours(1);
  // false: accepts are acknowledged before the WAL is fsynced (a power loss
  // can lose them). For tests and throwaway hosts only.
  bool sync_wal = true;
  // Delivery outcomes are reported done once written, and fsynced at most
  // this long after (with the next accept's fsync, or on their own): a power
  // loss within it forgets those outcomes, and their recipients are
  // delivered again; no accepted mail is lost. Zero: fsynced before done.
  absl::Duration outcome_sync_delay = absl::Milliseconds(20);
  // Outcomes wait up to this long (at most outcome_sync_delay) for others to
  // share a write with: fewer wake-ups of the writer and of the rings.
  absl::Duration outcome_linger = absl::Milliseconds(1);
  // RocksDB memory: all memtables together, and the block cache.
  size_t memtable_bytes = size_t{128} << 20;
  size_t block_cache_bytes = size_t{64} << 20;
};

}  // namespace salvo::queue
