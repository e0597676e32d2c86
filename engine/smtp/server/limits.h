// The inbound SMTP server's limits and the two counters that outlive one
// session: connections per client address (and in total), and
// authentication failures per client address.
//
// Both counters are thread-safe (a mutex held for a hash-map update, taken
// once per connection or per failed AUTH — not per command), so one
// instance can be shared by every shard's listener of a kind. Memory is
// bounded: the failure tracker keeps at most `max_tracked` addresses and
// forgets the oldest first.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "engine/base/deadline.h"
#include "engine/net/socket_address.h"

namespace salvo::smtp {

using namespace std::chrono_literals;

struct ServerLimits {
  size_t max_command_line = 2048;  // octets without CRLF; longer: 500 5.5.2 (Postfix: 2048)
  size_t max_auth_line = 12288;    // an AUTH response line (RFC 4954 §4)
  size_t max_data_line = 998;      // RFC 5322 §2.1.1; 0: unlimited
  uint64_t max_message_size = 50ull << 20;  // SIZE advertised; 552 5.3.4
  size_t max_recipients = 1000;             // per transaction; then 452 4.5.3
  int max_errors = 20;                      // 5xx replies, then 421 and close
  int max_auth_failures_per_session = 3;    // then 421 4.7.0 and close
  Duration auth_failure_delay = 1s;         // before each 535, times the session's failures
  Duration max_auth_failure_delay = 5s;
};

// RFC 5321 §4.5.3.2: the server waits at least 5 minutes for a command
// and for each piece of DATA.
struct ServerTimeouts {
  Duration command = 5min;        // idle between commands (and AUTH responses)
  Duration data = 5min;           // each read while receiving DATA/BDAT content
  Duration tls_handshake = 1min;  // STARTTLS / implicit TLS
  Duration write = 2min;          // sending replies
  Duration linger = 2s;           // reading what a closed-on client still sends
};

class ConnectionLimiter {
 public:
  ConnectionLimiter(int max_total, int max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // Holds one connection's place; releases it when destroyed.
  class Slot {
   public:
    Slot(Slot&& o) noexcept : limiter_(std::exchange(o.limiter_, nullptr)), key_(o.key_) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class ConnectionLimiter;
    Slot(ConnectionLimiter* limiter, std::string key) : limiter_(limiter), key_(std::move(key)) {}
    ConnectionLimiter* limiter_;
    std::string key_;
  };

  // A slot, or nullopt when the total or `client`'s count is at its limit.
  std::optional<Slot> TryAcquire(const SocketAddress& client);
  int total() const;

 private:
  void Release(const std::string& key);

  const int max_total_;
  const int max_per_address_;
  mutable std::mutex mu_;
  int total_ = 0;                              // guarded by mu_
  absl::flat_hash_map<std::string, int> per_;  // guarded by mu_
};

class AuthFailureLimiter {
 public:
  AuthFailureLimiter(int max_failures, Duration window, size_t max_tracked = 65536)
      : max_failures_(max_failures), window_(window), max_tracked_(max_tracked) {}

  // True when `client` failed `max_failures` times within the window.
  bool Blocked(const SocketAddress& client);
  void RecordFailure(const SocketAddress& client);

 private:
  struct Entry {
    int failures = 0;
    Deadline window_start;
  };
  const int max_failures_;
  const Duration window_;
  const size_t max_tracked_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_;  // guarded by mu_
};

// The key a client is counted under: its IP address (an IPv4-mapped IPv6
// address counts as the IPv4 one).
std::string ClientKey(const SocketAddress& client);

}  // namespace salvo::smtp
