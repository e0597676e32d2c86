// RateLimiter: paces events (messages, new connections) to a Rate without
// bursts — GCRA with zero tolerance: event k is never allowed before
// k * (period / count) after the first, so any window of length `period`
// sees at most `count` events. Reservations are handed out in order, so
// several sessions sharing one limiter each get their own slot. A rate can be
// scaled down (backoff) at any moment; it applies to the next reservation.
// Single-threaded: one limiter per site, on the site's shard.
#pragma once

#include <optional>

#include "engine/base/deadline.h"
#include "engine/config/units.h"

namespace salvo::delivery {

class RateLimiter {
 public:
  RateLimiter() = default;
  explicit RateLimiter(std::optional<Rate> rate) { SetRate(rate); }

  // nullopt: unlimited. Keeps the schedule already handed out.
  void SetRate(std::optional<Rate> rate);
  // Multiplies the interval by 1/factor (factor in (0, 1]); 1 restores it.
  void SetScale(double factor);
  bool limited() const { return interval_.count() > 0; }
  Duration interval() const { return scaled_; }

  // Reserves the next slot: the time at which the caller may proceed (now or
  // later).
  Deadline Reserve(Deadline now);
  // True (and consumes the slot) if an event may happen at `now`.
  bool TryAcquire(Deadline now);
  // When TryAcquire would next succeed.
  Deadline NextFree(Deadline now) const;

 private:
  Duration interval_{0};  // period / count
  Duration scaled_{0};    // interval_ / scale
  Deadline next_{};       // theoretical arrival time of the next event
};

}  // namespace salvo::delivery
