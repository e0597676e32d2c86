#include "engine/delivery/site.h"

#include <algorithm>

#include "engine/delivery/delivery_session.h"
#include "engine/delivery/delivery_shard.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::delivery {

Site::Site(DeliveryShard& shard, SiteKey key, const Batch& first)
    : shard_(shard),
      key_(std::move(key)),
      name_(key_.rule.empty() ? first.hops->site
                              : fmt::format("{} [{}]", first.hops->site, key_.rule)),
      hops_(first.hops),
      settings_(first.settings),
      backoff_(name_, shard.core().options.tuning.backoff),
      last_used_(Clock::now()) {
  message_rate_.SetRate(settings_->policy.message_rate);
  connection_rate_.SetRate(settings_->policy.connection_rate);
  BuildPaths(*shard.config_ptr());
}

void Site::BuildPaths(const Config& config) {
  source_pool_ = settings_->policy.source_pool;
  const SourcePool* pool = source_pool_.empty() ? nullptr : config.FindSourcePool(source_pool_);
  std::string ehlo = shard_.core().options.hostname;
  picker_.emplace(pool, ehlo);
  for (size_t i = 0; i < active_paths_; ++i) paths_[i]->retired = true;
  std::vector<std::unique_ptr<EgressPath>> fresh;
  for (const Source& s : picker_->sources())
    fresh.push_back(std::make_unique<EgressPath>(*this, s));
  active_paths_ = fresh.size();
  for (auto& p : paths_) fresh.push_back(std::move(p));
  paths_ = std::move(fresh);
}

size_t Site::waiting() const {
  size_t n = 0;
  for (const auto& p : paths_) n += p->ready().size();
  return n;
}

EgressPath* Site::PickPath() { return paths_[static_cast<size_t>(picker_->Next())].get(); }

void Site::Enqueue(Batch b) {
  last_used_ = Clock::now();
  // The freshest answer wins: connections opened from now on use it.
  if (b.hops) hops_ = b.hops;
  if (Clock::now() < dead_until_) {
    shard_.GiveOutcome(b, dead_outcome_, AttemptContext{.site = name_});
    return;
  }
  b.queued_at = Clock::now();
  PickPath()->Push(std::move(b));
  Pump();
}

bool Site::OpenConnection(EgressPath& path, Deadline now) {
  if (connections_ >= MaxConnections() || !shard_.CanOpenConnection()) {
    // At the cap: an idle connection of a path without work gives way.
    for (auto& other : paths_) {
      if (other.get() != &path && other->Unclaimed() == 0 && other->idle().RetireOne()) break;
    }
    return false;
  }
  if (!connection_rate_.TryAcquire(now)) {
    shard_.PumpLater(this);
    return false;
  }
  ++connections_;
  ++path.connections;
  ++path.starting;
  shard_.StartSession(path);
  return true;
}

void Site::Pump() {
  if (shard_.stopping()) return;
  Deadline now = Clock::now();
  for (auto& path : paths_) {
    while (path->Unclaimed() > 0) {
      if (path->idle().WakeOne()) {
        ++path->starting;
        continue;
      }
      if (!OpenConnection(*path, now)) break;
    }
  }
}

void Site::ConnectionClosed(EgressPath& path) {
  --connections_;
  --path.connections;
  last_used_ = Clock::now();
  Pump();
}

void Site::MarkDead(const queue::DeliveryOutcome& outcome, Deadline until) {
  dead_until_ = until;
  dead_outcome_ = outcome;
  dead_outcome_.reason = fmt::format("site unreachable: {}", outcome.reason);
  spdlog::warn("site {}: every address failed ({}); deferring its mail for {} ms", name_,
               outcome.reason,
               std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count());
  for (auto& path : paths_) {
    while (auto b = path->Take()) shard_.GiveOutcome(*b, outcome, AttemptContext{.site = name_});
  }
}

bool Site::Revive() {
  if (Clock::now() >= dead_until_) return false;
  dead_until_ = Deadline{};
  spdlog::info("site {}: unreachable hold ended by a queue flush", name_);
  return true;
}

void Site::RecordAttempt(bool ok, bool temporary, std::string_view reply) {
  if (backoff_.Record(ok, temporary, reply, Clock::now())) {
    shard_.core().counters.backoff_changes.fetch_add(1);
    message_rate_.SetScale(backoff_.scale());
    connection_rate_.SetScale(backoff_.scale());
  }
}

void Site::ApplyPolicy(const DeliveryPolicy& policy, const Config& config) {
  auto s = std::make_shared<DestinationSettings>(*settings_);
  s->policy = policy;
  settings_ = std::move(s);
  message_rate_.SetRate(policy.message_rate);
  connection_rate_.SetRate(policy.connection_rate);
  message_rate_.SetScale(backoff_.scale());
  connection_rate_.SetScale(backoff_.scale());
  backoff_.set_options(shard_.core().options.tuning.backoff);
  // Always rebuilt: the pool's addresses may have changed under the same name.
  BuildPaths(config);
  Pump();
}

void Site::Sweep(Duration age) {
  Deadline limit = Clock::now() - age;
  for (auto& path : paths_) {
    auto& ready = path->ready();
    while (!ready.empty() && ready.front().queued_at < limit) {
      ready.front().ReleaseAll();
      ready.pop_front();
    }
  }
  std::erase_if(paths_, [](const std::unique_ptr<EgressPath>& p) {
    return p->retired && p->connections == 0 && p->ready().empty();
  });
}

void Site::ReleaseAll() {
  for (auto& path : paths_) {
    path->ready().clear();  // each Batch releases itself
    path->idle().WakeAll();
  }
}

}  // namespace salvo::delivery
