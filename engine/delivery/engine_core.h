// EngineCore: what the shards of the delivery engine share — read-only
// options, the lease ledger, the delivery log, counters, the current config
// (swapped whole under a mutex on reload), and the table of shards that work
// is posted to.
//
// Shard ownership: a recipient domain belongs to shard FNV(domain) % N (its
// DNS, its recipients' records, its batching); a site — the MX host set, or a
// route, under one rule — belongs to shard site_id % N (its connections,
// rate limiter and backoff). Every per-site limit is therefore enforced by one
// thread without locks, whichever shards the site's domains live on.
// Work moves between shards only through Ring::Post (PostToShard).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "engine/base/metrics.h"
#include "engine/config/config.h"
#include "engine/delivery/delivery_log.h"
#include "engine/delivery/delivery_options.h"
#include "engine/delivery/lease.h"
#include "engine/delivery/read_ahead_budget.h"
#include "engine/loop/ring.h"
#include "engine/tls/tls_context.h"

namespace salvo::delivery {

class DeliveryShard;

// A count of this engine's (DeliveryEngine::stats()) that also feeds a series
// of the process-wide /metrics (MetricsRegistry::Default()).
class ExportedCount {
 public:
  explicit ExportedCount(Counter series) : series_(series) {}
  void Add(uint64_t n = 1) {
    value_.fetch_add(n, std::memory_order_relaxed);
    series_.Add(n);
  }
  uint64_t load() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
  Counter series_;
};

struct DeliveryCounters {
  DeliveryCounters();
  std::atomic<uint64_t> taken{0};
  // salvo_delivery_recipients_total{outcome}
  ExportedCount delivered;
  ExportedCount deferred;
  ExportedCount failed;
  std::atomic<uint64_t> outcome_errors{0};  // RecordOutcome itself failed
  ExportedCount transactions;               // salvo_delivery_transactions_total
  // salvo_delivery_connections_total{result="opened"|"failed"}
  ExportedCount connections_opened;
  ExportedCount connect_failures;
  std::atomic<uint64_t> backoff_changes{0};
  std::atomic<uint64_t> held_back{0};  // released because a domain held too many
  // salvo_delivery_batched_sleeps_total: shard sleeps batched behind a
  // signing backlog (DeliveryShard::BatchWakeUpsBehindSigning)
  ExportedCount batched_sleeps;
};

struct EngineCore {
  EngineCore(DeliveryEngineOptions o, std::unique_ptr<DeliveryLog> log,
             std::shared_ptr<TlsContext> tls);

  std::shared_ptr<const Config> config() const {
    std::lock_guard<std::mutex> lock(config_mu);
    return current_config;
  }
  int shard_count() const { return options.shards; }
  int DomainShard(std::string_view domain) const;
  int SiteShard(uint64_t site_id) const {
    return static_cast<int>(site_id % static_cast<uint64_t>(options.shards));
  }
  // Runs `fn` on shard `index`'s ring with that shard, if it is running and
  // not stopping; otherwise `fn` is dropped (whatever it owns is released).
  void PostToShard(int index, absl::AnyInvocable<void(DeliveryShard&)> fn);

  const DeliveryEngineOptions options;
  LeaseLedger ledger;
  std::unique_ptr<DeliveryLog> log;
  std::shared_ptr<TlsContext> tls;
  DeliveryCounters counters;
  ReadAheadBudget read_ahead;

  mutable std::mutex config_mu;
  std::shared_ptr<const Config> current_config;  // guarded by config_mu

  // Indexed by shard. rings[i] is set once shard i starts and stays valid
  // while the ShardSet lives; shards[i] is read and written only on ring i.
  std::vector<std::atomic<Ring*>> rings;
  std::vector<DeliveryShard*> shards;
  std::atomic<int> started{0};
  // A Kick is posted to shard 0 and not yet run: later Kicks add nothing
  // (one wake-up of the feeder sees everything accepted before it).
  std::atomic<bool> kick_pending{false};
};

}  // namespace salvo::delivery
