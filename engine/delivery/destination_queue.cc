#include "engine/delivery/destination_queue.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "engine/base/strings.h"
#include "engine/delivery/delivery_shard.h"
#include "engine/delivery/outcome_mapping.h"
#include "spdlog/spdlog.h"

namespace salvo::delivery {

using namespace std::chrono_literals;

DestinationQueue::DestinationQueue(DeliveryShard& shard, std::string domain)
    : shard_(shard),
      domain_(std::move(domain)),
      held_(std::make_shared<std::atomic<int64_t>>(0)),
      last_used_(Clock::now()) {}

bool DestinationQueue::unused() const {
  return loading_ == 0 && !resolving_ && ready_.empty() && held_->load() == 0;
}

std::vector<LeasedRecipient> DestinationQueue::Admit(std::vector<LeasedRecipient> recipients) {
  last_used_ = Clock::now();
  const DeliveryTuning& tuning = shard_.core().options.tuning;
  int64_t room = static_cast<int64_t>(tuning.max_held_per_domain) - held_->load();
  if (room < static_cast<int64_t>(recipients.size())) {
    size_t keep = static_cast<size_t>(std::max<int64_t>(0, room));
    absl::Time later = absl::Now() + absl::FromChrono(tuning.hold_release_delay);
    for (size_t i = keep; i < recipients.size(); ++i) {
      shard_.core().ledger.Release(recipients[i].due, later);
    }
    shard_.core().counters.held_back.fetch_add(recipients.size() - keep);
    recipients.resize(keep);
  }
  if (recipients.empty()) return recipients;
  held_->fetch_add(static_cast<int64_t>(recipients.size()));
  ++loading_;
  bool stale = hops_ == nullptr || hops_->expires <= Clock::now();
  if (stale && !resolving_) {
    resolving_ = true;
    shard_.Spawn(Resolve());
  }
  return recipients;
}

void DestinationQueue::Loaded(std::vector<LeasedRecipient> recipients,
                              std::vector<absl::Status> errors) {
  --loading_;
  for (size_t i = 0; i < recipients.size(); ++i) {
    if (errors[i].ok()) {
      ready_.push_back(std::move(recipients[i]));
      continue;
    }
    // Suppressed since it was accepted: final, never sent. Its record is
    // gone or unreadable: nothing can be sent; say so once.
    held_->fetch_sub(1);
    queue::DeliveryOutcome o;
    bool suppressed = absl::IsFailedPrecondition(errors[i]);
    o.kind = absl::IsNotFound(errors[i]) || suppressed ? queue::DeliveryOutcome::Kind::kFailed
                                                       : queue::DeliveryOutcome::Kind::kDeferred;
    o.reason = suppressed ? ToStd(errors[i].message())
                          : fmt::format("recipient record: {}", ToStd(errors[i].message()));
    shard_.recorder().Record(recipients[i], std::move(o), AttemptContext{});
  }
  if (shard_.stopping()) {
    ReleaseAll();
    return;
  }
  Dispatch();
}

Task<void> DestinationQueue::Resolve() {
  std::shared_ptr<const Config> config = shard_.config_ptr();
  auto hops = co_await ResolveNextHops(shard_.resolver(), *config, domain_);
  resolving_ = false;
  if (hops.ok()) {
    hops_ = std::move(*hops);
    if (hops_->expires < Clock::now() + 1s) {
      auto copy = std::make_shared<NextHops>(*hops_);
      copy->expires = Clock::now() + 1s;  // one answer serves what is waiting now
      hops_ = std::move(copy);
    }
    settings_ = SettingsFor(*config, shard_.core().options.tuning, domain_, hops_->primary_host());
    dns_error_ = absl::OkStatus();
  } else {
    hops_.reset();
    dns_error_ = hops.status();
  }
  if (shard_.stopping()) {
    ReleaseAll();
    co_return;
  }
  Dispatch();
}

void DestinationQueue::Dispatch() {
  if (resolving_ || ready_.empty()) return;
  if (!dns_error_.ok()) {
    DispatchFailure();
    return;
  }
  if (hops_ == nullptr || hops_->expires <= Clock::now()) {
    resolving_ = true;
    shard_.Spawn(Resolve());
    return;
  }
  size_t per_txn =
      static_cast<size_t>(std::max(1, settings_->policy.max_recipients_per_transaction));
  absl::flat_hash_map<queue::ContentId, size_t> open;  // content -> index in batches
  std::vector<Batch> batches;
  for (LeasedRecipient& r : ready_) {
    auto it = open.find(r.due.content);
    if (it == open.end() || batches[it->second].recipients().size() >= per_txn) {
      batches.emplace_back(&shard_.core().ledger, r.due.content, domain_);
      Batch& b = batches.back();
      b.hops = hops_;
      b.settings = settings_;
      b.held = held_;
      open[r.due.content] = batches.size() - 1;
      it = open.find(r.due.content);
    }
    batches[it->second].recipients().push_back(std::move(r));
  }
  ready_.clear();
  last_used_ = Clock::now();
  shard_.SendToSite(hops_->site_id, std::move(batches));
}

void DestinationQueue::DispatchFailure() {
  queue::DeliveryOutcome base = OutcomeFromDnsError(dns_error_, domain_);
  std::shared_ptr<const Config> config = shard_.config_ptr();
  auto settings = SettingsFor(*config, shard_.core().options.tuning, domain_, "");
  absl::Time now = absl::Now();
  for (LeasedRecipient& r : ready_) {
    queue::DeliveryOutcome o = base;
    ApplyRetryPolicy(settings->retry, r.due.attempts, r.due.accepted_at, now, o);
    shard_.recorder().Record(r, std::move(o), AttemptContext{});
  }
  held_->fetch_sub(static_cast<int64_t>(ready_.size()));
  ready_.clear();
  dns_error_ = absl::OkStatus();  // the next arrival asks DNS again (its cache answers)
}

void DestinationQueue::ReleaseAll() {
  for (const LeasedRecipient& r : ready_) shard_.core().ledger.Release(r.due);
  held_->fetch_sub(static_cast<int64_t>(ready_.size()));
  ready_.clear();
}

}  // namespace salvo::delivery
