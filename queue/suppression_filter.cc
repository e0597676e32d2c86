#include "queue/suppression_filter.h"

#include <functional>
#include <mutex>

namespace salvo::queue {

uint64_t SuppressionFilter::Fingerprint(std::string_view normalized) {
  return std::hash<std::string_view>{}(normalized);  // 64-bit murmur in libstdc++
}

bool SuppressionFilter::MayContain(std::string_view normalized) const {
  uint64_t f = Fingerprint(normalized);
  std::shared_lock lock(mu_);
  return fingerprints_.contains(f);
}

void SuppressionFilter::Add(std::string_view normalized) {
  uint64_t f = Fingerprint(normalized);
  std::unique_lock lock(mu_);
  fingerprints_.insert(f);
}

size_t SuppressionFilter::size() const {
  std::shared_lock lock(mu_);
  return fingerprints_.size();
}

}  // namespace salvo::queue
