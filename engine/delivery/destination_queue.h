// DestinationQueue: the scheduled queue of one recipient domain, on the
// shard that owns the domain. Recipients arrive from the feeder; their
// records are read from the spool and the domain's next hops resolved (once
// for all of them: MX, or a route); then they leave in batches — the
// recipients of one content, up to the policy's recipients per transaction —
// for the shard that owns their site. A failed resolution gives every
// waiting recipient its outcome (failed when permanent, deferred otherwise).
//
// It holds at most max_held_per_domain recipients (counting those already
// handed to a site and not finished); beyond that, arrivals go back to the
// spool for a while, so one slow domain cannot take every lease.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/delivery/destination_settings.h"
#include "engine/delivery/lease.h"
#include "engine/delivery/route_table.h"
#include "engine/loop/task.h"

namespace salvo::delivery {

class DeliveryShard;

class DestinationQueue {
 public:
  DestinationQueue(DeliveryShard& shard, std::string domain);

  // Arrivals from the feeder, in two steps so that the shard reads the
  // records of all its arrivals in one spool read: Admit() keeps what the
  // domain has room for (the rest goes back to the spool), starts resolving
  // the next hops if they are stale, and returns what it kept; the shard
  // reads those and hands them to Loaded() with their read errors.
  std::vector<LeasedRecipient> Admit(std::vector<LeasedRecipient> recipients);
  void Loaded(std::vector<LeasedRecipient> recipients, std::vector<absl::Status> errors);
  // Forgets the next hops (config reload: routes or rules may have changed).
  void Invalidate() { hops_.reset(); }
  bool unused() const;
  Deadline last_used() const { return last_used_; }
  // Shutdown: gives every recipient not yet dispatched back to the spool.
  void ReleaseAll();

 private:
  Task<void> Resolve();
  void Dispatch();
  void DispatchFailure();

  DeliveryShard& shard_;
  std::string domain_;
  std::shared_ptr<const NextHops> hops_;
  std::shared_ptr<const DestinationSettings> settings_;
  absl::Status dns_error_;
  bool resolving_ = false;
  int loading_ = 0;                     // Admit()ed groups not yet Loaded()
  std::vector<LeasedRecipient> ready_;  // loaded, waiting for next hops
  HeldCounter held_;
  Deadline last_used_{};
};

}  // namespace salvo::delivery
