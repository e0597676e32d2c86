// Resolver: the MX resolution of one shard. ResolveMx(domain) gives the
// delivery engine an MxSet (dns/mx_set.h) or a failure status whose code says
// permanent or temporary (dns/outcome.h).
//
// Layers, each in its own file:
//   domain_name   IDN -> A-labels, validation
//   ares_channel  c-ares on the shard's io_uring (the only file with I/O)
//   message/rrset wire parsing and classification of one answer
//   rrset_cache   TTL-bound, size-bound cache of answers, negative included
//   mx_set        MX ordering, implicit / null MX, address assembly
//
// Invariants: one question (name, type) is on the wire at most once at a time
// per shard: concurrent askers wait for the same answer (10,000 recipients at
// one domain cost one MX query and one A/AAAA pair per MX host). Every answer
// is cached by (name, type) for its TTL, so domains sharing MX hosts share
// their address lookups. Single-threaded: one Resolver per shard, used only on
// its ring's thread; Close() it before destroying it.
#pragma once

#include <coroutine>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "dns/ares_channel.h"
#include "dns/mx_set.h"
#include "dns/resolver_options.h"
#include "dns/rrset.h"
#include "dns/rrset_cache.h"
#include "engine/base/metrics.h"
#include "engine/loop/task.h"

namespace salvo::dns {

struct ResolverStats {
  uint64_t lookups = 0;       // (name, type) questions asked of the resolver
  uint64_t cache_hits = 0;    // answered from the cache
  uint64_t coalesced = 0;     // joined a query already on the wire
  uint64_t queries_sent = 0;  // went to the DNS servers
  size_t cache_entries = 0;
  size_t max_watched_sockets = 0;
};

class Resolver {
 public:
  // Must run on the shard's ring thread, at shard start: c-ares reads
  // resolv.conf here (a small synchronous file read, once).
  static absl::StatusOr<std::unique_ptr<Resolver>> Create(const ResolverOptions& options);
  ~Resolver();

  // Where mail for `domain` (UTF-8 or A-labels) goes.
  Task<absl::StatusOr<MxSet>> ResolveMx(std::string domain);

  // The addresses of one host (a smarthost, an MX host) in the order of the
  // configured IP preference. NotFound when it has none, Unavailable when
  // the lookup failed temporarily.
  Task<absl::StatusOr<std::vector<IpAddress>>> ResolveHost(std::string host);

  // Fails what is pending (temporarily) and waits for the channel to wind
  // down. Later lookups fail with Unavailable.
  Task<void> Close();

  ResolverStats stats() const;
  const ResolverOptions& options() const { return options_; }

 private:
  // One question on the wire and the coroutines waiting for its answer.
  struct Pending {
    std::shared_ptr<const Rrset> answer;
    std::vector<std::coroutine_handle<>> waiters;
  };
  struct AnswerAwaiter {
    std::shared_ptr<Pending> pending;
    bool await_ready() const noexcept { return pending->answer != nullptr; }
    void await_suspend(std::coroutine_handle<> h) { pending->waiters.push_back(h); }
    std::shared_ptr<const Rrset> await_resume() const { return pending->answer; }
  };

  explicit Resolver(const ResolverOptions& options);
  // Starts (or joins, or answers from the cache) the lookup of (name, type);
  // co_await the result to get the answer.
  AnswerAwaiter Lookup(const std::string& name, RrType type);
  void OnAnswer(const std::string& name, RrType type, const std::shared_ptr<Pending>& pending,
                AresAnswer answer);
  Task<std::vector<TargetAddresses>> LookupAddresses(const std::vector<MxTarget>& targets);

  ResolverOptions options_;
  TtlPolicy ttl_policy_;
  std::unique_ptr<AresChannel> channel_;
  RrsetCache cache_;
  absl::flat_hash_map<std::string, std::shared_ptr<Pending>> inflight_;
  std::mt19937_64 rng_;
  ResolverStats stats_;
  // /metrics: salvo_dns_lookups_total{result}, salvo_dns_cache_entries (this
  // shard's share: each resolver sets its own thread's cell).
  Counter cache_hits_metric_;
  Counter coalesced_metric_;
  Counter queried_metric_;
  Gauge cache_entries_metric_;
  bool closed_ = false;
};

}  // namespace salvo::dns
