// ConnectionPool: the idle connections of one egress path, kept open for
// reuse. A session with nothing to send parks here (up to the policy's idle
// timeout) instead of closing; new work wakes the most recently parked one
// (so the others age out and QUIT); Retire() asks one to close so that its
// connection slot can go to another path; shutdown wakes them all.
// Single-threaded: the site's shard.
#pragma once

#include <cstddef>
#include <vector>

namespace salvo::delivery {

class DeliverySession;

class ConnectionPool {
 public:
  void Park(DeliverySession* s) { parked_.push_back(s); }
  void Unpark(DeliverySession* s);
  // Wakes the most recently parked session to take work; false if none.
  bool WakeOne();
  // Wakes the longest-parked session with the request to close.
  bool RetireOne();
  void WakeAll();
  size_t size() const { return parked_.size(); }

 private:
  std::vector<DeliverySession*> parked_;  // oldest first
};

}  // namespace salvo::delivery
