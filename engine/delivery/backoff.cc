#include "engine/delivery/backoff.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "spdlog/spdlog.h"

namespace salvo::delivery {
namespace {

bool ContainsIgnoringCase(std::string_view text, std::string_view needle) {
  if (needle.empty() || needle.size() > text.size()) return false;
  auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it != text.end();
}

}  // namespace

double SiteBackoff::scale() const { return std::pow(options_.factor, level_); }

int SiteBackoff::ScaledCap(int cap) const {
  if (level_ == 0) return cap;
  return std::max(1, static_cast<int>(std::lround(cap * scale())));
}

bool SiteBackoff::MatchesPattern(std::string_view reply) const {
  for (const std::string& p : options_.reply_patterns) {
    if (ContainsIgnoringCase(reply, p)) return true;
  }
  return false;
}

void SiteBackoff::Change(int level, Deadline now, std::string_view why) {
  int old = level_;
  level_ = level;
  changed_at_ = now;
  window_.clear();
  failures_in_window_ = 0;
  successes_in_row_ = 0;
  if (level > old) {
    spdlog::warn("backoff: site {} slowed down to level {} (x{:.3g} connections and rate): {}",
                 site_, level, scale(), why);
  } else {
    spdlog::info("backoff: site {} recovered to level {} (x{:.3g}): {}", site_, level, scale(),
                 why);
  }
}

bool SiteBackoff::Record(bool ok, bool temporary, std::string_view reply, Deadline now) {
  if (!options_.enabled) return false;
  if (!ok && !reply.empty() && MatchesPattern(reply) && level_ < options_.max_level) {
    Change(level_ + 1, now, fmt::format("reply matched a backoff pattern: {}", reply));
    return true;
  }
  bool failure = !ok && temporary;
  window_.push_back(failure);
  failures_in_window_ += failure ? 1 : 0;
  while (static_cast<int>(window_.size()) > options_.window) {
    failures_in_window_ -= window_.front() ? 1 : 0;
    window_.pop_front();
  }
  successes_in_row_ = ok ? successes_in_row_ + 1 : 0;
  int n = static_cast<int>(window_.size());
  if (level_ < options_.max_level && n >= options_.min_attempts &&
      failures_in_window_ >= options_.trigger_share * n) {
    Change(level_ + 1, now,
           fmt::format("{} of the last {} attempts failed temporarily (last: {})",
                       failures_in_window_, n, reply.empty() ? "-" : reply));
    return true;
  }
  if (level_ > 0 && successes_in_row_ >= options_.recovery_successes &&
      now - changed_at_ >= options_.min_hold) {
    Change(level_ - 1, now, fmt::format("{} successes in a row", successes_in_row_));
    return true;
  }
  return false;
}

}  // namespace salvo::delivery
