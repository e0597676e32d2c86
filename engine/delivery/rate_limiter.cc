#include "engine/delivery/rate_limiter.h"

#include <algorithm>

namespace salvo::delivery {

void RateLimiter::SetRate(std::optional<Rate> rate) {
  if (!rate || rate->count == 0) {
    interval_ = Duration(0);
  } else {
    interval_ = rate->period / static_cast<int64_t>(rate->count);
    if (interval_.count() <= 0) interval_ = Duration(1);
  }
  scaled_ = interval_;
}

void RateLimiter::SetScale(double factor) {
  factor = std::clamp(factor, 1e-6, 1.0);
  scaled_ = std::chrono::duration_cast<Duration>(interval_ / factor);
}

Deadline RateLimiter::Reserve(Deadline now) {
  if (!limited()) return now;
  Deadline at = std::max(now, next_);
  next_ = at + scaled_;
  return at;
}

bool RateLimiter::TryAcquire(Deadline now) {
  if (!limited()) return true;
  if (now < next_) return false;
  next_ = now + scaled_;
  return true;
}

Deadline RateLimiter::NextFree(Deadline now) const {
  if (!limited()) return now;
  return std::max(now, next_);
}

}  // namespace salvo::delivery
