// Site: a receiving site (the MX host set of its domains, or a route) under
// one destination rule, owned by one shard. It enforces the rule's limits
// for all of its domains together: max connections (scaled down by
// backoff), connection rate, message rate (SiteBackoff scales it too), and
// holds the ready batches on its egress paths, one per source address of the
// rule's source pool, chosen by weight for each batch.
//
// A site whose every address failed is "dead" for dead_site_hold: its
// waiting and newly arriving batches are deferred at once with the last
// error, without new connection attempts.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/hash/hash.h"
#include "engine/config/config.h"
#include "engine/delivery/backoff.h"
#include "engine/delivery/destination_settings.h"
#include "engine/delivery/egress_path.h"
#include "engine/delivery/rate_limiter.h"
#include "engine/delivery/route_table.h"
#include "engine/delivery/source_picker.h"
#include "queue/records.h"

namespace salvo::delivery {

class DeliveryShard;

struct SiteKey {
  uint64_t site_id = 0;
  std::string rule;
  friend bool operator==(const SiteKey&, const SiteKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const SiteKey& k) {
    return H::combine(std::move(h), k.site_id, k.rule);
  }
};

class Site {
 public:
  Site(DeliveryShard& shard, SiteKey key, const Batch& first);

  const SiteKey& key() const { return key_; }
  const std::string& name() const { return name_; }
  const DeliveryPolicy& policy() const { return settings_->policy; }
  const std::shared_ptr<const NextHops>& hops() const { return hops_; }

  // Takes a batch: defers it at once if the site is dead, else queues it on
  // an egress path and pumps.
  void Enqueue(Batch b);
  // Wakes idle connections or opens new ones for waiting batches, within
  // the limits; asks the shard to pump again later when a limit is in the
  // way.
  void Pump();
  // A connection of `path` closed (or never opened).
  void ConnectionClosed(EgressPath& path);
  // Every address failed: defer what waits and hold new mail for a while.
  void MarkDead(const queue::DeliveryOutcome& outcome, Deadline until);
  // An operator's "retry now": ends the dead hold at once. True if there was one.
  bool Revive();
  // One attempt's result for backoff.
  void RecordAttempt(bool ok, bool temporary, std::string_view reply);
  // The config changed: the new policy for this site's rule, if it has one.
  void ApplyPolicy(const DeliveryPolicy& policy, const Config& config);

  // The time to send the next message (message rate).
  Deadline ReserveMessageSlot() { return message_rate_.Reserve(Clock::now()); }
  int MaxConnections() const { return backoff_.ScaledCap(settings_->policy.max_connections); }
  int connections() const { return connections_; }
  int backoff_level() const { return backoff_.level(); }
  size_t waiting() const;
  bool unused() const { return connections_ == 0 && waiting() == 0; }
  Deadline last_used() const { return last_used_; }
  // Gives back batches waiting longer than `age` (lease safety) and drops
  // retired paths that are empty.
  void Sweep(Duration age);
  // Shutdown: every waiting batch back to the spool; wakes idle sessions.
  void ReleaseAll();

 private:
  void BuildPaths(const Config& config);
  EgressPath* PickPath();
  bool OpenConnection(EgressPath& path, Deadline now);

  DeliveryShard& shard_;
  SiteKey key_;
  std::string name_;
  std::shared_ptr<const NextHops> hops_;
  std::shared_ptr<const DestinationSettings> settings_;
  RateLimiter message_rate_;
  RateLimiter connection_rate_;
  SiteBackoff backoff_;
  std::string source_pool_;
  std::optional<SourcePicker> picker_;
  std::vector<std::unique_ptr<EgressPath>> paths_;  // active ones first
  size_t active_paths_ = 0;
  int connections_ = 0;
  Deadline dead_until_{};
  queue::DeliveryOutcome dead_outcome_;
  Deadline last_used_{};
};

}  // namespace salvo::delivery
