#include "dns/rrset.h"

#include <algorithm>

#include "fmt/format.h"

namespace salvo::dns {
namespace {

constexpr int kMaxCnameHops = 16;

// RFC 2308 §5: the negative TTL is the smaller of the SOA record's TTL and
// its MINIMUM field.
uint32_t NegativeTtl(const Message& m, const TtlPolicy& policy) {
  for (const ResourceRecord& rr : m.authority) {
    if (rr.type == RrType::kSoa && rr.rr_class == kClassIn) {
      return std::min({rr.ttl, rr.soa_minimum, policy.max_negative_ttl});
    }
  }
  return policy.negative_ttl_without_soa;
}

Rrset Base(std::string_view name, RrType type) {
  Rrset r;
  r.name = std::string(name);
  r.type = type;
  r.canonical_name = r.name;
  return r;
}

// Follows CNAMEs from `name` through the answer section; returns the final
// owner name and lowers `*ttl` to the smallest CNAME TTL used.
absl::StatusOr<std::string> FollowCnames(const Message& m, std::string_view name, RrType type,
                                         uint32_t* ttl) {
  std::string current(name);
  if (type == RrType::kCname) return current;
  for (int hops = 0;; ++hops) {
    const ResourceRecord* cname = nullptr;
    for (const ResourceRecord& rr : m.answers) {
      if (rr.type == RrType::kCname && rr.rr_class == kClassIn && rr.name == current) {
        cname = &rr;
        break;
      }
    }
    if (cname == nullptr) return current;
    if (hops == kMaxCnameHops) return absl::DataLossError("CNAME chain too long or looping");
    *ttl = std::min(*ttl, cname->ttl);
    current = cname->target;
  }
}

}  // namespace

Rrset TemporaryFailure(std::string_view name, RrType type, std::string reason,
                       const TtlPolicy& policy) {
  Rrset r = Base(name, type);
  r.kind = RrsetKind::kTemporaryFailure;
  r.reason = std::move(reason);
  r.ttl = policy.temporary_failure_ttl;
  return r;
}

Rrset InterpretMessage(const Message& m, std::string_view name, RrType type,
                       const TtlPolicy& policy) {
  if (!m.is_response) return TemporaryFailure(name, type, "DNS message is not a response", policy);
  if (m.question_name != name || m.question_type != type) {
    return TemporaryFailure(name, type, "DNS answer is for another question", policy);
  }
  if (m.truncated) return TemporaryFailure(name, type, "truncated DNS answer", policy);
  if (m.rcode == Rcode::kNxDomain) {
    Rrset r = Base(name, type);
    r.kind = RrsetKind::kNxDomain;
    r.reason = "NXDOMAIN";
    r.ttl = NegativeTtl(m, policy);
    return r;
  }
  if (m.rcode != Rcode::kNoError) {
    return TemporaryFailure(name, type, fmt::format("DNS server answered {}", RcodeName(m.rcode)),
                            policy);
  }
  Rrset r = Base(name, type);
  uint32_t ttl = policy.max_ttl;
  auto canonical = FollowCnames(m, name, type, &ttl);
  if (!canonical.ok()) {
    return TemporaryFailure(name, type, std::string(canonical.status().message()), policy);
  }
  r.canonical_name = std::move(*canonical);
  for (const ResourceRecord& rr : m.answers) {
    if (rr.type != type || rr.rr_class != kClassIn || rr.name != r.canonical_name) continue;
    ttl = std::min(ttl, rr.ttl);
    if (type == RrType::kMx) {
      MxRecord mx{rr.preference, rr.target};
      if (std::find(r.mx.begin(), r.mx.end(), mx) == r.mx.end()) r.mx.push_back(std::move(mx));
    } else if (type == RrType::kA || type == RrType::kAaaa) {
      if (std::find(r.addresses.begin(), r.addresses.end(), rr.address) == r.addresses.end()) {
        r.addresses.push_back(rr.address);
      }
    }
  }
  if (r.mx.empty() && r.addresses.empty()) {
    r.kind = RrsetKind::kNoData;
    r.reason = fmt::format("no {} record", RrTypeName(type));
    r.ttl = NegativeTtl(m, policy);
    return r;
  }
  r.kind = RrsetKind::kData;
  r.ttl = ttl;
  return r;
}

Rrset InterpretAnswer(std::span<const uint8_t> wire, std::string_view name, RrType type,
                      const TtlPolicy& policy) {
  auto message = ParseMessage(wire);
  if (!message.ok()) {
    return TemporaryFailure(name, type, std::string(message.status().message()), policy);
  }
  return InterpretMessage(*message, name, type, policy);
}

}  // namespace salvo::dns
