// SoftBounceCounter: how many soft bounces an address had within a window,
// so that only repeated soft failures (a mailbox full for a week) suppress
// it, while one full mailbox does not.
//
// Bounded: at most max_addresses addresses and `limit` times each are kept;
// when the table is full, addresses whose last bounce left the window are
// dropped first, and if none did the oldest half of the table goes (an
// address then starts counting again — it errs toward sending, never toward
// suppressing too early). In memory: a restart starts every count again
// (documented in docs/dsn.md). Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace salvo::bounce {

class SoftBounceCounter {
 public:
  SoftBounceCounter(int limit, absl::Duration window, size_t max_addresses = 1 << 20);

  // Counts one soft bounce of `address` at `now`; true once the address has
  // had `limit` of them within the window (the caller suppresses it, and
  // the count starts again).
  bool Record(std::string_view address, absl::Time now);
  size_t size() const;

 private:
  void Trim(absl::Time now);  // mu_ held

  const int limit_;
  const absl::Duration window_;
  const size_t max_addresses_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::vector<absl::Time>> times_;  // guarded by mu_
};

}  // namespace salvo::bounce
