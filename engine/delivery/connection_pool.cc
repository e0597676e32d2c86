#include "engine/delivery/connection_pool.h"

#include <algorithm>

#include "engine/delivery/delivery_session.h"

namespace salvo::delivery {

void ConnectionPool::Unpark(DeliverySession* s) {
  auto it = std::find(parked_.begin(), parked_.end(), s);
  if (it != parked_.end()) parked_.erase(it);
}

bool ConnectionPool::WakeOne() {
  if (parked_.empty()) return false;
  DeliverySession* s = parked_.back();
  parked_.pop_back();
  s->Wake(/*retire=*/false);
  return true;
}

bool ConnectionPool::RetireOne() {
  if (parked_.empty()) return false;
  DeliverySession* s = parked_.front();
  parked_.erase(parked_.begin());
  s->Wake(/*retire=*/true);
  return true;
}

void ConnectionPool::WakeAll() {
  std::vector<DeliverySession*> all = std::move(parked_);
  parked_.clear();
  for (DeliverySession* s : all) s->Wake(/*retire=*/true);
}

}  // namespace salvo::delivery
