#include "engine/delivery/engine_core.h"

#include "dns/mx_set.h"
#include "engine/delivery/delivery_shard.h"

namespace salvo::delivery {

namespace {

const CounterFamily& RecipientOutcomes() {
  static const CounterFamily family = MetricsRegistry::Default().AddCounter(
      "salvo_delivery_recipients_total",
      "Recipients whose delivery attempt was recorded, by outcome (delivered, deferred, failed; "
      "failed includes expired).",
      {"outcome"});
  return family;
}

const CounterFamily& Connections() {
  static const CounterFamily family = MetricsRegistry::Default().AddCounter(
      "salvo_delivery_connections_total",
      "Outbound SMTP connections: opened (greeting, EHLO and TLS as required done), or failed "
      "(no usable connection to any address of the site).",
      {"result"});
  return family;
}

}  // namespace

DeliveryCounters::DeliveryCounters()
    : delivered(RecipientOutcomes().WithLabels({"delivered"})),
      deferred(RecipientOutcomes().WithLabels({"deferred"})),
      failed(RecipientOutcomes().WithLabels({"failed"})),
      transactions(MetricsRegistry::Default()
                       .AddCounter("salvo_delivery_transactions_total",
                                   "Outbound SMTP transactions (MAIL FROM to the final reply).")
                       .Get()),
      connections_opened(Connections().WithLabels({"opened"})),
      connect_failures(Connections().WithLabels({"failed"})),
      batched_sleeps(MetricsRegistry::Default()
                         .AddCounter("salvo_delivery_batched_sleeps_total",
                                     "Shard sleeps that waited for up to 64 completions or [dkim] "
                                     "backlog_wait, because every session waited behind a backlog "
                                     "of DKIM signatures.")
                         .Get()) {}

EngineCore::EngineCore(DeliveryEngineOptions o, std::unique_ptr<DeliveryLog> l,
                       std::shared_ptr<TlsContext> t)
    : options(std::move(o)),
      ledger(options.spool),
      log(std::move(l)),
      tls(std::move(t)),
      read_ahead(options.tuning.content_read_ahead_bytes),
      current_config(options.config),
      rings(static_cast<size_t>(options.shards)),
      shards(static_cast<size_t>(options.shards), nullptr) {}

int EngineCore::DomainShard(std::string_view domain) const {
  return static_cast<int>(dns::SiteId(domain) % static_cast<uint64_t>(options.shards));
}

void EngineCore::PostToShard(int index, absl::AnyInvocable<void(DeliveryShard&)> fn) {
  Ring* ring = rings[static_cast<size_t>(index)].load();
  if (ring == nullptr) return;  // `fn` is dropped: what it owns is released
  ring->Post([this, index, fn = std::move(fn)]() mutable {
    DeliveryShard* shard = shards[static_cast<size_t>(index)];
    if (shard != nullptr && !shard->stopping()) fn(*shard);
  });
}

}  // namespace salvo::delivery
