// ResolverOptions: everything the resolver of a shard can be told. A plain
// struct: the config module maps its TOML section onto it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dns/mx_set.h"

namespace salvo::dns {

struct ResolverOptions {
  // DNS servers as "192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53" or
  // "2001:db8::53". Empty: the nameservers of `resolv_conf`.
  std::vector<std::string> servers;
  std::string resolv_conf = "/etc/resolv.conf";

  std::chrono::milliseconds timeout{2000};  // per try, per server
  int tries = 2;                            // per server

  IpPreference ip_preference = IpPreference::kPreferIpv4;
  size_t max_mx_hosts = 10;  // MX hosts whose addresses are looked up, most preferred first

  size_t cache_entries = 100'000;  // (name, type) answers, positive and negative
  std::chrono::seconds max_ttl{86400};
  std::chrono::seconds max_negative_ttl{3600};
  std::chrono::seconds negative_ttl_without_soa{60};  // see TtlPolicy in dns/rrset.h
  std::chrono::seconds temporary_failure_ttl{5};

  // Queries on the wire at once per shard; the rest wait in FIFO order. Keeps
  // a burst of new domains from overflowing the DNS server's socket buffer
  // (256 at once lost datagrams against a local dnsmasq on a busy 2-core
  // machine: see docs/benchmarks/dns.md) and c-ares' per-query work small.
  size_t max_inflight_queries = 64;
  uint16_t edns_payload_size = 1232;  // 0: no EDNS0
};

}  // namespace salvo::dns
