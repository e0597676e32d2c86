#include "engine/delivery/delivery_engine.h"

#include <unistd.h>

#include "engine/base/strings.h"
#include "engine/delivery/delivery_shard.h"
#include "engine/delivery/engine_core.h"
#include "engine/delivery/expiry_notices.h"
#include "engine/delivery/feeder.h"
#include "engine/loop/ops.h"
#include "spdlog/spdlog.h"

namespace salvo::delivery {

using namespace std::chrono_literals;

namespace {

std::string LocalHostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeliveryEngine>> DeliveryEngine::Create(
    DeliveryEngineOptions options) {
  if (options.spool == nullptr) return absl::InvalidArgumentError("delivery: no spool");
  if (options.config == nullptr) return absl::InvalidArgumentError("delivery: no config");
  if (options.shards < 1) return absl::InvalidArgumentError("delivery: shards must be >= 1");
  if (options.hostname.empty()) options.hostname = options.config->server.hostname;
  if (options.hostname.empty()) options.hostname = LocalHostName();
  if (options.bounce_domain.empty() && !options.config->bounce.domains.empty()) {
    options.bounce_domain = options.config->bounce.domains.front();
  }
  auto log = DeliveryLog::Open(options.tuning.log);
  if (!log.ok()) return log.status();
  auto tls = TlsContext::Client(options.tls);
  if (!tls.ok()) return tls.status();
  auto core = std::make_unique<EngineCore>(std::move(options), std::move(*log),
                                           std::make_shared<TlsContext>(std::move(*tls)));
  return std::unique_ptr<DeliveryEngine>(new DeliveryEngine(std::move(core)));
}

DeliveryEngine::DeliveryEngine(std::unique_ptr<EngineCore> core) : core_(std::move(core)) {
  // The failure DSNs of recipients the spool expires without an attempt.
  EngineCore* c = core_.get();
  c->ledger.spool().set_expiry_notifier(ExpiryNotices(
      c->ledger.spool(), [c] { return c->config(); }, c->options.hostname, [this] { Kick(); }));
}

DeliveryEngine::~DeliveryEngine() {
  // Waits for a sweep that is using the notifier.
  core_->ledger.spool().set_expiry_notifier(nullptr);
}

Task<void> DeliveryEngine::RunShard(Ring& ring, int index) {
  EngineCore& core = *core_;
  auto shard = std::make_unique<DeliveryShard>(core, ring, index);
  if (absl::Status s = shard->Init(); !s.ok()) {
    spdlog::critical("delivery shard {}: {}", index, ToStd(s.message()));
    co_return;
  }
  core.shards[static_cast<size_t>(index)] = shard.get();
  core.rings[static_cast<size_t>(index)].store(&ring);
  core.started.fetch_add(1);
  if (index == 0) {
    // The feeder hands work to every shard: wait until they all run.
    while (core.started.load() < core.shard_count() && !ring.stop_requested()) {
      co_await SleepFor(5ms);
    }
  }
  co_await shard->Run();
  // Posts from now on (Kick, Apply, hand-overs) are dropped, not queued on a
  // ring that is about to stop.
  core.rings[static_cast<size_t>(index)].store(nullptr);
  core.shards[static_cast<size_t>(index)] = nullptr;
}

void DeliveryEngine::Apply(std::shared_ptr<const Config> config) {
  {
    std::lock_guard<std::mutex> lock(core_->config_mu);
    core_->current_config = config;
  }
  for (int i = 0; i < core_->shard_count(); ++i) {
    core_->PostToShard(i, [config](DeliveryShard& s) { s.ApplyConfig(config); });
  }
  spdlog::info("delivery: new config applied (takes effect for new connections)");
}

void DeliveryEngine::Kick() {
  // Called after every accept: coalesced, so that a burst of accepts costs
  // one cross-thread wake of shard 0, not one each.
  EngineCore* core = core_.get();
  if (core->kick_pending.exchange(true, std::memory_order_acq_rel)) return;
  Ring* ring = core->rings[0].load();
  if (ring == nullptr) {
    core->kick_pending.store(false, std::memory_order_release);
    return;
  }
  ring->Post([core] {
    // Cleared before the wake: an accept after this point kicks again.
    core->kick_pending.store(false, std::memory_order_release);
    DeliveryShard* shard = core->shards[0];
    if (shard != nullptr && !shard->stopping() && shard->feeder() != nullptr) {
      shard->feeder()->Wake();
    }
  });
}

void DeliveryEngine::RetryNow() {
  // Posted before the kick: each shard revives its sites before any batch
  // the kick produces reaches it (a ring runs its posts in order).
  for (int i = 0; i < core_->shard_count(); ++i) {
    core_->PostToShard(i, [](DeliveryShard& s) { s.ReviveSites(); });
  }
  Kick();
}

DeliveryStats DeliveryEngine::stats() const {
  const DeliveryCounters& c = core_->counters;
  return DeliveryStats{.taken = c.taken.load(),
                       .delivered = c.delivered.load(),
                       .deferred = c.deferred.load(),
                       .failed = c.failed.load(),
                       .outcome_errors = c.outcome_errors.load(),
                       .transactions = c.transactions.load(),
                       .connections_opened = c.connections_opened.load(),
                       .connect_failures = c.connect_failures.load(),
                       .backoff_changes = c.backoff_changes.load(),
                       .held_back = c.held_back.load(),
                       .batched_sleeps = c.batched_sleeps.load(),
                       .in_flight = core_->ledger.in_flight()};
}

void DeliveryEngine::FlushLog() {
  if (core_->log) core_->log->Flush();
}

}  // namespace salvo::delivery
