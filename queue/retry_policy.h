// When a deferred recipient is tried again, and when it gives up.
//
// After the n-th failed attempt the next one waits intervals[n-1] (the last
// interval repeats), stretched or shrunk by up to +-jitter so that recipients
// deferred together do not all come back in the same second. No attempt is
// scheduled past max_age after acceptance (the last one is pulled in to it);
// a recipient still queued after that fails as expired.
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace salvo::queue {

struct RetryPolicy {
  std::vector<absl::Duration> intervals = {absl::Minutes(5),  absl::Minutes(10), absl::Minutes(20),
                                           absl::Minutes(40), absl::Hours(1),    absl::Hours(2),
                                           absl::Hours(4),    absl::Hours(8)};
  double jitter = 0.1;                        // fraction of the interval, in [0, 1)
  absl::Duration max_age = absl::Hours(120);  // 5 days, as Postfix's default

  absl::Status Validate() const;

  // The time of the next attempt after `attempts` (>= 1) attempts, the last
  // of which ended at `now`. `unit` in [0, 1) draws the jitter: 0.5 is none.
  absl::Time NextAttempt(int attempts, absl::Time now, double unit) const;

  // Parses "5m,10m,1h,4h" (absl duration syntax) into intervals.
  static absl::StatusOr<std::vector<absl::Duration>> ParseIntervals(std::string_view text);
};

// A uniform double in [0, 1) from a per-thread generator (jitter draws).
double RandomUnit();

}  // namespace salvo::queue
