// SuppressionFilter: an in-memory answer to "could this address be
// suppressed?", so that the common case — it is not — needs neither a
// RocksDB read nor a hop to the spool's reader thread. RCPT checks run on
// the ring threads and recipient loads on the reader; both ask here first.
//
// It holds a 64-bit fingerprint of every normalised address ever written to
// the suppressions column family since the spool was opened (loaded from the
// column family at open, then fed by every batch that puts a suppression):
//   - no false negatives: a suppression is added when its Put enters a
//     commit batch, before that batch is durable or acknowledged;
//   - false positives are harmless: they cost the RocksDB read they replace
//     (a fingerprint collision, a suppression removed since the spool opened
//     — removals are rare operator actions and are not tracked — or a
//     request rolled back after its Put).
// Memory: about 16 bytes per suppressed address (a flat hash set of
// uint64_t); 1,000,000 suppressions take ~16-32 MiB.
//
// Thread-safe: MayContain takes a shared lock held for one hash probe, so a
// ring thread never waits longer than a writer's single insertion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <shared_mutex>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "queue/group_commit.h"

namespace salvo::queue {

class SuppressionFilter {
 public:
  // `normalized` as NormalizeAddress() returns it (the column family's key).
  bool MayContain(std::string_view normalized) const;
  void Add(std::string_view normalized);
  size_t size() const;

 private:
  static uint64_t Fingerprint(std::string_view normalized);

  mutable std::shared_mutex mu_;
  absl::flat_hash_set<uint64_t> fingerprints_;  // guarded by mu_
};

// Forwards to `batch` and adds every suppression put to `filter`.
class SuppressionRecordingBatch final : public BatchWriter {
 public:
  SuppressionRecordingBatch(BatchWriter& batch, SuppressionFilter& filter)
      : batch_(batch), filter_(filter) {}
  void Put(Cf cf, std::string_view key, std::string_view value) override {
    if (cf == Cf::kSuppressions) filter_.Add(key);
    batch_.Put(cf, key, value);
  }
  void Delete(Cf cf, std::string_view key) override { batch_.Delete(cf, key); }
  void SingleDelete(Cf cf, std::string_view key) override { batch_.SingleDelete(cf, key); }
  void DeleteRange(Cf cf, std::string_view begin, std::string_view end) override {
    batch_.DeleteRange(cf, begin, end);
  }

 private:
  BatchWriter& batch_;
  SuppressionFilter& filter_;
};

}  // namespace salvo::queue
