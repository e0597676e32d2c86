// DeliveryEngine: Salvo's outbound delivery — from the spool's schedule to
// remote MTAs, shaped per destination. One engine per process; it works on
// the daemon's shards (each shard's entry task runs RunShard()).
//
//   spool.TakeDue ─► feeder (shard 0) ─► domain shard: DestinationQueue
//     (records read, MX / route resolved, batched by content)
//   ─► site shard: Site ─► EgressPath (source × site) ready queue
//   ─► DeliverySession (SMTP client, pipelined, reused) ─► RecordOutcome
//
// Wiring (the daemon; tests/delivery/delivery_harness.cc does the same):
//   spool  = Spool::Open(...);                                 // first
//   engine = DeliveryEngine::Create({.spool = spool.get(), .config = cfg,
//                                    .shards = N, .verp_secret = ..., ...});
//   shards = ShardSet::Start(N, [&](Ring& ring, int i) -> Task<void> {
//     ring.gate().Spawn(engine->RunShard(ring, i));  // on every shard 0..N-1
//     ... the shard's other work (listeners) ...
//   });
//   SIGHUP / API: engine->Apply(new_config);   // any thread
//   after an accept: engine->Kick();           // any thread (else: next poll)
//   shutdown: stop accepting; shards->Stop(); shards->Join(); destroy the
//             ShardSet, then the engine, then the Spool (each must outlive
//             what came before). Apply/Kick after a shard stopped are dropped.
//
// Invariants: every recipient taken from the spool ends with an outcome or
// is released (also on shutdown); per-site limits hold exactly (one shard
// owns each site); Apply() takes effect for new connections and batches
// without losing anything in flight.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "engine/delivery/delivery_options.h"
#include "engine/loop/ring.h"
#include "engine/loop/task.h"

namespace salvo::delivery {

struct EngineCore;

struct DeliveryStats {
  uint64_t taken = 0;
  uint64_t delivered = 0;
  uint64_t deferred = 0;
  uint64_t failed = 0;  // failed and expired
  uint64_t outcome_errors = 0;
  uint64_t transactions = 0;
  uint64_t connections_opened = 0;
  uint64_t connect_failures = 0;
  uint64_t backoff_changes = 0;
  uint64_t held_back = 0;
  uint64_t batched_sleeps = 0;  // shard sleeps batched behind a signing backlog
  int64_t in_flight = 0;
};

class DeliveryEngine {
 public:
  static absl::StatusOr<std::unique_ptr<DeliveryEngine>> Create(DeliveryEngineOptions options);
  ~DeliveryEngine();

  // The engine's work on shard `index` (0 <= index < options.shards) of
  // `ring`; returns once the ring is asked to stop and the shard has shut
  // down cleanly.
  Task<void> RunShard(Ring& ring, int index);
  // A new config: new connections and batches follow it. Thread-safe.
  void Apply(std::shared_ptr<const Config> config);
  // New mail was accepted: look at the schedule now. Thread-safe.
  void Kick();
  // The queue was flushed (Spool::RetryNow): sites held as unreachable are
  // tried again at once, then the schedule is looked at. Thread-safe.
  void RetryNow();
  DeliveryStats stats() const;
  // Writes out what the delivery log has buffered (tests, tools).
  void FlushLog();

 private:
  explicit DeliveryEngine(std::unique_ptr<EngineCore> core);
  std::unique_ptr<EngineCore> core_;
};

}  // namespace salvo::delivery
