#include "engine/delivery/delivery_shard.h"

#include "engine/base/strings.h"
#include "engine/delivery/delivery_session.h"
#include "engine/delivery/feeder.h"
#include "engine/delivery/outcome_mapping.h"
#include "engine/delivery/recipient_loader.h"
#include "spdlog/spdlog.h"

namespace salvo::delivery {

using namespace std::chrono_literals;

namespace {

// How long busy sessions may finish their transaction at shutdown before
// their I/O is cancelled.
constexpr Duration kShutdownGrace = 5s;

dns::ResolverOptions ResolverOptionsFor(const EngineCore& core) {
  if (core.options.resolver) return *core.options.resolver;
  const DnsConfig& dns = core.config()->dns;
  dns::ResolverOptions o;
  for (const SocketAddress& a : dns.resolvers) o.servers.push_back(a.ToString());
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(dns.timeout);
  o.tries = dns.tries;
  o.cache_entries = static_cast<size_t>(dns.cache_size);
  return o;
}

}  // namespace

DeliveryShard::DeliveryShard(EngineCore& core, Ring& ring, int index)
    : core_(core),
      ring_(ring),
      index_(index),
      config_(core.config()),
      contents_(core.options.spool, core.options.tuning.content_cache_entries),
      renderer_(core.options.hostname, core.options.verp_secret, core.options.bounce_domain),
      recorder_(core, ring) {}

DeliveryShard::~DeliveryShard() = default;

absl::Status DeliveryShard::Init() {
  auto resolver = dns::Resolver::Create(ResolverOptionsFor(core_));
  if (!resolver.ok()) return resolver.status();
  resolver_ = std::move(*resolver);
  if (index_ == 0) feeder_ = std::make_unique<Feeder>(core_);
  return absl::OkStatus();
}

Task<void> DeliveryShard::Run() {
  Ring::StopCallback on_stop(ring_, [this] { stop_alarm_.Wake(); });
  BatchWakeUpsBehindSigning();
  tasks_.Spawn(Tick());
  if (feeder_) tasks_.Spawn(feeder_->Run(stopping_));
  while (!ring_.stop_requested()) co_await stop_alarm_.Wait(After(1h));
  co_await Shutdown();
  ring_.SetWakeBatching(std::nullopt);
}

void DeliveryShard::BatchWakeUpsBehindSigning() {
  dkim::DkimKeyring* keyring = core_.options.dkim.get();
  if (keyring == nullptr) return;
  auto max_wait =
      std::chrono::duration_cast<std::chrono::microseconds>(keyring->config()->backlog_wait);
  if (max_wait <= std::chrono::microseconds::zero()) return;
  dkim::DkimSigningPool* pool = &keyring->pool();
  ExportedCount* batched = &core_.counters.batched_sleeps;
  ring_.SetWakeBatching(Ring::WakeBatching{
      .events = kBatchedWakeEvents, .max_wait = max_wait, .hold = [pool, max_wait, batched] {
        // Asked last, right before the sleep it decides (Ring::SubmitAndSleep).
        bool backlogged = pool->queued_work() >= max_wait;
        if (backlogged) batched->Add();
        return backlogged;
      }});
}

void DeliveryShard::AcceptDue(std::vector<LeasedRecipient> recipients) {
  absl::flat_hash_map<std::string_view, std::vector<LeasedRecipient>> by_domain;
  for (LeasedRecipient& r : recipients) by_domain[r.due.domain].push_back(std::move(r));
  std::vector<LeasedRecipient> admitted;
  admitted.reserve(recipients.size());
  std::vector<AdmittedGroup> groups;
  for (auto& [domain, list] : by_domain) {
    auto it = destinations_.find(ToAbsl(domain));
    if (it == destinations_.end()) {
      std::string name(domain);
      it = destinations_.emplace(name, std::make_unique<DestinationQueue>(*this, name)).first;
    }
    std::vector<LeasedRecipient> kept = it->second->Admit(std::move(list));
    if (kept.empty()) continue;
    groups.push_back(AdmittedGroup{.queue = it->second.get(), .count = kept.size()});
    admitted.insert(admitted.end(), std::make_move_iterator(kept.begin()),
                    std::make_move_iterator(kept.end()));
  }
  if (!admitted.empty()) tasks_.Spawn(LoadAdmitted(std::move(admitted), std::move(groups)));
}

Task<void> DeliveryShard::LoadAdmitted(std::vector<LeasedRecipient> recipients,
                                       std::vector<AdmittedGroup> groups) {
  std::vector<absl::Status> errors =
      co_await LoadRecipients(core_.ledger.spool(), recipients, &core_.read_ahead);
  size_t at = 0;
  for (const AdmittedGroup& g : groups) {
    auto first = recipients.begin() + static_cast<ptrdiff_t>(at);
    auto first_error = errors.begin() + static_cast<ptrdiff_t>(at);
    std::vector<LeasedRecipient> part(
        std::make_move_iterator(first),
        std::make_move_iterator(first + static_cast<ptrdiff_t>(g.count)));
    std::vector<absl::Status> part_errors(
        std::make_move_iterator(first_error),
        std::make_move_iterator(first_error + static_cast<ptrdiff_t>(g.count)));
    at += g.count;
    g.queue->Loaded(std::move(part), std::move(part_errors));
  }
}

void DeliveryShard::AcceptBatches(std::vector<Batch> batches) {
  for (Batch& b : batches) {
    SiteKey key{.site_id = b.hops->site_id, .rule = b.settings->rule};
    auto it = sites_.find(key);
    if (it == sites_.end()) {
      it = sites_.emplace(key, std::make_unique<Site>(*this, key, b)).first;
    }
    it->second->Enqueue(std::move(b));
  }
}

void DeliveryShard::SendToSite(uint64_t site_id, std::vector<Batch> batches) {
  int target = core_.SiteShard(site_id);
  if (target == index_) {
    AcceptBatches(std::move(batches));
    return;
  }
  core_.PostToShard(target, [b = std::move(batches)](DeliveryShard& s) mutable {
    s.AcceptBatches(std::move(b));
  });
}

void DeliveryShard::ReviveSites() {
  for (auto& [key, site] : sites_) site->Revive();
}

void DeliveryShard::ApplyConfig(std::shared_ptr<const Config> config) {
  config_ = std::move(config);
  for (auto& [name, d] : destinations_) d->Invalidate();
  for (auto& [key, site] : sites_) {
    if (const DeliveryPolicy* p = PolicyForRule(*config_, key.rule))
      site->ApplyPolicy(*p, *config_);
  }
}

bool DeliveryShard::CanOpenConnection() const {
  return static_cast<int>(sessions_.size()) < core_.options.tuning.max_connections_per_shard;
}

void DeliveryShard::StartSession(EgressPath& path) {
  auto session = std::make_unique<DeliverySession>(*this, path);
  sessions_.insert(session.get());
  tasks_.Spawn([](std::unique_ptr<DeliverySession> s) -> Task<void> {
    co_await s->Run();
  }(std::move(session)));
}

void DeliveryShard::SessionEnded(DeliverySession* session) {
  sessions_.erase(session);
  if (sessions_.empty()) sessions_done_.Wake();
}

void DeliveryShard::GiveOutcome(Batch& b, const queue::DeliveryOutcome& o,
                                const AttemptContext& context) {
  absl::Time now = absl::Now();
  for (const LeasedRecipient& r : b.recipients()) {
    queue::DeliveryOutcome each = o;
    ApplyRetryPolicy(b.settings->retry, r.due.attempts, r.due.accepted_at, now, each);
    recorder_.Record(r, std::move(each), context);
  }
  b.Consume(b.recipients().size());
}

Task<void> DeliveryShard::Tick() {
  while (!stopping_) {
    co_await tick_alarm_.Wait(After(core_.options.tuning.tick));
    if (stopping_) break;
    Housekeeping();
  }
}

void DeliveryShard::Housekeeping() {
  absl::flat_hash_set<Site*> pump = std::move(pump_later_);
  pump_later_.clear();
  for (Site* s : pump) s->Pump();
  Deadline now = Clock::now();
  if (now - last_sweep_ < 1s) return;
  last_sweep_ = now;
  const DeliveryTuning& tuning = core_.options.tuning;
  for (auto& [key, site] : sites_) site->Sweep(tuning.lease_safety);
  Deadline forget = now - tuning.site_idle_gc;
  absl::erase_if(sites_, [&](const auto& kv) {
    Site* s = kv.second.get();
    bool drop = s->unused() && s->last_used() < forget && !pump_later_.contains(s);
    return drop;
  });
  absl::erase_if(destinations_, [&](const auto& kv) {
    return kv.second->unused() && kv.second->last_used() < forget;
  });
}

Task<void> DeliveryShard::Shutdown() {
  stopping_ = true;
  if (feeder_) feeder_->Wake();
  tick_alarm_.Wake();
  for (auto& [name, d] : destinations_) d->ReleaseAll();
  for (auto& [key, site] : sites_) site->ReleaseAll();
  for (DeliverySession* s : sessions_) s->Wake(/*retire=*/true);
  Deadline grace = After(kShutdownGrace);
  while (!sessions_.empty() && Clock::now() < grace) co_await sessions_done_.Wait(grace);
  std::vector<DeliverySession*> busy(sessions_.begin(), sessions_.end());
  for (DeliverySession* s : busy) s->CancelIo();
  co_await tasks_.Close();
  co_await recorder_.Drain();
  co_await resolver_->Close();
  spdlog::debug("delivery shard {} stopped", index_);
}

}  // namespace salvo::delivery
