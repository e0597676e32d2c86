#include "dns/mx_set.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "dns/domain_name.h"
#include "fmt/format.h"

namespace salvo::dns {
namespace {

std::string SiteOf(const std::vector<MxTarget>& targets) {
  std::vector<std::string> names;
  names.reserve(targets.size());
  for (const MxTarget& t : targets) names.push_back(t.host);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return absl::StrJoin(names, ",");
}

// Orders by preference and shuffles among equal preferences: shuffle, then a
// stable sort keeps the random order inside each preference.
void OrderTargets(std::vector<MxTarget>& targets, std::mt19937_64& rng) {
  std::shuffle(targets.begin(), targets.end(), rng);
  std::stable_sort(targets.begin(), targets.end(), [](const MxTarget& a, const MxTarget& b) {
    return a.preference < b.preference;
  });
}

absl::Status MxLookupFailure(std::string_view domain, const Rrset& mx) {
  if (mx.kind == RrsetKind::kNxDomain) {
    return absl::NotFoundError(fmt::format("domain {} does not exist (DNS: NXDOMAIN)", domain));
  }
  return absl::UnavailableError(
      fmt::format("MX lookup for {} failed temporarily: {}", domain, mx.reason));
}

// Appends the addresses of one family from `rrset` in random order (spreads
// load over a host's addresses like RFC 5321 §5.1 asks for equal MX).
void AppendShuffled(const Rrset* rrset, std::vector<IpAddress>& out, std::mt19937_64& rng) {
  if (rrset == nullptr || !rrset->ok()) return;
  size_t first = out.size();
  out.insert(out.end(), rrset->addresses.begin(), rrset->addresses.end());
  std::shuffle(out.begin() + first, out.end(), rng);
}

// Why a target has no address: "NXDOMAIN", "no A record", "SERVFAIL" ...
std::string NoAddressReason(const TargetAddresses& t, bool* temporary) {
  std::vector<std::string> reasons;
  for (const Rrset* r : {t.a.get(), t.aaaa.get()}) {
    if (r == nullptr) continue;
    if (r->kind == RrsetKind::kTemporaryFailure) *temporary = true;
    if (std::find(reasons.begin(), reasons.end(), r->reason) == reasons.end()) {
      reasons.push_back(r->reason);
    }
  }
  return absl::StrJoin(reasons, ", ");
}

void LowerExpiry(const Rrset* r, Deadline& expires) {
  if (r != nullptr) expires = std::min(expires, r->expires);
}

}  // namespace

uint64_t SiteId(std::string_view site) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : site) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

absl::StatusOr<MxPlan> PlanMxTargets(std::string_view domain, const Rrset& mx, size_t max_hosts,
                                     std::mt19937_64& rng) {
  MxPlan plan;
  if (mx.kind == RrsetKind::kNoData) {
    plan.implicit_mx = true;
    plan.targets.push_back(MxTarget{std::string(domain), 0});
    plan.site = std::string(domain);
    return plan;
  }
  if (mx.kind != RrsetKind::kData) return MxLookupFailure(domain, mx);
  // RFC 7505: a single MX with the root as exchange says "no mail here".
  if (mx.mx.size() == 1 && mx.mx[0].exchange.empty()) {
    return absl::FailedPreconditionError(
        fmt::format("domain {} does not accept mail (null MX, RFC 7505)", domain));
  }
  for (const MxRecord& r : mx.mx) {
    // A root exchange beside real ones breaks RFC 7505; use the real ones.
    if (r.exchange.empty() || !IsValidHostname(r.exchange)) continue;
    plan.targets.push_back(MxTarget{r.exchange, r.preference});
  }
  if (plan.targets.empty()) {
    return absl::UnavailableError(fmt::format("the MX records of {} name no valid host", domain));
  }
  plan.site = SiteOf(plan.targets);
  OrderTargets(plan.targets, rng);
  if (max_hosts > 0 && plan.targets.size() > max_hosts) plan.targets.resize(max_hosts);
  return plan;
}

absl::StatusOr<MxSet> AssembleMxSet(std::string_view domain, const Rrset& mx, const MxPlan& plan,
                                    std::span<const TargetAddresses> answers,
                                    IpPreference preference, std::mt19937_64& rng) {
  MxSet set;
  set.domain = std::string(domain);
  set.implicit_mx = plan.implicit_mx;
  set.ip_preference = preference;
  set.site = plan.site;
  set.site_id = SiteId(plan.site);
  set.expires = mx.expires;
  bool any_temporary = false;
  for (size_t i = 0; i < plan.targets.size() && i < answers.size(); ++i) {
    const TargetAddresses& t = answers[i];
    MxHost host{plan.targets[i].host, plan.targets[i].preference, {}};
    const Rrset* first = t.a.get();
    const Rrset* second = t.aaaa.get();
    if (preference == IpPreference::kPreferIpv6 || preference == IpPreference::kIpv6Only) {
      std::swap(first, second);
    }
    AppendShuffled(first, host.addresses, rng);
    AppendShuffled(second, host.addresses, rng);
    LowerExpiry(t.a.get(), set.expires);
    LowerExpiry(t.aaaa.get(), set.expires);
    if (host.addresses.empty()) {
      set.skipped_hosts.push_back(
          fmt::format("{}: {}", host.name, NoAddressReason(t, &any_temporary)));
      continue;
    }
    set.hosts.push_back(std::move(host));
  }
  if (!set.hosts.empty()) return set;
  std::string why = absl::StrJoin(set.skipped_hosts, "; ");
  if (any_temporary) {
    return absl::UnavailableError(fmt::format(
        "address lookup for the mail hosts of {} failed temporarily ({})", domain, why));
  }
  if (plan.implicit_mx) {
    return absl::NotFoundError(
        fmt::format("domain {} has no MX record and no address record", domain));
  }
  return absl::NotFoundError(fmt::format("no MX host of {} has an address ({})", domain, why));
}

}  // namespace salvo::dns
