// Feeder: moves due recipients from the spool into the engine. It runs on
// shard 0: TakeDue() in slices of take_batch while fewer than max_in_flight
// recipients are leased engine-wide, and hands each recipient to the shard
// that owns its domain. Between passes it sleeps until the schedule's next
// due time or poll_interval, whichever is sooner; Kick() (new mail accepted,
// outcomes freeing room) wakes it at once.
#pragma once

#include "engine/delivery/alarm.h"
#include "engine/delivery/engine_core.h"
#include "engine/loop/task.h"

namespace salvo::delivery {

class Feeder {
 public:
  explicit Feeder(EngineCore& core) : core_(core) {}
  // Until `stopping` is set and Wake()d.
  Task<void> Run(const bool& stopping);
  // On shard 0's ring.
  void Wake() { alarm_.Wake(); }

 private:
  // One pass; returns how many it took.
  size_t TakeAndDistribute();

  EngineCore& core_;
  Alarm alarm_;
};

}  // namespace salvo::delivery
