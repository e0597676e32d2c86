#include "engine/smtp/server/limits.h"

#include "absl/strings/match.h"
#include "engine/base/strings.h"

namespace salvo::smtp {

std::string ClientKey(const SocketAddress& client) {
  std::string host = client.HostString();
  if (absl::StartsWith(ToAbsl(host), "::ffff:") && host.find('.') != std::string::npos) {
    host.erase(0, 7);
  }
  return host;
}

ConnectionLimiter::Slot::~Slot() {
  if (limiter_ != nullptr) limiter_->Release(key_);
}

std::optional<ConnectionLimiter::Slot> ConnectionLimiter::TryAcquire(const SocketAddress& client) {
  std::string key = ClientKey(client);
  std::lock_guard<std::mutex> lock(mu_);
  int& n = per_[key];
  if (total_ >= max_total_ || n >= max_per_address_) {
    if (n == 0) per_.erase(key);
    return std::nullopt;
  }
  ++n;
  ++total_;
  return Slot(this, std::move(key));
}

void ConnectionLimiter::Release(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  --total_;
  auto it = per_.find(key);
  if (it != per_.end() && --it->second <= 0) per_.erase(it);
}

int ConnectionLimiter::total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

bool AuthFailureLimiter::Blocked(const SocketAddress& client) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(ClientKey(client));
  if (it == entries_.end()) return false;
  if (Clock::now() - it->second.window_start > window_) {
    entries_.erase(it);
    return false;
  }
  return it->second.failures >= max_failures_;
}

void AuthFailureLimiter::RecordFailure(const SocketAddress& client) {
  Deadline now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= max_tracked_) {
    // Forget expired entries; if none has expired, the oldest one.
    auto oldest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (now - it->second.window_start > window_) {
        entries_.erase(it++);
        continue;
      }
      if (oldest == entries_.end() || it->second.window_start < oldest->second.window_start) {
        oldest = it;
      }
      ++it;
    }
    if (entries_.size() >= max_tracked_ && oldest != entries_.end()) entries_.erase(oldest);
  }
  Entry& e = entries_[ClientKey(client)];
  if (e.failures == 0 || now - e.window_start > window_) e = Entry{0, now};
  ++e.failures;
}

}  // namespace salvo::smtp
