// Parsers for the human-readable quantities of the config file: durations
// ("250ms", "5s", "10m", "2h", "5d", and sums like "1h30m"), rates ("10/s",
// "600/min", "1000/h", "50000/d") and byte sizes ("512", "10MB", "512KiB").
// Pure functions: no I/O, no allocation beyond the error message. Every value
// is a non-negative integer count of its unit; fractions ("1.5h") are refused
// so that an operator never wonders how they round. Overflow is an error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/base/deadline.h"

namespace salvo {

// "0" (no unit needed), or one or more <integer><unit> terms, unit one of
// us, ms, s, m (minutes), min, h, d. Case-sensitive: "M" is not a minute.
absl::StatusOr<Duration> ParseDuration(std::string_view text);
// The shortest exact spelling: 90s -> "1m30s", 1500ms -> "1s500ms", 0 -> "0s".
std::string FormatDuration(Duration d);

// `count` events per `period`: "10/s", "600/min", "1000/h", "5/d".
struct Rate {
  uint64_t count = 0;
  Duration period = std::chrono::seconds(1);

  double PerSecond() const;
  friend bool operator==(const Rate&, const Rate&) = default;
};
// "<count>/<unit>" with unit s|sec, m|min, h|hour, d|day; count >= 1.
absl::StatusOr<Rate> ParseRate(std::string_view text);
std::string FormatRate(const Rate& rate);

// Bytes: "4096", "4096B", "10KB"/"10MB"/"10GB" (powers of 1000),
// "512KiB"/"10MiB"/"1GiB" (powers of 1024). Units are case-insensitive.
absl::StatusOr<uint64_t> ParseSize(std::string_view text);
// "10MiB" when exact in binary units, else "10MB" when exact, else bytes.
std::string FormatSize(uint64_t bytes);

}  // namespace salvo
