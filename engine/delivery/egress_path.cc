#include "engine/delivery/egress_path.h"

namespace salvo::delivery {

std::optional<Batch> EgressPath::Take() {
  if (ready_.empty()) return std::nullopt;
  Batch b = std::move(ready_.front());
  ready_.pop_front();
  return b;
}

size_t EgressPath::Unclaimed() const {
  size_t claimed = static_cast<size_t>(std::max(0, starting));
  return ready_.size() > claimed ? ready_.size() - claimed : 0;
}

}  // namespace salvo::delivery
