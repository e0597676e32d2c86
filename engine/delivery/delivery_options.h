// DeliveryEngineOptions: what the delivery engine is built from. The Config
// carries the operator's shaping rules ([delivery], [[delivery.destination]],
// [[source_pool]], [[route]], [dns], [queue]); DeliveryTuning carries what
// the config file does not (yet) express, with production defaults.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dns/resolver_options.h"
#include "engine/config/config.h"
#include "engine/delivery/backoff.h"
#include "engine/delivery/delivery_log.h"
#include "engine/dkim/dkim_keyring.h"
#include "engine/tls/tls_context.h"

namespace salvo::queue {
class Spool;
}

namespace salvo::delivery {

using namespace std::chrono_literals;

// A per-destination retry schedule and maximum age (first match wins; the
// [queue] section is the default). Matching as [[delivery.destination]].
struct RetryRule {
  DomainPattern pattern;
  MatchOn match = MatchOn::kDomain;
  std::vector<Duration> schedule;  // empty: [queue] retry_schedule
  std::optional<Duration> max_age;
};

struct DeliveryTuning {
  BackoffOptions backoff;
  std::vector<RetryRule> retry_rules;
  // Recipients leased from the spool and held in memory at once (engine-wide).
  size_t max_in_flight = 50000;
  size_t take_batch = 2000;        // per TakeDue() call
  Duration poll_interval = 100ms;  // how often the feeder looks at the schedule
  Duration tick = 100ms;           // per-shard housekeeping period
  int max_connections_per_shard = 1000;
  int max_addresses_per_attempt = 5;  // MX addresses one connection attempt tries
  // After every address of a site failed, its new mail is deferred at once
  // (without connecting) for this long.
  Duration dead_site_hold = 30s;
  // Recipients of one domain held in memory; more are given back to the spool
  // for hold_release_delay, so that a slow domain cannot take every lease.
  size_t max_held_per_domain = 20000;
  Duration hold_release_delay = 30s;
  // A batch still waiting in memory this long is given back to the spool
  // (before its lease, 15 min by default, runs out).
  Duration lease_safety = 5min;
  Duration site_idle_gc = 5min;        // an unused site or domain is forgotten after this
  size_t content_cache_entries = 512;  // per shard
  // Single-message contents read together with their recipients' records
  // (saving the session a spool read), held until sent: engine-wide bytes.
  size_t content_read_ahead_bytes = size_t{64} << 20;
  DeliveryLogOptions log;
};

struct DeliveryEngineOptions {
  queue::Spool* spool = nullptr;  // must outlive the engine
  std::shared_ptr<const Config> config;
  int shards = 1;
  // EHLO name where a source has none, and the domain of Message-IDs.
  // Default: config->server.hostname.
  std::string hostname;
  // VERP return paths for campaigns (bounce+TOKEN@bounce_domain) when both
  // are set; otherwise the campaign's envelope_from.
  std::string verp_secret;
  std::string bounce_domain;  // default: config->bounce.domains[0] if any
  TlsClientOptions tls;
  // DKIM signing after rendering, on the keyring's pool; null: none.
  std::shared_ptr<dkim::DkimKeyring> dkim;
  std::optional<dns::ResolverOptions> resolver;  // default: from config->dns
  DeliveryTuning tuning;
};

}  // namespace salvo::delivery
