// IpAddress: an IPv4 or IPv6 address as DNS returns it (A / AAAA), without a
// port. dns/ depends on engine/base and engine/loop only, so it carries its
// own small address type; the delivery engine turns one into a SocketAddress
// with ToSockaddr() and the port it connects to.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace salvo::dns {

class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0
  static IpAddress V4(const uint8_t bytes[4]);
  static IpAddress V6(const uint8_t bytes[16]);
  // "192.0.2.1" or "2001:db8::1"; nullopt for anything else.
  static std::optional<IpAddress> Parse(std::string_view text);

  bool is_v4() const { return family_ == AF_INET; }
  bool is_v6() const { return family_ == AF_INET6; }
  int family() const { return family_; }
  // 4 meaningful bytes for IPv4, 16 for IPv6.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }

  std::string ToString() const;  // "192.0.2.1" / "2001:db8::1"
  // Fills `out` with this address and `port`; returns the length to pass to
  // connect().
  socklen_t ToSockaddr(uint16_t port, sockaddr_storage* out) const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family_ == b.family_ && a.bytes_ == b.bytes_;
  }
  friend bool operator!=(const IpAddress& a, const IpAddress& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& a) {
    return H::combine(std::move(h), a.family_, a.bytes_);
  }

 private:
  int family_ = AF_INET;
  std::array<uint8_t, 16> bytes_{};
};

}  // namespace salvo::dns
