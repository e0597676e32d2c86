// MxSet: where mail for one domain goes, as the delivery engine consumes it:
// the MX hosts in the order to try them (RFC 5321 §5.1: by preference,
// random among equal preferences), each with its addresses in the order of
// the configured IP family preference, and a "site" identity shared by every
// domain whose MX hosts are the same (hash of the sorted host names), so that
// shaping can count connections per receiving site rather than per domain.
//
// Built in two I/O-free steps around the address lookups:
//   PlanMxTargets():  MX answer -> hosts to look up (or implicit MX, or a
//                     failure: NXDOMAIN, null MX, temporary);
//   AssembleMxSet():  their A/AAAA answers -> MxSet (or a failure).
// Failure statuses follow dns/outcome.h.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "dns/ip_address.h"
#include "dns/rrset.h"
#include "engine/base/deadline.h"

namespace salvo::dns {

enum class IpPreference { kIpv4Only, kIpv6Only, kPreferIpv4, kPreferIpv6 };
inline bool WantsIpv4(IpPreference p) { return p != IpPreference::kIpv6Only; }
inline bool WantsIpv6(IpPreference p) { return p != IpPreference::kIpv4Only; }

struct MxHost {
  std::string name;  // A-label, lower case, no trailing dot
  uint16_t preference = 0;
  std::vector<IpAddress> addresses;  // in the order to connect; never empty
};

struct MxSet {
  std::string domain;
  std::vector<MxHost> hosts;  // in the order to try; hosts without address left out
  bool implicit_mx = false;   // no MX record: the domain's own A/AAAA (RFC 5321 §5.1)
  IpPreference ip_preference = IpPreference::kPreferIpv4;
  std::string site;                        // sorted distinct MX host names, ','-joined
  uint64_t site_id = 0;                    // FNV-1a 64 of `site`: stable across processes
  Deadline expires{};                      // earliest expiry of the records used
  std::vector<std::string> skipped_hosts;  // "mx3.example.com: NXDOMAIN", for logs
};

struct MxTarget {
  std::string host;
  uint16_t preference = 0;
};

struct MxPlan {
  std::vector<MxTarget> targets;  // in the order to try
  bool implicit_mx = false;
  std::string site;
};

// From the MX answer for `domain` to the hosts whose addresses are needed: at
// most `max_hosts`, the most preferred first.
absl::StatusOr<MxPlan> PlanMxTargets(std::string_view domain, const Rrset& mx, size_t max_hosts,
                                     std::mt19937_64& rng);

// The A and AAAA answers for one target; either is null when the IP
// preference excludes its family.
struct TargetAddresses {
  std::shared_ptr<const Rrset> a;
  std::shared_ptr<const Rrset> aaaa;
};

// `answers[i]` belongs to `plan.targets[i]`.
absl::StatusOr<MxSet> AssembleMxSet(std::string_view domain, const Rrset& mx, const MxPlan& plan,
                                    std::span<const TargetAddresses> answers,
                                    IpPreference preference, std::mt19937_64& rng);

// FNV-1a 64 of `site` (stable across runs and machines).
uint64_t SiteId(std::string_view site);

}  // namespace salvo::dns
