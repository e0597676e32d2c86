#include "engine/delivery/feeder.h"

#include "absl/time/clock.h"
#include "engine/delivery/delivery_shard.h"

namespace salvo::delivery {

using namespace std::chrono_literals;

size_t Feeder::TakeAndDistribute() {
  const DeliveryTuning& tuning = core_.options.tuning;
  int64_t room = static_cast<int64_t>(tuning.max_in_flight) - core_.ledger.in_flight();
  if (room <= 0) return 0;
  size_t want = std::min<size_t>(tuning.take_batch, static_cast<size_t>(room));
  std::vector<queue::DueRecipient> due = core_.ledger.spool().TakeDue(want);
  if (due.empty()) return 0;
  core_.ledger.Taken(due.size());
  core_.counters.taken.fetch_add(due.size());
  std::vector<LeaseBundle> per_shard;
  per_shard.reserve(core_.shard_count());
  for (int i = 0; i < core_.shard_count(); ++i) per_shard.emplace_back(&core_.ledger);
  Deadline now = Clock::now();
  for (queue::DueRecipient& d : due) {
    int shard = core_.DomainShard(d.domain);
    per_shard[shard].items.push_back(LeasedRecipient{.due = d, .taken_at = now});
  }
  for (int i = 0; i < core_.shard_count(); ++i) {
    if (per_shard[i].items.empty()) continue;
    core_.PostToShard(i, [bundle = std::move(per_shard[i])](DeliveryShard& s) mutable {
      s.AcceptDue(bundle.Take());
    });
  }
  return due.size();
}

Task<void> Feeder::Run(const bool& stopping) {
  const DeliveryTuning& tuning = core_.options.tuning;
  while (!stopping) {
    if (core_.ledger.in_flight() >= static_cast<int64_t>(tuning.max_in_flight)) {
      // At the cap: outcomes free room continuously; look again soon.
      co_await alarm_.Wait(After(std::min<Duration>(tuning.poll_interval, 10ms)));
      continue;
    }
    size_t taken = TakeAndDistribute();
    if (taken >= tuning.take_batch) continue;  // more may be due right now
    Deadline wake = After(tuning.poll_interval);
    if (taken == 0) {
      if (auto next = core_.ledger.spool().NextDue()) {
        absl::Duration until = *next - absl::Now();
        if (until > absl::ZeroDuration()) {
          wake = std::min(wake, Clock::now() + absl::ToChronoNanoseconds(until));
        }
      }
    }
    co_await alarm_.Wait(wake);
  }
}

}  // namespace salvo::delivery
