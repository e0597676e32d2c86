// SocketAddress: an IPv4 or IPv6 address with a port, parsed from and printed
// as "127.0.0.1:25" / "[::1]:25".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace salvo {

class SocketAddress {
 public:
  SocketAddress() = default;
  // "1.2.3.4:25", "[::1]:25"; a bare address when `default_port` >= 0.
  static absl::StatusOr<SocketAddress> Parse(std::string_view text, int default_port = -1);
  static SocketAddress FromSockaddr(const sockaddr* sa, socklen_t len);

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* mutable_sa() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t len() const { return len_; }
  socklen_t* mutable_len() { return &len_; }
  int family() const { return storage_.ss_family; }
  int port() const;
  void set_port(int port);
  std::string HostString() const;  // "1.2.3.4" / "::1"
  std::string ToString() const;    // "1.2.3.4:25" / "[::1]:25"
  bool IsLoopback() const;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

}  // namespace salvo
