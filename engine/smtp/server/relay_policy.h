// RelayPolicy: who may send mail to which recipients through a listener —
// the rule that keeps Salvo from ever being an open relay.
//
// A recipient is accepted when (in this order):
//  1. the client is authenticated (SMTP AUTH), or
//  2. the client's address is inside one of `relay_networks` (CIDRs such
//     as "10.0.0.0/8", "::1/128"; IPv4-mapped IPv6 clients match IPv4
//     ranges), or
//  3. the recipient's domain is one of `local_domains` (case-insensitive,
//     exact; the bounce domains of the MX listener), or the recipient is
//     one of `local_addresses` (the FBL addresses), or the recipient is
//     the bare "postmaster" (RFC 5321 §4.5.1).
// Otherwise RCPT gets 550 5.7.1 "Relay access denied".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/net/socket_address.h"

namespace salvo::smtp {

class NetworkRange {
 public:
  // "192.0.2.0/24", "2001:db8::/32", or a single address ("127.0.0.1").
  static absl::StatusOr<NetworkRange> Parse(std::string_view text);
  bool Contains(const SocketAddress& address) const;
  std::string ToString() const;

 private:
  int family_ = 0;             // AF_INET or AF_INET6
  unsigned char bytes_[16]{};  // network address, host bits cleared
  int prefix_ = 0;
};

struct RelayPolicy {
  std::vector<NetworkRange> relay_networks;
  std::vector<std::string> local_domains;
  std::vector<std::string> local_addresses;  // whole addresses, e.g. FBL ones

  bool ClientMayRelay(const SocketAddress& client) const;
  bool IsLocalDomain(std::string_view domain) const;
  // The whole rule above; `domain` is "" for <postmaster>; `address` is
  // the whole forward-path (for local_addresses).
  bool AcceptsRecipient(const SocketAddress& client, bool authenticated, std::string_view domain,
                        std::string_view address = {}) const;
};

}  // namespace salvo::smtp
