#include "engine/smtp/server/relay_policy.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "engine/base/strings.h"
#include "fmt/format.h"

namespace salvo::smtp {
namespace {

bool PrefixMatches(const unsigned char* a, const unsigned char* b, int prefix) {
  int full = prefix / 8;
  if (std::memcmp(a, b, full) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

absl::StatusOr<NetworkRange> NetworkRange::Parse(std::string_view text) {
  NetworkRange r;
  size_t slash = text.find('/');
  std::string addr(text.substr(0, slash));
  if (inet_pton(AF_INET, addr.c_str(), r.bytes_) == 1) {
    r.family_ = AF_INET;
  } else if (inet_pton(AF_INET6, addr.c_str(), r.bytes_) == 1) {
    r.family_ = AF_INET6;
  } else {
    return absl::InvalidArgumentError(fmt::format("\"{}\" is not an IP network", text));
  }
  int max = r.family_ == AF_INET ? 32 : 128;
  r.prefix_ = max;
  if (slash != std::string_view::npos &&
      (!absl::SimpleAtoi(ToAbsl(text.substr(slash + 1)), &r.prefix_) || r.prefix_ < 0 ||
       r.prefix_ > max)) {
    return absl::InvalidArgumentError(fmt::format("\"{}\": prefix must be 0 to {}", text, max));
  }
  // Clear the host bits so that Contains() compares networks.
  for (int bit = r.prefix_; bit < max; ++bit) r.bytes_[bit / 8] &= ~(0x80 >> (bit % 8));
  return r;
}

bool NetworkRange::Contains(const SocketAddress& address) const {
  const sockaddr* sa = address.sa();
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    if (family_ != AF_INET) return false;
    return PrefixMatches(reinterpret_cast<const unsigned char*>(&in->sin_addr), bytes_, prefix_);
  }
  if (sa->sa_family != AF_INET6) return false;
  auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  const unsigned char* b = in6->sin6_addr.s6_addr;
  if (family_ == AF_INET6) return PrefixMatches(b, bytes_, prefix_);
  // ::ffff:a.b.c.d against an IPv4 range.
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, kMapped, 12) == 0 && PrefixMatches(b + 12, bytes_, prefix_);
}

std::string NetworkRange::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_, bytes_, buf, sizeof buf);
  return fmt::format("{}/{}", buf, prefix_);
}

bool RelayPolicy::ClientMayRelay(const SocketAddress& client) const {
  for (const NetworkRange& n : relay_networks) {
    if (n.Contains(client)) return true;
  }
  return false;
}

bool RelayPolicy::IsLocalDomain(std::string_view domain) const {
  for (const std::string& d : local_domains) {
    if (absl::EqualsIgnoreCase(d, ToAbsl(domain))) return true;
  }
  return false;
}

bool RelayPolicy::AcceptsRecipient(const SocketAddress& client, bool authenticated,
                                   std::string_view domain, std::string_view address) const {
  if (authenticated || ClientMayRelay(client)) return true;
  if (domain.empty() || IsLocalDomain(domain)) return true;
  for (const std::string& a : local_addresses) {
    if (absl::EqualsIgnoreCase(a, ToAbsl(address))) return true;
  }
  return false;
}

}  // namespace salvo::smtp
