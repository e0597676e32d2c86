// MX assembly: preference order with shuffling among equals, implicit MX,
// null MX, address order per IP preference, site identity, and the
// permanent/temporary split of failures.
#include "dns/mx_set.h"

#include <gtest/gtest.h>

#include <set>

#include "dns/outcome.h"

namespace salvo::dns {
namespace {

using namespace std::chrono_literals;

Rrset MxAnswer(std::vector<MxRecord> records, Deadline expires = Clock::now() + 300s) {
  Rrset r;
  r.kind = RrsetKind::kData;
  r.type = RrType::kMx;
  r.mx = std::move(records);
  r.expires = expires;
  return r;
}

Rrset Negative(RrsetKind kind, std::string reason) {
  Rrset r;
  r.kind = kind;
  r.reason = std::move(reason);
  r.expires = Clock::now() + 60s;
  return r;
}

std::shared_ptr<const Rrset> Addresses(std::vector<std::string> ips,
                                       Deadline expires = Clock::now() + 300s) {
  auto r = std::make_shared<Rrset>();
  r->kind = RrsetKind::kData;
  for (const std::string& ip : ips) r->addresses.push_back(*IpAddress::Parse(ip));
  r->expires = expires;
  return r;
}

std::shared_ptr<const Rrset> NoAddress(RrsetKind kind, std::string reason) {
  return std::make_shared<Rrset>(Negative(kind, std::move(reason)));
}

TEST(PlanMxTargets, SortsByPreferenceAndShufflesEqualOnes) {
  std::mt19937_64 rng(42);
  Rrset mx = MxAnswer({{20, "c.example"}, {10, "a.example"}, {10, "b.example"}, {30, "d.example"}});
  std::set<std::string> firsts;
  for (int i = 0; i < 200; ++i) {
    auto plan = PlanMxTargets("example.com", mx, 10, rng);
    ASSERT_TRUE(plan.ok()) << plan.status();
    ASSERT_EQ(plan->targets.size(), 4u);
    EXPECT_EQ(plan->targets[0].preference, 10);
    EXPECT_EQ(plan->targets[1].preference, 10);
    EXPECT_EQ(plan->targets[2].host, "c.example");
    EXPECT_EQ(plan->targets[3].host, "d.example");
    firsts.insert(plan->targets[0].host);
  }
  EXPECT_EQ(firsts, (std::set<std::string>{"a.example", "b.example"}));
}

TEST(PlanMxTargets, KeepsTheMostPreferredWhenLimited) {
  std::mt19937_64 rng(1);
  Rrset mx = MxAnswer({{30, "c.example"}, {10, "a.example"}, {20, "b.example"}});
  auto plan = PlanMxTargets("example.com", mx, 2, rng);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->targets.size(), 2u);
  EXPECT_EQ(plan->targets[1].host, "b.example");
  EXPECT_EQ(plan->site, "a.example,b.example,c.example");  // site from all hosts
}

TEST(PlanMxTargets, NoMxMeansImplicitMx) {
  std::mt19937_64 rng(1);
  auto plan = PlanMxTargets("example.com", Negative(RrsetKind::kNoData, "no MX record"), 10, rng);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->implicit_mx);
  ASSERT_EQ(plan->targets.size(), 1u);
  EXPECT_EQ(plan->targets[0].host, "example.com");
}

TEST(PlanMxTargets, NullMxIsPermanent) {
  std::mt19937_64 rng(1);
  auto plan = PlanMxTargets("example.com", MxAnswer({{0, ""}}), 10, rng);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsPermanentDnsFailure(plan.status()));
  EXPECT_EQ(DnsEnhancedStatusCode(plan.status()), "5.1.10");
  EXPECT_NE(plan.status().message().find("null MX"), absl::string_view::npos);
}

TEST(PlanMxTargets, NullMxBesideRealOnesIsIgnored) {
  std::mt19937_64 rng(1);
  auto plan = PlanMxTargets("example.com", MxAnswer({{0, ""}, {10, "mx.example.com"}}), 10, rng);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->targets.size(), 1u);
  EXPECT_EQ(plan->targets[0].host, "mx.example.com");
}

TEST(PlanMxTargets, NxDomainIsPermanentServerFailureTemporary) {
  std::mt19937_64 rng(1);
  auto nx = PlanMxTargets("nx.example", Negative(RrsetKind::kNxDomain, "NXDOMAIN"), 10, rng);
  EXPECT_EQ(nx.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsPermanentDnsFailure(nx.status()));
  EXPECT_EQ(DnsEnhancedStatusCode(nx.status()), "5.1.2");
  auto temp = PlanMxTargets("example.com",
                            Negative(RrsetKind::kTemporaryFailure, "DNS server answered SERVFAIL"),
                            10, rng);
  EXPECT_EQ(temp.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(IsPermanentDnsFailure(temp.status()));
  EXPECT_EQ(DnsEnhancedStatusCode(temp.status()), "4.4.3");
  EXPECT_NE(temp.status().message().find("SERVFAIL"), absl::string_view::npos);
}

TEST(PlanMxTargets, InvalidExchangeNamesAreSkipped) {
  std::mt19937_64 rng(1);
  auto only_bad = PlanMxTargets("example.com", MxAnswer({{10, "a\\032b.example"}}), 10, rng);
  EXPECT_EQ(only_bad.status().code(), absl::StatusCode::kUnavailable);
}

TEST(AssembleMxSet, AddressOrderFollowsIpPreference) {
  std::mt19937_64 rng(7);
  Rrset mx = MxAnswer({{10, "mx.example.com"}});
  auto plan = PlanMxTargets("example.com", mx, 10, rng);
  ASSERT_TRUE(plan.ok());
  std::vector<TargetAddresses> answers = {{Addresses({"192.0.2.1"}), Addresses({"2001:db8::1"})}};
  auto v4 = AssembleMxSet("example.com", mx, *plan, answers, IpPreference::kPreferIpv4, rng);
  ASSERT_TRUE(v4.ok());
  ASSERT_EQ(v4->hosts[0].addresses.size(), 2u);
  EXPECT_TRUE(v4->hosts[0].addresses[0].is_v4());
  auto v6 = AssembleMxSet("example.com", mx, *plan, answers, IpPreference::kPreferIpv6, rng);
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->hosts[0].addresses[0].is_v6());
  std::vector<TargetAddresses> only6 = {{nullptr, Addresses({"2001:db8::1"})}};
  auto six = AssembleMxSet("example.com", mx, *plan, only6, IpPreference::kIpv6Only, rng);
  ASSERT_TRUE(six.ok());
  EXPECT_EQ(six->hosts[0].addresses.size(), 1u);
  EXPECT_EQ(six->ip_preference, IpPreference::kIpv6Only);
}

TEST(AssembleMxSet, SiteIsSharedByDomainsWithTheSameHosts) {
  std::mt19937_64 rng(7);
  Rrset one = MxAnswer({{10, "mx1.host.net"}, {20, "mx2.host.net"}});
  Rrset two = MxAnswer({{5, "mx2.host.net"}, {5, "mx1.host.net"}});
  auto p1 = PlanMxTargets("one.example", one, 10, rng);
  auto p2 = PlanMxTargets("two.example", two, 10, rng);
  std::vector<TargetAddresses> answers = {{Addresses({"192.0.2.1"}), nullptr},
                                          {Addresses({"192.0.2.2"}), nullptr}};
  auto s1 = AssembleMxSet("one.example", one, *p1, answers, IpPreference::kIpv4Only, rng);
  auto s2 = AssembleMxSet("two.example", two, *p2, answers, IpPreference::kIpv4Only, rng);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(s1->site, "mx1.host.net,mx2.host.net");
  EXPECT_EQ(s1->site_id, s2->site_id);
  EXPECT_EQ(s1->site_id, SiteId("mx1.host.net,mx2.host.net"));
  EXPECT_EQ(SiteId(""), 0xcbf29ce484222325ull);  // FNV-1a offset basis: stable by definition
}

TEST(AssembleMxSet, SkipsHostsWithoutAddressAndTakesEarliestExpiry) {
  std::mt19937_64 rng(7);
  Deadline soon = Clock::now() + 10s;
  Rrset mx = MxAnswer({{10, "mx1.example.com"}, {20, "mx2.example.com"}});
  auto plan = PlanMxTargets("example.com", mx, 10, rng);
  std::vector<TargetAddresses> answers = {
      {NoAddress(RrsetKind::kNxDomain, "NXDOMAIN"), NoAddress(RrsetKind::kNxDomain, "NXDOMAIN")},
      {Addresses({"192.0.2.2"}, soon), NoAddress(RrsetKind::kNoData, "no AAAA record")}};
  auto set = AssembleMxSet("example.com", mx, *plan, answers, IpPreference::kPreferIpv4, rng);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->hosts.size(), 1u);
  EXPECT_EQ(set->hosts[0].name, "mx2.example.com");
  EXPECT_EQ(set->expires, soon);
  ASSERT_EQ(set->skipped_hosts.size(), 1u);
  EXPECT_EQ(set->skipped_hosts[0], "mx1.example.com: NXDOMAIN");
}

TEST(AssembleMxSet, NoAddressAnywhereIsPermanentUnlessALookupFailedTemporarily) {
  std::mt19937_64 rng(7);
  Rrset mx = MxAnswer({{10, "mx1.example.com"}});
  auto plan = PlanMxTargets("example.com", mx, 10, rng);
  std::vector<TargetAddresses> gone = {{NoAddress(RrsetKind::kNxDomain, "NXDOMAIN"), nullptr}};
  auto perm = AssembleMxSet("example.com", mx, *plan, gone, IpPreference::kIpv4Only, rng);
  EXPECT_EQ(perm.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(perm.status().message().find("mx1.example.com: NXDOMAIN"), absl::string_view::npos);
  std::vector<TargetAddresses> flaky = {
      {NoAddress(RrsetKind::kTemporaryFailure, "no answer from the DNS servers (timeout)"),
       NoAddress(RrsetKind::kNoData, "no AAAA record")}};
  auto temp = AssembleMxSet("example.com", mx, *plan, flaky, IpPreference::kPreferIpv4, rng);
  EXPECT_EQ(temp.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(temp.status().message().find("timeout"), absl::string_view::npos);
}

TEST(AssembleMxSet, ImplicitMxWithoutAddressIsPermanent) {
  std::mt19937_64 rng(7);
  Rrset none = Negative(RrsetKind::kNoData, "no MX record");
  auto plan = PlanMxTargets("example.com", none, 10, rng);
  std::vector<TargetAddresses> answers = {{NoAddress(RrsetKind::kNoData, "no A record"),
                                           NoAddress(RrsetKind::kNoData, "no AAAA record")}};
  auto set = AssembleMxSet("example.com", none, *plan, answers, IpPreference::kPreferIpv4, rng);
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(set.status().message().find("no MX record and no address"), absl::string_view::npos);
}

}  // namespace
}  // namespace salvo::dns
