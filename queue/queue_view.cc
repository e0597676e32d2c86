// Spool::SummarizeQueue and Spool::RetryNow (queue_view.h).
#include <algorithm>
#include <mutex>

#include "absl/strings/ascii.h"
#include "queue/spool.h"
#include "queue/spool_core.h"

namespace salvo::queue {
namespace {

// Slots walked per hold of the spool lock.
constexpr Schedule::Slot kSlotsPerLock = 1 << 15;

absl::Time FromIndexSeconds(UnixSeconds s) { return absl::FromUnixSeconds(s); }

void Count(const ScheduleEntry& e, DestinationSummary& d) {
  switch (e.state) {
    case EntryState::kFree:
      return;
    case EntryState::kQueued:
      ++d.queued;
      d.deferred += e.attempts > 0;
      d.next_attempt = std::min(d.next_attempt, FromIndexSeconds(e.due));
      break;
    case EntryState::kPaused:
      ++d.paused;
      break;
    case EntryState::kInFlight:
    case EntryState::kCommitting:
    case EntryState::kExpiring:
      ++d.in_flight;
      break;
  }
  ++d.recipients;
  d.oldest_accepted = std::min(d.oldest_accepted, FromIndexSeconds(e.accepted_s()));
  d.max_attempts = std::max(d.max_attempts, e.attempts);
}

QueueSummary Summarize(Spool::Core& core, size_t limit) {
  std::vector<DestinationSummary> by_domain;
  for (Schedule::Slot begin = 0;; begin += kSlotsPerLock) {
    std::lock_guard<std::mutex> lock(core.mu);
    Schedule::Slot end = std::min(core.schedule.slot_limit(), begin + kSlotsPerLock);
    if (begin >= end) break;
    if (by_domain.size() < core.domains.size()) by_domain.resize(core.domains.size());
    for (Schedule::Slot slot = begin; slot < end; ++slot) {
      const ScheduleEntry& e = core.schedule.at(slot);
      if (e.state != EntryState::kFree) Count(e, by_domain[e.domain]);
    }
  }
  QueueSummary out;
  std::vector<uint32_t> used;
  for (uint32_t i = 0; i < by_domain.size(); ++i) {
    const DestinationSummary& d = by_domain[i];
    if (d.recipients == 0) continue;
    used.push_back(i);
    out.recipients += d.recipients;
    out.queued += d.queued;
    out.deferred += d.deferred;
    out.in_flight += d.in_flight;
    out.paused += d.paused;
  }
  out.domains = used.size();
  {
    // Names are never removed or changed: views taken under the lock stay valid.
    std::lock_guard<std::mutex> lock(core.mu);
    std::vector<std::string_view> names(used.size());
    for (size_t k = 0; k < used.size(); ++k) names[k] = core.domains.name(used[k]);
    std::vector<size_t> order(used.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    auto before = [&](size_t a, size_t b) {
      size_t ra = by_domain[used[a]].recipients, rb = by_domain[used[b]].recipients;
      return ra != rb ? ra > rb : names[a] < names[b];
    };
    size_t n = std::min(limit, order.size());
    std::partial_sort(order.begin(), order.begin() + n, order.end(), before);
    out.destinations.reserve(n);
    for (size_t k = 0; k < n; ++k) {
      DestinationSummary d = std::move(by_domain[used[order[k]]]);
      d.domain = std::string(names[order[k]]);
      out.destinations.push_back(std::move(d));
    }
  }
  return out;
}

size_t Retry(Spool::Core& core, const std::string& domain, absl::Time now) {
  UnixSeconds now_s = ToIndexSeconds(now);
  std::optional<uint32_t> only;
  if (!domain.empty()) {
    std::lock_guard<std::mutex> lock(core.mu);
    only = core.domains.Find(domain);
    if (!only) return 0;  // never queued here
  }
  size_t moved = 0;
  for (Schedule::Slot begin = 0;; begin += kSlotsPerLock) {
    std::lock_guard<std::mutex> lock(core.mu);
    Schedule::Slot end = std::min(core.schedule.slot_limit(), begin + kSlotsPerLock);
    if (begin >= end) break;
    for (Schedule::Slot slot = begin; slot < end; ++slot) {
      const ScheduleEntry& e = core.schedule.at(slot);
      if (e.state != EntryState::kQueued || e.due <= now_s) continue;
      if (only && e.domain != *only) continue;
      core.schedule.Place(slot, EntryState::kQueued, now_s);
      ++moved;
    }
  }
  return moved;
}

}  // namespace

SpoolOp<absl::StatusOr<QueueSummary>> Spool::SummarizeQueue(size_t limit) {
  using R = absl::StatusOr<QueueSummary>;
  return OnReader<R>(
      core_.get(), [core = core_.get(), limit](RocksDb&) -> R { return Summarize(*core, limit); });
}

SpoolOp<absl::StatusOr<size_t>> Spool::RetryNow(std::string domain, absl::Time now) {
  using R = absl::StatusOr<size_t>;
  absl::AsciiStrToLower(&domain);
  return OnReader<R>(core_.get(),
                     [core = core_.get(), domain = std::move(domain), now](RocksDb&) -> R {
                       return Retry(*core, domain, now);
                     });
}

}  // namespace salvo::queue
