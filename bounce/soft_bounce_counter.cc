#include "bounce/soft_bounce_counter.h"

#include <algorithm>

namespace salvo::bounce {

SoftBounceCounter::SoftBounceCounter(int limit, absl::Duration window, size_t max_addresses)
    : limit_(std::max(limit, 1)),
      window_(window),
      max_addresses_(std::max<size_t>(max_addresses, 2)) {}

bool SoftBounceCounter::Record(std::string_view address_view, absl::Time now) {
  std::string address(address_view);
  std::lock_guard<std::mutex> lock(mu_);
  if (times_.size() >= max_addresses_ && !times_.contains(address)) Trim(now);
  std::vector<absl::Time>& times = times_[address];
  std::erase_if(times, [&](absl::Time t) { return now - t >= window_; });
  times.push_back(now);
  if (static_cast<int>(times.size()) < limit_) return false;
  times_.erase(address);
  return true;
}

size_t SoftBounceCounter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return times_.size();
}

void SoftBounceCounter::Trim(absl::Time now) {
  absl::erase_if(times_, [&](const auto& entry) {
    return entry.second.empty() || now - entry.second.back() >= window_;
  });
  if (times_.size() < max_addresses_) return;
  // Nothing expired: drop the half whose last bounce is oldest.
  std::vector<absl::Time> last;
  last.reserve(times_.size());
  for (const auto& [address, times] : times_) last.push_back(times.back());
  auto middle = last.begin() + static_cast<std::ptrdiff_t>(last.size() / 2);
  std::nth_element(last.begin(), middle, last.end());
  absl::Time cut = *middle;
  absl::erase_if(times_, [&](const auto& entry) { return entry.second.back() <= cut; });
}

}  // namespace salvo::bounce
