#include "queue/retry_policy.h"

#include <fmt/format.h>
#include <sys/random.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_split.h"
#include "engine/base/strings.h"

namespace salvo::queue {

absl::Status RetryPolicy::Validate() const {
  if (intervals.empty()) return absl::InvalidArgumentError("retry policy: no intervals");
  for (absl::Duration d : intervals) {
    if (d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("retry policy: intervals must be positive");
    }
  }
  if (!(jitter >= 0 && jitter < 1)) {
    return absl::InvalidArgumentError("retry policy: jitter must be in [0, 1)");
  }
  if (max_age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retry policy: max_age must be positive");
  }
  return absl::OkStatus();
}

absl::Time RetryPolicy::NextAttempt(int attempts, absl::Time now, double unit) const {
  size_t i = static_cast<size_t>(std::max(attempts, 1) - 1);
  absl::Duration base = intervals[std::min(i, intervals.size() - 1)];
  double factor = 1.0 + jitter * (2.0 * unit - 1.0);
  return now + base * factor;
}

absl::StatusOr<std::vector<absl::Duration>> RetryPolicy::ParseIntervals(std::string_view text) {
  std::vector<absl::Duration> out;
  for (absl::string_view part : absl::StrSplit(ToAbsl(text), ',', absl::SkipWhitespace())) {
    absl::Duration d;
    std::string p(absl::StripAsciiWhitespace(part));
    if (!absl::ParseDuration(p, &d) || d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(fmt::format("retry interval '{}' is not a duration", p));
    }
    out.push_back(d);
  }
  if (out.empty()) return absl::InvalidArgumentError("retry intervals: none given");
  return out;
}

double RandomUnit() {
  thread_local uint64_t state = [] {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) seed = 0x853c49e6748fea9bULL;
    return seed | 1;
  }();
  state ^= state << 13;  // xorshift64
  state ^= state >> 7;
  state ^= state << 17;
  return static_cast<double>(state >> 11) * 0x1.0p-53;
}

}  // namespace salvo::queue
