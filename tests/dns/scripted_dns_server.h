// Test helper: a tiny DNS server on 127.0.0.1:<ephemeral port>, UDP and TCP,
// on its own thread, that answers each query with whatever the test's handler
// returns: nothing (a silent server), a crafted answer, several messages (a
// wrong id first, say) or bytes that are not DNS at all. Over TCP each reply
// gets its 2-byte length prefix, unless it starts with kRawTcp (then the rest
// is sent as is: a lying length prefix, a cut message). Counts the queries.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "dns/message.h"

namespace salvo::dns::testing {

struct ReceivedQuery {
  uint16_t id = 0;
  std::string name;
  RrType type = RrType::kA;
  std::string bytes;
  bool tcp = false;
};

inline constexpr std::string_view kRawTcp = "RAW:";

class ScriptedDnsServer {
 public:
  using Handler = std::function<std::vector<std::string>(const ReceivedQuery&)>;
  explicit ScriptedDnsServer(Handler handler);
  ~ScriptedDnsServer();
  ScriptedDnsServer(const ScriptedDnsServer&) = delete;
  ScriptedDnsServer& operator=(const ScriptedDnsServer&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int QueryCount(const std::string& name, RrType type) const;
  int TotalQueries() const;

 private:
  void Serve();
  std::vector<std::string> Handle(const char* data, size_t len, bool tcp);
  bool ServeTcp(int fd, std::string& buffer);

  Handler handler_;
  int fd_ = -1;
  int tcp_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, RrType>, int> counts_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace salvo::dns::testing
