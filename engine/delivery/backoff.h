// SiteBackoff: automatic slow-down of one receiving site. It watches the
// outcome of each attempt (a transaction or a connection) in a sliding
// window; when the share of temporary failures (421 / 4xx, connections
// refused or timed out) reaches `trigger_share`, or a reply matches one of
// the configured patterns, the site goes one level down: its connection cap
// and message rate are multiplied by `factor` per level. After
// `recovery_successes` successes in a row (and at least `min_hold` at the
// level) it climbs one level back. Every change is logged.
// Single-threaded: one per site, on the site's shard.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/deadline.h"

namespace salvo::delivery {

using namespace std::chrono_literals;

struct BackoffOptions {
  bool enabled = true;
  int window = 20;             // attempts considered
  int min_attempts = 10;       // no decision on fewer
  double trigger_share = 0.5;  // share of temporary failures that triggers
  double factor = 0.5;         // per level, on connections and rate
  int max_level = 4;
  int recovery_successes = 50;  // successes in a row to climb one level
  Duration min_hold = 30s;      // least time at a level before climbing
  // Case-insensitive substrings of a reply ("too many connections",
  // "rate limit") that trigger a level down at once.
  std::vector<std::string> reply_patterns;
};

class SiteBackoff {
 public:
  SiteBackoff(std::string site, BackoffOptions options)
      : site_(std::move(site)), options_(std::move(options)) {}

  // One attempt: `ok` for a success, else `temporary` for a 4xx / connection
  // failure (5xx answers are neither: they say nothing about load).
  // `reply` is the server's text, matched against the patterns.
  // Returns true when the level changed.
  bool Record(bool ok, bool temporary, std::string_view reply, Deadline now);

  int level() const { return level_; }
  // Multiplier for connections and rate at the current level (1 at level 0).
  double scale() const;
  // max(1, round(cap * scale())).
  int ScaledCap(int cap) const;
  void set_options(BackoffOptions options) { options_ = std::move(options); }

 private:
  bool MatchesPattern(std::string_view reply) const;
  void Change(int level, Deadline now, std::string_view why);

  std::string site_;
  BackoffOptions options_;
  std::deque<bool> window_;  // true = temporary failure
  int failures_in_window_ = 0;
  int successes_in_row_ = 0;
  int level_ = 0;
  Deadline changed_at_{};
};

}  // namespace salvo::delivery
