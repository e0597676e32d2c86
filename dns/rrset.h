// Rrset: what one question (name, type) resolved to, as the cache keeps it and
// as MX assembly consumes it. InterpretAnswer() turns a raw DNS answer into an
// Rrset: it follows CNAME chains inside the answer, classifies the result
// (data / no data / NXDOMAIN / temporary failure) and computes how long it may
// be cached: the smallest TTL of the records used, or for a negative answer
// min(SOA TTL, SOA MINIMUM) as RFC 2308 §5 says. I/O-free.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dns/ip_address.h"
#include "dns/message.h"
#include "engine/base/deadline.h"

namespace salvo::dns {

enum class RrsetKind {
  kData,              // records of the asked type
  kNoData,            // the name exists without records of that type
  kNxDomain,          // the name does not exist
  kTemporaryFailure,  // SERVFAIL, REFUSED, timeout, malformed answer, ...
};

struct MxRecord {
  uint16_t preference = 0;
  std::string exchange;  // "" for the root: a null MX (RFC 7505)
  friend bool operator==(const MxRecord&, const MxRecord&) = default;
};

struct Rrset {
  RrsetKind kind = RrsetKind::kTemporaryFailure;
  std::string name;                  // the name asked
  RrType type = RrType::kA;          // the type asked
  std::string canonical_name;        // where CNAMEs led (== name without CNAME)
  std::vector<MxRecord> mx;          // kData of an MX question
  std::vector<IpAddress> addresses;  // kData of an A/AAAA question
  uint32_t ttl = 0;                  // seconds it may be cached (0: not at all)
  std::string reason;                // for failures, e.g. "SERVFAIL"
  Deadline expires{};                // set by the resolver on arrival: now + ttl

  bool ok() const { return kind == RrsetKind::kData; }
};

// Caching policy (seconds). Negative answers live min(SOA TTL, SOA MINIMUM)
// (RFC 2308 §5). Those without an SOA (dnsmasq and some forwarders send
// none) live negative_ttl_without_soa: RFC 2308 says not to cache them, but
// a mail queue would then ask again for every recipient; 0 restores the RFC
// behaviour. SERVFAIL-like failures are kept briefly (§7.1 allows up to 5
// minutes) so that a broken domain is not asked again for every recipient.
struct TtlPolicy {
  uint32_t max_ttl = 86400;
  uint32_t max_negative_ttl = 3600;
  uint32_t negative_ttl_without_soa = 60;
  uint32_t temporary_failure_ttl = 5;
};

// Parses `wire` and interprets it as the answer to (name, type). A malformed
// answer is a temporary failure.
Rrset InterpretAnswer(std::span<const uint8_t> wire, std::string_view name, RrType type,
                      const TtlPolicy& policy);
Rrset InterpretMessage(const Message& message, std::string_view name, RrType type,
                       const TtlPolicy& policy);

// A failure that produced no answer to interpret (timeout, refused
// connection, resolver closing).
Rrset TemporaryFailure(std::string_view name, RrType type, std::string reason,
                       const TtlPolicy& policy);

}  // namespace salvo::dns
